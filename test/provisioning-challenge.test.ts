import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Vendor } from '../src/domain/device';
import { digestResponse, ha1 } from '../src/domain/digest';
import type { Mac } from '../src/domain/mac';
import { CHALLENGE_GRACE_MS } from '../src/domain/provisioning';
import { Metrics } from '../src/lib/metrics';
import { createProvisioningServer } from '../src/provisioning/server';
import { moduleFor } from '../src/provisioning/vendors';
import { httpCredentialsIn } from './support/credentials';
import { ACCOUNT, ProvisioningFixture, request, type HttpAnswer } from './support/http';
import { silentLog } from './support/redis';

/**
 * N4 of the 2026-12-04 audit: a phone whose provisioning server comes from DHCP or PnP asks without
 * the path that carries its credential. Per vendor, over real HTTP: an authenticated device whose
 * full file was fetched asks for it without the path from an address nothing whitelists, is
 * challenged, and answers with only what its full file gave it (the HTTP user name and password
 * items, read as the phone reads them).
 */
interface Phone {
  readonly vendor: Vendor;
  readonly model: string;
  readonly mac: string;
  /** The configuration file the phone asks for. */
  readonly file: (mac: string) => string;
}

const PHONES: Phone[] = [
  { vendor: 'yealink', model: 'T54W', mac: '001565c00001', file: (m) => `${m}.cfg` },
  { vendor: 'snom', model: 'D785', mac: '000413c00002', file: (m) => `${m.toUpperCase()}.xml` },
  { vendor: 'poly', model: 'VVX450', mac: '0004f2c00003', file: (m) => `${m}-phone.cfg` },
  { vendor: 'spectralink', model: '8440', mac: '00907ac00004', file: (m) => `${m}-phone.cfg` },
  { vendor: 'cisco', model: 'SPA112', mac: '5c5015c00005', file: (m) => `${m}.xml` },
  { vendor: 'linksys', model: 'PAP2T', mac: '00183ac00006', file: (m) => `${m}.xml` },
  { vendor: 'gigaset', model: 'N510 IP PRO', mac: '7c2f80c00007', file: (m) => `${m.toUpperCase()}.xml` },
  { vendor: 'gigaset', model: 'N720 DM PRO', mac: '7c2f80c00008', file: (m) => `${m.toUpperCase()}.xml` },
  { vendor: 'patton', model: 'SN4112', mac: '00a0bac00009', file: (m) => `${m}.cfg` },
  { vendor: 'grandstream', model: 'GXP2170', mac: '000b82c0000a', file: (m) => `cfg${m}.xml` },
  {
    vendor: 'panasonic',
    model: 'KX-TGP500',
    mac: '0080f0c0000b',
    file: (m) => `Config${m.toUpperCase()}.cfg`,
  },
];

/** Where the phone got its full file (its PAP success whitelisted it), and where it asks later. */
const HOME = '127.0.0.9';
const ELSEWHERE = '127.0.0.20';

/** The parameters of a WWW-Authenticate challenge. */
function challengeOf(a: HttpAnswer): { scheme: string; params: Record<string, string> } {
  const h = a.headers['www-authenticate'];
  assert.equal(typeof h, 'string', 'one WWW-Authenticate header');
  const [, scheme, rest] = /^(\S+)\s+(.*)$/.exec(h as string)!;
  const params: Record<string, string> = {};
  for (const m of rest!.matchAll(/([a-z]+)=(?:"([^"]*)"|([^\s,]+))/g)) params[m[1]!] = m[2] ?? m[3]!;
  return { scheme: scheme!, params };
}

/** What a phone sends back to a challenge with the user name and password it holds. */
function answer(a: HttpAnswer, path: string, creds: { user: string; password: string }, nc = 1): string {
  const { scheme, params } = challengeOf(a);
  if (scheme === 'Basic') return `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`;
  const cnonce = 'a1b2c3d4';
  const count = nc.toString(16).padStart(8, '0');
  const response = digestResponse({
    ha1: ha1(creds.user, params.realm!, creds.password),
    nonce: params.nonce!,
    method: 'GET',
    uri: path,
    qop: 'auth',
    nc: count,
    cnonce,
  });
  return (
    `Digest username="${creds.user}", realm="${params.realm}", nonce="${params.nonce}", uri="${path}", ` +
    `algorithm=MD5, qop=auth, nc=${count}, cnonce="${cnonce}", response="${response}"`
  );
}

describe('provisioning: the challenge for an authenticated device asked without its credential', () => {
  const f = new ProvisioningFixture();
  const metrics = new Metrics();
  let port = 0;
  let close: () => Promise<void>;
  before(async () => {
    await f.start();
    // The fixture's own server, but with a registry this test reads.
    const app = createProvisioningServer({
      config: f.config,
      store: f.store,
      log: silentLog,
      now: () => f.clock,
      metrics,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    close = () => app.close();
  });
  after(async () => {
    await close();
    await f.stop();
  });
  beforeEach(() => f.redis.flush());

  /** The device authenticated by its PAP from HOME, and the full file it then fetched there. */
  const authenticated = async (p: Phone): Promise<{ mac: Mac; full: string; path: string }> => {
    const d = await f.device(p.vendor, p.model, p.mac);
    assert.equal((await f.store.attemptPap(d.mac, d.pap, HOME, 't', 'api')).outcome, 'successful');
    const path = `/${p.file(d.mac)}`;
    const full = await request(port, path, { from: HOME });
    assert.equal(full.status, 200);
    assert.ok(full.body.includes(ACCOUNT.password), `${p.vendor}: the full file`);
    return { mac: d.mac, full: full.body, path };
  };

  for (const p of PHONES) {
    it(`${p.vendor} ${p.model}: challenged without the path, answers with its full file's HTTP credentials`, async () => {
      const { mac, full, path } = await authenticated(p);
      const module = moduleFor(p.vendor);
      const creds = httpCredentialsIn(module.family, full);
      assert.ok(creds, `${p.vendor}: the full file sets HTTP credentials`);
      assert.equal(creds.user, mac);
      assert.ok(full.includes(`/d/${creds.password}`), 'the password is the credential of the path');

      const asked = await request(port, path, { from: ELSEWHERE });
      assert.equal(asked.status, 401);
      assert.ok(!asked.body.includes(ACCOUNT.password) && !asked.body.includes(creds.password));
      const { scheme, params } = challengeOf(asked);
      assert.equal(scheme, module.httpAuth);
      assert.equal(params.realm, 'papgate');
      if (scheme === 'Digest') assert.deepEqual([params.algorithm, params.qop], ['MD5', 'auth']);

      const again = await request(port, path, {
        from: ELSEWHERE,
        headers: { authorization: answer(asked, path, creds) },
      });
      assert.equal(again.status, 200);
      assert.ok(again.body.includes(ACCOUNT.password), 'the full file');
      assert.deepEqual(httpCredentialsIn(module.family, again.body), creds, 'the same credential');
      const d = (await f.store.getDevice('acme', mac))!;
      assert.equal(d.lastProvisioning?.outcome, 'full:credential');
      assert.equal(d.challenged, null, 'the answer ends the wait');

      // A wrong password: refused and recorded as a wrong path credential is.
      const wrong = await request(port, path, {
        from: ELSEWHERE,
        headers: { authorization: answer(asked, path, { ...creds, password: 'f'.repeat(32) }, 2) },
      });
      assert.equal(wrong.status, 403);
      const ev = (await f.store.events('acme', 5, undefined, 'traffic')).find(
        (e) => e.type === 'provisioning',
      );
      assert.deepEqual([ev?.outcome, ev?.reason, ev?.ip], ['refused', 'wrong_credential', ELSEWHERE]);
      assert.equal((await request(port, `/d/${creds.password}${path}`, { from: ELSEWHERE })).status, 200);
    });
  }

  it('Gigaset: a user name of its own (the base tries one first) and a stale nonce get a new challenge', async () => {
    const p = PHONES.find((x) => x.vendor === 'gigaset')!;
    const { mac, full, path } = await authenticated(p);
    const creds = httpCredentialsIn('gigaset', full)!;
    const asked = await request(port, path, { from: ELSEWHERE });
    const own = await request(port, path, {
      from: ELSEWHERE,
      headers: { authorization: answer(asked, path, { user: mac.toUpperCase(), password: `${mac}-0000` }) },
    });
    assert.equal(own.status, 401, 'not refused: the base goes on to the configured credentials');
    f.clock += f.config.sip.nonceSeconds * 1000;
    const late = await request(port, path, {
      from: ELSEWHERE,
      headers: { authorization: answer(asked, path, creds) },
    });
    assert.equal(late.status, 401);
    assert.equal(challengeOf(late).params.stale, 'true');
    const fresh = await request(port, path, {
      from: ELSEWHERE,
      headers: { authorization: answer(late, path, creds) },
    });
    assert.equal(fresh.status, 200);
    // An answer for another file is no answer for this one.
    const other = `/${'7C2F80C00099'}.xml`;
    const misplaced = await request(port, path, {
      from: ELSEWHERE,
      headers: { authorization: answer(late, other, creds, 2) },
    });
    assert.equal(misplaced.status, 401);
  });

  it('never challenges a device without a credential, nor the Poly master file that only points on', async () => {
    const d = await f.device('yealink', 'T54W', '001565c000f1');
    const minimal = await request(port, `/${d.mac}.cfg`, { from: ELSEWHERE });
    assert.equal(minimal.status, 200);
    assert.match(minimal.body, /Dial \*89 to authenticate/);
    const poly = await authenticated(PHONES.find((x) => x.vendor === 'poly')!);
    const pointer = await request(port, `/${poly.mac}.cfg`, { from: ELSEWHERE });
    assert.equal(pointer.status, 200);
    assert.match(pointer.body, new RegExp(`${poly.mac}-phone\\.cfg`));
  });

  it('counts no 401 as a miss: 21 authenticated phones behind one address', async () => {
    const phones = [];
    for (let i = 0; i < 21; i++) {
      const p = { ...PHONES[0]!, mac: `001565c001${i.toString(16).padStart(2, '0')}` };
      phones.push(await authenticated(p));
    }
    for (const ph of phones) assert.equal((await request(port, ph.path, { from: ELSEWHERE })).status, 401);
    assert.equal(await f.store.missCount(`${ELSEWHERE}/32`), 0);
  });

  const resetReplies = async () =>
    (await metrics.expose()).body
      .split('\n')
      .filter((l) => l.startsWith('papgate_provisioning_replies_total{') && l.includes('decision="reset"'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);

  it('a phone that cannot answer: still challenged once the challenge went unanswered, marked as needing reset, audited once, counted', async () => {
    const { mac, path } = await authenticated(PHONES[0]!);
    const before = await resetReplies();
    assert.equal((await request(port, path, { from: ELSEWHERE })).status, 401);
    assert.deepEqual((await f.store.getDevice('acme', mac))!.challenged, { at: f.clock, ip: ELSEWHERE });
    f.clock += CHALLENGE_GRACE_MS;
    for (let i = 0; i < 3; i++) {
      const asked = await request(port, path, { from: ELSEWHERE });
      assert.equal(asked.status, 401, "never a file that takes the phone's credential away");
      assert.equal(challengeOf(asked).scheme, 'Basic');
      assert.ok(!asked.body.includes(ACCOUNT.password) && !/reset needed/.test(asked.body));
      f.clock += 1000;
    }
    const d = (await f.store.getDevice('acme', mac))!;
    assert.deepEqual(d.needsReset, { at: f.clock - 1000, ip: ELSEWHERE });
    assert.equal(d.state, 'successful');
    assert.notEqual(d.credentialHash, null);
    const audited = (await f.store.events('acme', 50)).filter((e) => e.type === 'needs_reset');
    assert.equal(audited.length, 1, 'in the audit trail once, however often it asks');
    assert.deepEqual([audited[0]!.mac, audited[0]!.ip], [mac, ELSEWHERE]);
    const traffic = (await f.store.events('acme', 5, undefined, 'traffic')).find(
      (e) => e.type === 'provisioning',
    );
    assert.deepEqual([traffic?.outcome, traffic?.reason], ['challenge', 'needs_reset']);
    assert.equal((await resetReplies()) - before, 3);
    // The admin's reset ends it; the phone then gets the minimal file (and a new PAP).
    await f.store.resetDevice('acme', mac, 'test');
    const after = (await f.store.getDevice('acme', mac))!;
    assert.deepEqual([after.needsReset, after.challenged], [null, null]);
    const minimal = await request(port, path, { from: ELSEWHERE });
    assert.equal(minimal.status, 200);
    assert.match(minimal.body, /Dial \*89 to authenticate/);
  });

  // The 2027 attacker drill: a stranger behind the phone's address (office, guest Wi-Fi, CGNAT)
  // asked once without the credential; a minute later the phone's own resync, which starts without
  // it, got the "reset needed" file, which took its HTTP credentials, its path and its accounts.
  for (const p of [PHONES[0]!, PHONES.find((x) => x.vendor === 'gigaset')!]) {
    it(`${p.vendor}: a stranger behind the phone's address changes nothing the phone gets`, async () => {
      const { mac, full, path } = await authenticated(p);
      const creds = httpCredentialsIn(moduleFor(p.vendor).family, full)!;
      const SHARED = '127.0.0.10';
      const resync = async () => {
        const asked = await request(port, path, { from: SHARED });
        assert.equal(asked.status, 401, 'asked for the credential, never a file');
        assert.ok(!asked.body.includes(ACCOUNT.password) && !/reset needed/.test(asked.body));
        const got = await request(port, path, {
          from: SHARED,
          headers: { authorization: answer(asked, path, creds) },
        });
        assert.equal(got.status, 200);
        assert.ok(got.body.includes(ACCOUNT.password), 'the full file');
        assert.deepEqual(
          httpCredentialsIn(moduleFor(p.vendor).family, got.body),
          creds,
          'the same credential',
        );
      };
      await resync();
      const stranger = await request(port, path, { from: SHARED, headers: { 'user-agent': 'Mozilla/5.0' } });
      assert.equal(stranger.status, 401);
      f.clock += CHALLENGE_GRACE_MS;
      await resync();
      f.clock += 10 * CHALLENGE_GRACE_MS;
      await resync();
      const d = (await f.store.getDevice('acme', mac))!;
      assert.deepEqual(
        [d.state, d.challenged, d.needsReset],
        ['successful', null, null],
        'the answer ends the alarm',
      );
    });
  }
});
