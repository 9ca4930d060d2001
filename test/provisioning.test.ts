import assert from 'node:assert/strict';
import { restrictedSipPassword } from '../src/domain/pap';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { ACCOUNT, credentialIn, ProvisioningFixture, request, TENANT_SECRETS } from './support/http';

const YEALINK_MAC = '001565aabbcc';
const UA = 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc';

describe('provisioning: decision paths', () => {
  const f = new ProvisioningFixture();
  before(() => f.start());
  after(() => f.stop());
  beforeEach(async () => {
    await f.redis.flush();
    f.clock = Date.now();
  });

  const get = (path: string, from: string, headers: Record<string, string> = { 'user-agent': UA }) =>
    request(f.port, path, { from, headers });
  const lastProvisioning = async (mac: string) =>
    (await f.store.events('acme', 50, undefined, 'traffic')).find(
      (e) => e.type === 'provisioning' && e.mac === mac,
    );

  it('serves the minimal configuration ("Dial *89 to authenticate") and nothing of the tenant', async () => {
    const d = await f.device('yealink', 'T54W', YEALINK_MAC);
    const res = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.2');
    assert.equal(res.status, 200);
    assert.match(res.body, /account\.1\.label = Dial \*89 to authenticate/);
    assert.match(res.body, new RegExp(`account\\.1\\.user_name = ${YEALINK_MAC}`));
    assert.ok(
      res.body.includes(`account.1.password = ${restrictedSipPassword(d.sipPassword, '127.0.0.2', true)}`),
    );
    assert.match(res.body, /features\.hotline_number = \*89/);
    assert.match(res.body, /phone_setting\.emergency\.number = 112,110,911/);
    assert.match(res.body, /static\.auto_provision\.server\.url = http:\/\/prov\.papgate\.test:8081\/\n/);
    assert.match(res.body, /static\.auto_provision\.repeat\.minutes = 5\n/);
    for (const s of TENANT_SECRETS) assert.ok(!res.body.includes(s), `minimal config leaks ${s}`);
    assert.equal(credentialIn(res.body), null);
    const ev = await lastProvisioning(YEALINK_MAC);
    assert.equal(ev?.outcome, 'minimal');
    assert.equal(ev?.reason, 'needed');
    assert.equal(ev?.ip, '127.0.0.2');
    // Another address gets another password, and the fetch rotated nothing: the first still holds.
    const elsewhere = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.3');
    assert.ok(
      elsewhere.body.includes(
        `account.1.password = ${restrictedSipPassword(d.sipPassword, '127.0.0.3', true)}`,
      ),
    );
    assert.ok(!elsewhere.body.includes(restrictedSipPassword(d.sipPassword, '127.0.0.2', true)));
    assert.equal((await f.store.findDevice(d.mac))!.sipPassword, d.sipPassword);
  });

  it('says "Locked until" while the device is locked, and "needed" again when the lock ran out', async () => {
    const d = await f.device('yealink', 'T54W', YEALINK_MAC);
    const wrong = d.pap === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) await f.store.attemptPap(d.mac, wrong, '198.51.100.1', 'test', 'api');
    let res = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.2');
    assert.match(res.body, /Locked until [^<\n]*[0-9]{2}:[0-9]{2}/);
    assert.equal((await lastProvisioning(YEALINK_MAC))?.reason, 'failed');
    f.clock += 1500; // FAST_POLICY.failedLockSeconds = 1
    res = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.2');
    assert.match(res.body, /Dial \*89 to authenticate/);
  });

  it('serves the full configuration to an IP inside a permanent whitelist CIDR, then by credential', async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.0/30'), 'test');
    const res = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.3');
    assert.equal(res.status, 200);
    assert.ok(res.body.includes(`account.1.password = ${ACCOUNT.password}`));
    assert.ok(res.body.includes(`account.1.user_name = ${ACCOUNT.user}`));
    assert.ok(res.body.includes(`account.1.auth_name = ${ACCOUNT.authUser}`));
    assert.ok(res.body.includes('account.1.sip_server.1.address = sip.acme.example'));
    assert.ok(res.body.includes('account.1.sip_server.1.port = 5080'));
    assert.match(res.body, /features\.hotline_number = %NULL%/);
    assert.match(res.body, /static\.auto_provision\.repeat\.minutes = 300\n/);
    const cred = credentialIn(res.body);
    assert.ok(cred, 'full config carries the credential in the provisioning URL');
    assert.ok(res.body.includes(`static.auto_provision.server.username = ${YEALINK_MAC}`));
    assert.ok(res.body.includes(`static.auto_provision.server.password = ${cred}`));
    const dev = await f.store.findDevice(YEALINK_MAC as never);
    assert.equal(dev?.state, 'successful');
    assert.equal(dev?.authenticatedVia, 'whitelist');
    assert.equal((await lastProvisioning(YEALINK_MAC))?.reason, 'whitelist');

    // Outside the /30: minimal for a second device.
    await f.device('yealink', 'T54W', '001565aabbcd');
    const outside = await get('/001565aabbcd.cfg', '127.0.0.9', {});
    assert.match(outside.body, /Dial \*89 to authenticate/);

    // The phone comes back with its credential from anywhere.
    await f.store.removeWhitelist('acme', parseWhitelistEntry('127.0.0.0/30'), 'test');
    const again = await get(`/d/${cred}/${YEALINK_MAC}.cfg`, '127.0.0.10');
    assert.equal(again.status, 200);
    assert.equal(credentialIn(again.body), cred, 'reason credential re-emits the presented credential');
    assert.equal((await lastProvisioning(YEALINK_MAC))?.reason, 'credential');
    // ... or as HTTP basic credentials (user = MAC, password = credential).
    const basic = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.15', {
      'user-agent': UA,
      authorization: `Basic ${Buffer.from(`001565AABBCC:${cred}`).toString('base64')}`,
    });
    assert.equal(basic.status, 200);
    assert.equal(credentialIn(basic.body), cred);
  });

  it('refuses a wrong credential with 403 and an audit event; reset rotates the credential', async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.3'), 'test');
    const cred = credentialIn((await get(`/${YEALINK_MAC}.cfg`, '127.0.0.3')).body)!;
    const wrong = await get(`/d/${'0'.repeat(32)}/${YEALINK_MAC}.cfg`, '127.0.0.4');
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body, 'Forbidden');
    const ev = await lastProvisioning(YEALINK_MAC);
    assert.equal(ev?.outcome, 'refused');
    assert.equal(ev?.reason, 'wrong_credential');

    assert.equal((await get(`/d/${cred}/${YEALINK_MAC}.cfg`, '127.0.0.4')).status, 200);
    await f.store.resetDevice('acme', YEALINK_MAC as never, 'test');
    const old = await get(`/d/${cred}/${YEALINK_MAC}.cfg`, '127.0.0.4');
    assert.equal(old.status, 403, 'the old credential is revoked by a reset');
    // Even from the whitelisted IP: the phone must be factory-reset.
    assert.equal((await get(`/d/${cred}/${YEALINK_MAC}.cfg`, '127.0.0.3')).status, 403);
    // Without the credential the whitelist issues a new one.
    const fresh = credentialIn((await get(`/${YEALINK_MAC}.cfg`, '127.0.0.3')).body);
    assert.ok(fresh && fresh !== cred);
  });

  it('serves full while a suspension is active, minimal after it ran out', async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    await f.store.suspendDevice('acme', YEALINK_MAC as never, 'test');
    const res = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.2');
    assert.ok(res.body.includes(ACCOUNT.password));
    assert.equal((await lastProvisioning(YEALINK_MAC))?.reason, 'suspension');
    assert.equal(
      (await f.store.findDevice(YEALINK_MAC as never))?.suspendedUntil,
      null,
      'a suspension ends with the fetch it let in',
    );
    await f.store.resetDevice('acme', YEALINK_MAC as never, 'test');
    await f.store.suspendDevice('acme', YEALINK_MAC as never, 'test');
    f.clock += 1500; // FAST_POLICY.suspendSeconds = 1
    const after = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.14'); // 127.0.0.2 is on the temporary whitelist now
    assert.match(after.body, /Dial \*89 to authenticate/);
  });

  it("a suspension bound to the phone's network: a stranger polling the MAC from elsewhere cannot take the file", async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    await f.store.suspendDevice('acme', YEALINK_MAC as never, 'test', '127.0.0.5');
    // The drill: 300 GETs of a known MAC in under two seconds, from another address.
    for (let i = 0; i < 300; i++) {
      const res = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.9');
      assert.equal(res.status, 200);
      assert.ok(!res.body.includes(ACCOUNT.password), `request ${i}: the stranger got the full file`);
    }
    const device = await f.store.findDevice(YEALINK_MAC as never);
    assert.equal(device?.state, 'needed');
    assert.ok(device?.suspendedUntil, 'the suspension still waits for the phone');
    const phone = await get(`/${YEALINK_MAC}.cfg`, '127.0.0.5');
    assert.ok(phone.body.includes(ACCOUNT.password));
    assert.ok(credentialIn(phone.body));
    const after = await f.store.findDevice(YEALINK_MAC as never);
    // (the traffic events of 127.0.0.0/24 ran out with the stranger's polling; the record says it)
    assert.deepEqual(
      [after?.authenticatedVia, after?.lastProvisioning?.outcome],
      ['suspension', 'full:suspension'],
    );
    assert.deepEqual(
      [after?.suspendedUntil, after?.suspensionNetwork],
      [null, null],
      'ended with the fetch it let in',
    );
  });

  it('temporary whitelist: a PAP success trusts the IP for the tenant, extended by each full provisioning, not for blocked devices, and it expires', async () => {
    const a = await f.device('yealink', 'T54W', YEALINK_MAC);
    const b = await f.device('yealink', 'T54W', '001565aabbcd');
    const blocked = await f.device('yealink', 'T54W', '001565aabbce');
    await f.device('yealink', 'T54W', '001565aabbcf', { tenant: 'other' });
    const wrong = blocked.pap === '000000' ? '111111' : '000000';
    for (let i = 0; i < 9; i++) {
      await f.store.attemptPap(blocked.mac, wrong, null, 'test', 'api');
      f.clock += 1100; // let each lock run out so the total limit is reached
    }
    assert.equal((await f.store.findDevice(blocked.mac))?.state, 'blocked');

    const t0 = f.clock;
    const ok = await f.store.attemptPap(a.mac, a.pap, '127.0.0.5', 'test', 'ivr');
    assert.equal(ok.outcome, 'successful');
    const full = await get('/001565aabbcd.cfg', '127.0.0.5', {});
    assert.ok(full.body.includes(ACCOUNT.password));
    assert.equal((await lastProvisioning(b.mac))?.reason, 'temporary_whitelist');
    assert.match(
      (await get('/001565aabbce.cfg', '127.0.0.5', {})).body,
      /Blocked - call your admin/,
      'never for a blocked device',
    );
    assert.match(
      (await get('/001565aabbcf.cfg', '127.0.0.5', {})).body,
      /Dial \*89 to authenticate/,
      'scoped to the tenant',
    );

    // Extension: a full provisioning at +1.5 s moves the expiry to +3.5 s (tempWhitelistSeconds = 2).
    await f.store.resetDevice('acme', b.mac, 'test');
    f.clock = t0 + 1500;
    assert.ok((await get('/001565aabbcd.cfg', '127.0.0.5', {})).body.includes(ACCOUNT.password));
    assert.deepEqual(
      (await f.store.temporaryWhitelist('acme')).map((e) => e.expiresAt),
      [t0 + 3500],
    );
    await f.store.resetDevice('acme', b.mac, 'test');
    f.clock = t0 + 3000;
    assert.ok(
      (await get('/001565aabbcd.cfg', '127.0.0.5', {})).body.includes(ACCOUNT.password),
      'still trusted thanks to the extension',
    );
    await f.store.resetDevice('acme', b.mac, 'test');
    f.clock = t0 + 3000 + 2100;
    assert.match(
      (await get('/001565aabbcd.cfg', '127.0.0.5', {})).body,
      /Dial \*89 to authenticate/,
      'expired',
    );
  });

  it('refuses (403, audited) a User-Agent with another MAC, vendor or model; a missing one is fine', async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    const path = `/${YEALINK_MAC}.cfg`;
    for (const ua of [
      'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cd',
      'Mozilla/4.0 (compatible; snom710-SIP 10.1.54.13)',
      'Yealink SIP-T46U 108.86.0.20 00:15:65:aa:bb:cc',
    ]) {
      const res = await get(path, '127.0.0.2', { 'user-agent': ua });
      assert.equal(res.status, 403, ua);
      const ev = await lastProvisioning(YEALINK_MAC);
      assert.equal(ev?.outcome, 'refused');
      assert.equal(ev?.reason, 'user_agent_mismatch');
    }
    assert.equal((await get(path, '127.0.0.2', {})).status, 200);
    assert.equal((await get(path, '127.0.0.2', { 'user-agent': 'curl/8.0' })).status, 200);
    assert.equal(
      (await get(path, '127.0.0.2', { 'user-agent': 'Yealink SIP-T54W 96.86.0.70 00:15:65:AA:BB:CC' }))
        .status,
      200,
    );
  });

  it("answers every 404 the same way (unknown MAC, unknown path, another vendor's file name)", async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    const answers = await Promise.all(
      [
        '/001565000000.cfg',
        '/nothing-here',
        '/',
        `/snom710-${YEALINK_MAC.toUpperCase()}.htm`,
        `/cfg${YEALINK_MAC}.xml`,
        `/${YEALINK_MAC}-phone.cfg`,
        `/d/${'a'.repeat(32)}/001565000000.cfg`,
      ].map((p, i) => get(p, `127.0.0.${30 + i}`, {})),
    );
    const shape = (r: (typeof answers)[number]) => {
      const headers = { ...r.headers };
      delete headers.date;
      return { status: r.status, body: r.body, headers };
    };
    for (const a of answers) assert.deepEqual(shape(a), shape(answers[0]!));
    assert.equal(answers[0]!.status, 404);
    assert.equal(answers[0]!.body, 'Not Found');
  });

  it('the miss limit holds across papgate processes: another one answers 429 for a real MAC too', async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    await f.withOtherProcess(async (port) => {
      for (let i = 0; i < 6; i++) await get(`/00156500000${i}.cfg`, '127.0.0.22', {});
      const res = await request(port, `/${YEALINK_MAC}.cfg`, {
        from: '127.0.0.22',
        headers: { 'user-agent': UA },
      });
      assert.equal(res.status, 429, 'the other process confirmed an existing MAC to a blocked address');
      assert.equal(res.headers['retry-after'], '60');
    });
  });

  it('rate-limits misses per IP with 429 and Retry-After, without looking the MAC up', async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    for (let i = 0; i < 5; i++)
      assert.equal((await get(`/00156500000${i}.cfg`, '127.0.0.20', {})).status, 404);
    const limited = await get('/001565000009.cfg', '127.0.0.20', {});
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '60');
    assert.equal(
      (await get(`/${YEALINK_MAC}.cfg`, '127.0.0.20', {})).status,
      429,
      'no lookup at all while limited',
    );
    assert.equal(
      (await get(`/${YEALINK_MAC}.cfg`, '127.0.0.21', {})).status,
      200,
      'other IPs are unaffected',
    );
  });

  it('refuses traversal, encoded names, other methods, bodies and oversized URLs with 4xx', async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    for (const p of [
      '/../etc/passwd',
      '/%2e%2e/etc/passwd',
      '/%2E%2E%2Fconfig.ts',
      '/..%2f..%2fpackage.json',
      '/a\\..\\b.cfg',
      `/${YEALINK_MAC}.cfg%00`,
      '/d/../../package.json',
      '/config/templates/yealink/device.cfg',
    ]) {
      const res = await get(p, '127.0.0.12', {});
      assert.ok(res.status >= 400 && res.status < 500, `${p}: ${res.status}`);
      assert.ok(!res.body.includes('account.'), p);
    }
    assert.equal(
      (await request(f.port, `/${YEALINK_MAC}.cfg`, { from: '127.0.0.12', method: 'POST', body: 'x' }))
        .status,
      405,
    );
    assert.equal(
      (await request(f.port, `/${YEALINK_MAC}.cfg`, { from: '127.0.0.12', method: 'DELETE' })).status,
      405,
    );
    assert.equal(
      (
        await request(f.port, `/${YEALINK_MAC}.cfg`, {
          from: '127.0.0.12',
          headers: { 'content-length': '3' },
          body: 'abc',
        })
      ).status,
      413,
    );
    assert.equal((await get(`/${'a'.repeat(600)}.cfg`, '127.0.0.12', {})).status, 414);
    const head = await request(f.port, `/${YEALINK_MAC}.cfg`, { from: '127.0.0.12', method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('serves common files without any secret or store lookup', async () => {
    const y = await get('/y000000000028.cfg', '127.0.0.13', {});
    assert.equal(y.status, 200);
    assert.match(y.body, /^#!version:1\.0\.0\.1\n/);
    assert.match(y.body, /model code 000000000028/);
    const p = await get('/000000000000.cfg', '127.0.0.13', {});
    assert.equal(p.status, 200);
    assert.match(p.body, /CONFIG_FILES="\[PHONE_MAC_ADDRESS\]-phone\.cfg"/);
  });
});

describe('provisioning: client IP behind a trusted proxy', () => {
  const f = new ProvisioningFixture({ TRUST_PROXY: '127.0.0.7' });
  before(() => f.start());
  after(() => f.stop());

  it('uses the right-most untrusted X-Forwarded-For hop only when the peer is trusted', async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    await f.store.addWhitelist('acme', parseWhitelistEntry('192.0.2.10'), 'test');
    const viaProxy = await request(f.port, `/${YEALINK_MAC}.cfg`, {
      from: '127.0.0.7',
      headers: { 'x-forwarded-for': '203.0.113.9, 192.0.2.10, 127.0.0.7' },
    });
    assert.ok(viaProxy.body.includes(ACCOUNT.password));
    const ev = (await f.store.events('acme', 10, undefined, 'traffic')).find(
      (e) => e.type === 'provisioning',
    );
    assert.equal(ev?.ip, '192.0.2.10');
    const forged = await request(f.port, `/${YEALINK_MAC}.cfg`, {
      from: '127.0.0.8',
      headers: { 'x-forwarded-for': '192.0.2.10' },
    });
    assert.ok(!forged.body.includes(ACCOUNT.password), 'an untrusted peer cannot claim another address');
    // The device now holds a credential the forged request does not carry: it is asked for it.
    assert.equal(forged.status, 401);
  });

  it('counts misses per IPv6 /64: the other addresses of the network are no fresh budget', async () => {
    const from = (client: string, path: string) =>
      request(f.port, path, { from: '127.0.0.7', headers: { 'x-forwarded-for': client, 'user-agent': UA } });
    for (let i = 1; i <= 5; i++)
      assert.equal((await from(`2001:db8:0:1::${i}`, `/00156500000${i}.cfg`)).status, 404);
    const sixth = await from('2001:db8:0:1:ffff:ffff:ffff:ffff', '/001565000006.cfg');
    assert.equal(sixth.status, 429, 'the sixth address of the /64 is over its limit');
    assert.equal(sixth.headers['retry-after'], '60');
    assert.equal((await from('2001:db8:0:1:8000::9', `/${YEALINK_MAC}.cfg`)).status, 429, 'a real MAC too');
    // The device holds a credential (the test before): asked for it, not throttled.
    assert.equal((await from('2001:db8:0:2::1', `/${YEALINK_MAC}.cfg`)).status, 401, 'the next /64 is not');
    assert.equal(await f.store.missCount('2001:db8:0:1::/64'), 6);
    // IPv4 counts each address apart by default (PROVISIONING_MISS_PREFIX_IPV4 32).
    for (let i = 1; i <= 6; i++) await from('198.51.100.1', `/00156500001${i}.cfg`);
    assert.equal((await from('198.51.100.1', `/${YEALINK_MAC}.cfg`)).status, 429);
    assert.equal((await from('198.51.100.2', `/${YEALINK_MAC}.cfg`)).status, 401);
  });
});

describe('provisioning: misses per IPv4 network (PROVISIONING_MISS_PREFIX_IPV4=24)', () => {
  const f = new ProvisioningFixture({ PROVISIONING_MISS_PREFIX_IPV4: '24' });
  before(() => f.start());
  after(() => f.stop());

  it('limits the neighbouring address with the one that missed, in this process and in another', async () => {
    await f.device('yealink', 'T54W', YEALINK_MAC);
    for (let i = 0; i < 6; i++)
      await request(f.port, `/00156500000${i}.cfg`, {
        from: `127.0.0.${30 + i}`,
        headers: { 'user-agent': UA },
      });
    await f.withOtherProcess(async (port) => {
      for (const p of [f.port, port])
        assert.equal(
          (await request(p, `/${YEALINK_MAC}.cfg`, { from: '127.0.0.99', headers: { 'user-agent': UA } }))
            .status,
          429,
        );
    });
  });
});
