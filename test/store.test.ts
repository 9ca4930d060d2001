import assert from 'node:assert/strict';
import { TestRedis, FAST_POLICY } from './support/redis';
import { isSuspended } from '../src/domain/auth';
import { parseNewDevice, type NewDevice } from '../src/domain/device';
import { parseWhitelistEntry, whitelistCoverage } from '../src/domain/whitelist';
import { InputError } from '../src/domain/errors';
import { keys, clusterSlot } from '../src/store/keys';
import type { AuditEvent } from '../src/store/audit';
import { Store } from '../src/store/store';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dev = (mac: string, extra: Partial<Record<string, unknown>> = {}): NewDevice =>
  parseNewDevice({ mac, vendor: 'yealink', model: 'T54W', site: 'HQ', ...extra });

/** No event may carry a PAP: not as a field, not as any field's whole value. */
function assertNoPap(events: AuditEvent[], paps: string[]) {
  for (const e of events) {
    assert.ok(!('pap' in e), `event ${e.type} has a pap field`);
    for (const [k, v] of Object.entries(e)) {
      if (k !== 'id' && k !== 'ts')
        assert.ok(!paps.includes(String(v)), `event ${e.type}.${k} carries a PAP`);
    }
  }
}

async function seed(store: Store, tenant = 'acme', macs = ['001565aabbcc']) {
  await store.putTenant(tenant, { name: tenant, language: null }, 'test');
  const res = await store.createDevices(
    tenant,
    macs.map((m) => dev(m)),
    'test',
  );
  assert.ok(res !== 'unknown_tenant' && res.ok);
  return res.devices;
}

describe('store', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(() => r.stop());
  beforeEach(() => r.flush());

  it('creates a device, checks PAPs, audits every step and never the PAP', async () => {
    const s = r.store();
    const [d] = await seed(s);
    const wrong = d!.pap === '000000' ? '111111' : '000000';
    const a = await s.attemptPap(d!.mac, wrong, '198.51.100.7', 'test', 'api');
    assert.equal(a.outcome, 'wrong_pap');
    assert.equal(a.attemptsLeft, 2);
    const ok = await s.attemptPap(d!.mac, d!.pap, '198.51.100.7', 'test', 'api');
    assert.equal(ok.outcome, 'successful');
    assert.equal(ok.whitelistedIp, '198.51.100.7');
    assert.equal((await s.attemptPap(d!.mac, d!.pap, null, 'test', 'api')).outcome, 'not_required');
    const ev = await s.events('acme', 50);
    assert.deepEqual(ev.map((e) => e.type).reverse(), [
      'tenant_created',
      'device_added',
      'attempt',
      'attempt',
      'transition',
      'attempt',
    ]);
    assertNoPap(ev, [d!.pap, wrong]);
  });

  it('never whitelists the last provisioning address: a PAP check naming none whitelists nothing', async () => {
    const s = r.store();
    const [d] = await seed(s);
    // anyone who knows the MAC can be the last to fetch its file
    await s.recordProvisioning('acme', d!.mac, {
      ip: '203.0.113.5',
      outcome: 'minimal',
      reason: 'needed',
      file: 'x.cfg',
    });
    const ok = await s.attemptPap(d!.mac, d!.pap, null, 'ivr', 'ivr');
    assert.equal(ok.outcome, 'successful');
    assert.equal(ok.whitelistedIp, null);
    assert.deepEqual(await s.temporaryWhitelist('acme'), []);
    const attempt = (await s.events('acme', 10)).find((e) => e.type === 'attempt')!;
    assert.equal(attempt.ip, '');
  });

  it('unlocks a failed device when the (shortened) lock runs out, and the watcher sees it', async () => {
    const s = r.store({ ...FAST_POLICY, failedLockSeconds: 1 });
    const [d] = await seed(s);
    const wrong = d!.pap === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) await s.attemptPap(d!.mac, wrong, null, 't', 'api');
    assert.equal((await s.getDevice('acme', d!.mac))!.state, 'failed');
    assert.deepEqual(await s.expiredLocks('acme'), []);
    assert.equal(await s.settleLock('acme', d!.mac), false, 'not before the lock runs out');
    await sleep(1100);
    assert.deepEqual(await s.expiredLocks('acme'), [d!.mac]);
    assert.equal(await s.settleLock('acme', d!.mac), true);
    assert.equal(await s.settleLock('acme', d!.mac), false, 'settling twice changes nothing');
    const after = (await s.getDevice('acme', d!.mac))!;
    assert.equal(after.state, 'needed');
    assert.equal(after.consecutiveFailures, 0);
    assert.equal(after.totalFailures, 3);
    assert.deepEqual(await s.expiredLocks('acme'), []);
  });

  it('expires the temporary whitelist and extends it on full provisioning', async () => {
    const s = r.store({ ...FAST_POLICY, tempWhitelistSeconds: 1 });
    const [d] = await seed(s);
    await s.attemptPap(d!.mac, d!.pap, '192.0.2.10', 't', 'api');
    const first = (await s.temporaryWhitelist('acme'))[0]!;
    assert.equal(first.ip, '192.0.2.10');
    await sleep(600);
    const dv = (await s.getDevice('acme', d!.mac))!;
    assert.equal(
      await s.recordFullProvisioning('acme', d!.mac, {
        generation: dv.generation,
        reason: 'temporary_whitelist',
        credentialHash: 'ab'.repeat(32),
        ip: '192.0.2.10',
        file: 'f',
      }),
      'ok',
    );
    const extended = (await s.temporaryWhitelist('acme'))[0]!;
    assert.ok(extended.expiresAt >= first.expiresAt + 500, 'extended to now + AUTH_TEMP_WHITELIST_SECONDS');
    await sleep(1100);
    assert.deepEqual(await s.temporaryWhitelist('acme'), [], 'gone once expired');
  });

  it('full provisioning extends an existing temporary entry but never creates one', async () => {
    const s = r.store();
    const [d] = await seed(s);
    const dv = (await s.getDevice('acme', d!.mac))!;
    await s.suspendDevice('acme', d!.mac, 'admin');
    const full = {
      generation: dv.generation,
      reason: 'suspension' as const,
      credentialHash: 'ab'.repeat(32),
      file: 'f',
    };
    assert.equal(await s.recordFullProvisioning('acme', d!.mac, { ...full, ip: '203.0.113.50' }), 'ok');
    assert.deepEqual(
      await s.temporaryWhitelist('acme'),
      [],
      'a suspended phone fetching from a café does not trust the café',
    );
    assert.equal((await s.getDevice('acme', d!.mac))!.lastProvisioning!.ip, '203.0.113.50');
  });

  it("a site's networks are its own temporary entries: not another site's, not a permanent entry, not a tenant-wide entry of before sites, which is never extended", async () => {
    const s = r.store();
    const [a, b] = await seed(s, 'acme', ['001565aabbc1', '001565aabbc2']);
    await s.putTenant('acme', { name: 'acme', language: null }, 'test');
    const branch = await s.createDevices(
      'acme',
      [parseNewDevice({ mac: '001565aabbc3', vendor: 'yealink', model: 'T54W', site: 'Branch' })],
      'test',
    );
    assert.ok(branch !== 'unknown_tenant' && branch.ok);
    await s.attemptPap(a!.mac, a!.pap, '192.0.2.10', 't', 'api');
    await s.addWhitelist('acme', parseWhitelistEntry('198.51.100.0/24'), 'test');
    const site = (await s.getDevice('acme', a!.mac))!.site;
    assert.equal(await s.isSiteNetwork('acme', site, '192.0.2.10'), true);
    assert.equal(await s.isSiteNetwork('acme', 'Branch', '192.0.2.10'), false, "another site's PAP");
    assert.equal(await s.isSiteNetwork('acme', site, '198.51.100.7'), false, 'a permanent entry');
    // an entry of before sites (the bare address), which a full provisioning from it must not extend
    const until = Date.now() + 60_000;
    await r.client.zAdd(keys.tenant('acme').tempWhitelist, { score: until, value: '203.0.113.9' });
    assert.equal(await s.isSiteNetwork('acme', site, '203.0.113.9'), false, 'tenant-wide, of before sites');
    const dv = (await s.getDevice('acme', b!.mac))!;
    const full = { generation: dv.generation, reason: 'temporary_whitelist' as const, file: 'f' };
    const credentialHash = 'ab'.repeat(32);
    assert.equal(
      await s.recordFullProvisioning('acme', b!.mac, { ...full, credentialHash, ip: '203.0.113.9' }),
      'ok',
    );
    assert.equal(
      await r.client.zScore(keys.tenant('acme').tempWhitelist, '203.0.113.9'),
      until,
      'not extended',
    );
  });

  it('reset: new PAP, counters cleared, credential revoked, suspension cleared, stale bypass refused', async () => {
    const s = r.store();
    const [d] = await seed(s);
    const before = (await s.getDevice('acme', d!.mac))!;
    await s.suspendDevice('acme', d!.mac, 'admin');
    assert.equal(
      await s.recordFullProvisioning('acme', d!.mac, {
        generation: before.generation,
        reason: 'suspension',
        credentialHash: 'cd'.repeat(32),
        ip: '192.0.2.1',
        file: 'f',
      }),
      'ok',
    );
    const mid = (await s.getDevice('acme', d!.mac))!;
    assert.equal(mid.state, 'successful');
    assert.equal(mid.authenticatedVia, 'suspension');
    assert.equal(mid.credentialHash, 'cd'.repeat(32));
    const reset = await s.resetDevice('acme', d!.mac, 'admin');
    assert.ok(reset && /^[0-9]{6}$/.test(reset.pap));
    const after = (await s.getDevice('acme', d!.mac))!;
    assert.equal(after.state, 'needed');
    assert.equal(after.pap, reset.pap);
    assert.equal(after.credentialHash, null);
    assert.equal(after.suspendedUntil, null);
    assert.equal(after.generation, before.generation + 1);
    assert.equal(
      await s.recordFullProvisioning('acme', d!.mac, {
        generation: before.generation,
        reason: 'whitelist',
        credentialHash: 'ef'.repeat(32),
        ip: '192.0.2.1',
        file: 'f',
      }),
      'stale',
      'a bypass decided before the reset must not land after it',
    );
    assert.equal((await s.getDevice('acme', d!.mac))!.state, 'needed');
    assertNoPap(await s.events('acme', 100), [d!.pap, reset.pap]);
  });

  it('suspension runs out after AUTH_SUSPEND_SECONDS', async () => {
    let now = 1_000_000;
    const s = r.store({ ...FAST_POLICY, suspendSeconds: 30 }, () => now);
    const [d] = await seed(s);
    const { suspendedUntil } = (await s.suspendDevice('acme', d!.mac, 'admin'))!;
    assert.equal(suspendedUntil, 1_000_000 + 30_000);
    now += 30_000;
    assert.equal(isSuspended((await s.getDevice('acme', d!.mac))!, now), false);
  });

  it('MACs are unique across tenants; a refused batch writes nothing', async () => {
    const s = r.store();
    await seed(s, 'a', ['00156500000a']);
    await s.putTenant('b', { name: 'b', language: null }, 't');
    const res = await s.createDevices(
      'b',
      [dev('00156500000b'), dev('00156500000a'), dev('00156500000c')],
      't',
    );
    assert.ok(res !== 'unknown_tenant' && !res.ok);
    assert.deepEqual(res.errors, [
      { index: 1, mac: '00156500000a', reason: 'MAC registered in another tenant', owner: 'a' },
    ]);
    assert.deepEqual(await s.listDevices('b'), []);
    assert.equal(await s.tenantOfMac('00156500000b' as never), null, 'claims are released');
    const dup = await s.createDevices('b', [dev('00156500000d'), dev('00:15:65:00:00:0D')], 't');
    assert.ok(dup !== 'unknown_tenant' && !dup.ok && /duplicate of row 1/.test(dup.errors[0]!.reason));
    assert.equal(await s.createDevices('nope', [dev('00156500000e')], 't'), 'unknown_tenant');
    assert.equal(await s.tenantOfMac('00156500000e' as never), null);
  });

  it('a large addition is written in chunks; one refused undoes the chunks before it', async () => {
    const s = new Store(r.client, { auth: FAST_POLICY, eventsMaxLen: 100_000 });
    await s.putTenant('b', { name: 'b', language: null }, 't');
    const macs = Array.from({ length: 1200 }, (_, i) => `001565c${i.toString(16).padStart(5, '0')}`);
    // a device left without its claim (a crash between the steps): the third chunk meets it
    await r.client.hSet(keys.tenant('b').device(macs[1100]!), 'v', 'yealink');
    const res = await s.createDevices(
      'b',
      macs.map((m) => dev(m)),
      'admin',
    );
    assert.ok(res !== 'unknown_tenant' && !res.ok);
    assert.deepEqual(res.errors, [
      { index: 1100, mac: macs[1100], reason: 'MAC already registered in this tenant' },
    ]);
    assert.deepEqual(await s.listDevices('b'), []);
    assert.deepEqual(await r.client.keys(keys.tenant('b').device('*')), [
      keys.tenant('b').device(macs[1100]!),
    ]);
    for (const m of [macs[0]!, macs[999]!, macs[1199]!]) assert.equal(await s.tenantOfMac(m as never), null);
    const events = await s.events('b', 5000);
    assert.equal(events.filter((e) => e.type === 'device_added').length, 1000);
    assert.equal(events.filter((e) => e.type === 'device_deleted' && e.actor === 'admin').length, 1000);
  });

  it('delete frees the MAC for another tenant', async () => {
    const s = r.store();
    const [d] = await seed(s, 'a', ['00156500000f']);
    assert.equal(await s.deleteDevice('a', d!.mac, 't'), true);
    assert.equal(await s.deleteDevice('a', d!.mac, 't'), false);
    await seed(s, 'b', ['00156500000f']);
    assert.equal(await s.tenantOfMac(d!.mac), 'b');
  });

  it('permanent whitelist add/remove is audited and scoped to the tenant', async () => {
    const s = r.store();
    await seed(s, 'a', ['001565000010']);
    await seed(s, 'b', ['001565000011']);
    const e = parseWhitelistEntry('198.51.100.0/24');
    assert.equal(await s.addWhitelist('a', e, 't'), true);
    assert.equal(await s.addWhitelist('a', e, 't'), false);
    assert.deepEqual(
      (await s.whitelist('a')).map((x) => x.text),
      ['198.51.100.0/24'],
    );
    assert.deepEqual(await s.whitelist('b'), []);
    assert.equal(await s.removeWhitelist('a', e, 't'), true);
    const types = (await s.events('a', 10)).map((x) => x.type);
    assert.ok(types.includes('whitelist_added') && types.includes('whitelist_removed'));
  });

  it('whitelist bound: concurrent additions are each checked against the whitelist they are added to', async () => {
    const s = r.store();
    await seed(s, 'c', ['001565000012']);
    // Sixteen /9 networks (2^23 addresses each) added at once, all read before any is written (one
    // connection, pipelined): any two fit the bound of a /8 worth (2^24), a third would not.
    const nets = Array.from({ length: 16 }, (_, i) => parseWhitelistEntry(`${20 + i}.0.0.0/9`));
    const results = await Promise.allSettled(nets.map((n) => s.addWhitelist('c', n, 't')));
    const added = results.filter((x) => x.status === 'fulfilled' && x.value === true);
    const refused = results.filter(
      (x) =>
        x.status === 'rejected' &&
        x.reason instanceof InputError &&
        /at most a \/8 worth/.test(x.reason.message),
    );
    assert.equal(added.length, 2, JSON.stringify(results.map((x) => x.status)));
    assert.equal(refused.length, 14);
    const listed = await s.whitelist('c');
    assert.equal(listed.length, 2);
    assert.equal(whitelistCoverage(listed).ipv4, 1n << 24n);
    const events = (await s.events('c', 50)).filter((e) => e.type === 'whitelist_added');
    assert.equal(events.length, 2, 'a refused addition writes no event');
    // Removing one makes room again; an entry inside the others adds nothing and is accepted.
    assert.equal(await s.removeWhitelist('c', listed[0]!, 't'), true);
    assert.equal(await s.addWhitelist('c', nets[15]!, 't'), true);
    const inside = parseWhitelistEntry(`${listed[1]!.text.split('.')[0]}.1.2.0/24`);
    assert.equal(await s.addWhitelist('c', inside, 't'), true);
  });

  it('whitelist coverage is kept with it: counted from the entries around a change, whatever the order', async () => {
    const s = r.store();
    await seed(s, 'd', ['001565000013']);
    const covered = async () => {
      const [v4, v6] = await r.client.hmGet(keys.tenant('d').whitelistCoverage, ['4', '6']);
      return { ipv4: BigInt(v4 ?? 0), ipv6: BigInt(v6 ?? 0) };
    };
    // Nested and disjoint networks of both families, added and removed in a scrambled order.
    const texts = [
      '10.0.0.0/9',
      '10.1.0.0/16',
      '10.1.2.0/24',
      '10.1.2.3',
      '10.128.0.0/9',
      '10.200.0.0/16',
      '11.0.0.0/12',
      '11.0.0.1',
      '2001:db8::/32',
      '2001:db8:1::/48',
      '2001:db8:1::1',
      '2001:db9::/32',
    ];
    let seed32 = 7;
    const next = () => (seed32 = (seed32 * 1103515245 + 12345) % 2 ** 31);
    for (let step = 0; step < 120; step++) {
      const e = parseWhitelistEntry(texts[next() % texts.length]);
      if (next() % 3 === 0) await s.removeWhitelist('d', e, 't');
      else await s.addWhitelist('d', e, 't');
      assert.deepEqual(await covered(), whitelistCoverage(await s.whitelist('d')), `step ${step}: ${e.text}`);
    }
  });

  it('an addition to a long whitelist reads none of its entries', async () => {
    const s = r.store();
    await seed(s, 'e', ['001565000014']);
    for (let i = 0; i < 300; i++)
      await s.addWhitelist('e', parseWhitelistEntry(`10.0.${i >> 8}.${i & 255}`), 't');
    await r.client.configResetStat();
    assert.equal(await s.addWhitelist('e', parseWhitelistEntry('10.0.4.0/24'), 't'), true);
    assert.equal(await s.addWhitelist('e', parseWhitelistEntry('10.0.2.0/23'), 't'), true);
    const stats = await r.client.info('commandstats');
    assert.doesNotMatch(stats, /cmdstat_smembers:/, 'the whole whitelist was read');
    assert.doesNotMatch(stats, /cmdstat_sscan:/, 'the whole whitelist was read');
    // 300 addresses of 10.0.0.0/23 listed one by one, then 10.0.4.0/24 and 10.0.2.0/23 beside them
    assert.equal(whitelistCoverage(await s.whitelist('e')).ipv4, 300n + 256n + 512n);
  });

  it('a whitelist kept before its coverage was is counted once, and the bound holds for it', async () => {
    const s = r.store();
    await seed(s, 'f', ['001565000015']);
    await r.client.sAdd(keys.tenant('f').whitelist, ['10.0.0.0/9', '10.1.0.0/16', '10.128.0.0/10']);
    await assert.rejects(
      s.addWhitelist('f', parseWhitelistEntry('11.0.0.0/9'), 't'),
      (err: unknown) => err instanceof InputError && /at most a \/8 worth/.test(err.message),
    );
    assert.equal(await s.addWhitelist('f', parseWhitelistEntry('10.192.0.0/10'), 't'), true);
    assert.equal(whitelistCoverage(await s.whitelist('f')).ipv4, 1n << 24n);
    assert.deepEqual(await r.client.hmGet(keys.tenant('f').whitelistCoverage, ['4', '6']), [
      String(1 << 24),
      '0',
    ]);
  });

  it('a whitelist holds at most the entries it is given (WHITELIST_MAX_ENTRIES), also when added at once', async () => {
    const s = r.store();
    await seed(s, 'g', ['001565000016']);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => s.addWhitelist('g', parseWhitelistEntry(`192.0.2.${i}`), 't', 5)),
    );
    assert.equal(results.filter((x) => x === true).length, 5, JSON.stringify(results));
    assert.equal(results.filter((x) => x === 'full').length, 7);
    assert.equal((await s.whitelist('g')).length, 5);
    assert.equal(
      await s.addWhitelist('g', parseWhitelistEntry('192.0.2.1'), 't', 5),
      false,
      'listed, not full',
    );
    assert.equal(await s.removeWhitelist('g', parseWhitelistEntry('192.0.2.0'), 't'), true);
    assert.equal(await s.addWhitelist('g', parseWhitelistEntry('192.0.2.200'), 't', 5), true);
  });

  it('answers with an error, not a hang, when Redis is unreachable', async () => {
    const other = new TestRedis();
    await other.start();
    const s = other.store();
    await other.server.stop();
    await assert.rejects(() => s.attemptPap('001565aabbcc' as never, '123456', null, 't', 'api'));
    other.client.destroy();
  });
});

describe('store: key layout for Redis Cluster', () => {
  it('puts every key of one tenant in one slot, and different tenants apart', () => {
    const k = keys.tenant('acme');
    const all = [
      k.info,
      k.devices,
      k.whitelist,
      k.tempWhitelist,
      k.locks,
      k.events,
      k.device('001565aabbcc'),
      k.registrations('001565aabbcc'),
    ];
    const slots = new Set(all.map(clusterSlot));
    assert.equal(slots.size, 1);
    assert.notEqual(clusterSlot(keys.tenant('other').info), clusterSlot(k.info));
  });
  it('computes slots as Redis does', () => {
    // Reference values from CLUSTER KEYSLOT.
    assert.equal(clusterSlot('foo'), 12182);
    assert.equal(clusterSlot('{user1000}.following'), clusterSlot('{user1000}.followers'));
    assert.equal(clusterSlot('123456789'), 0x31c3 % 16384);
  });
});
