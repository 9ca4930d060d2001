import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { freePort } from '../src/store/embedded';
import { parseNewDevice, type Device } from '../src/domain/device';
import type { Mac } from '../src/domain/mac';
import { isStoreUnavailable, StoreNotReadyError } from '../src/store/connect';
import { DEVICE, keys } from '../src/store/keys';
import { migrate, Schema, SCHEMA_VERSION } from '../src/store/schema';
import { Store } from '../src/store/store';
import { request } from './support/http';
import { killServices, startService, until } from './support/service';
import { FAST_POLICY, silentLog, TestRedis } from './support/redis';

const MAC = '001565aabbcc' as Mac;
const T0 = Date.UTC(2026, 0, 1);

/** A device hash as papgate wrote it before layout 2 (raw HSET, long names, accounts as JSON). */
const LAYOUT_1 = {
  mac: MAC,
  vendor: 'yealink',
  model: 'T54W',
  site: 'HQ',
  language: 'de',
  accounts: JSON.stringify([
    { server: 'sip.acme.example', user: 'acme-4711', password: 'S3cret-acme-pw', displayName: 'Alice Acme' },
    { server: 'sip.acme.example', user: 'acme-4712', authUser: 'auth-4712', password: 'pw-4712' },
  ]),
  createdAt: String(T0),
  pap: '012345',
  gen: '2',
  state: 'failed',
  consec: '3',
  total: '5',
  failedUntil: String(T0 + 60_000),
  suspendedUntil: '',
  credHash: createHash('sha256').update('old credential').digest('hex'),
  sipPassword: 'sip-password-123',
  authAt: '',
  authVia: '',
  lastProvAt: String(T0 + 1000),
  lastProvIp: '2001:db8::7',
  lastProvOutcome: 'minimal',
};

async function seedLayout1(r: TestRedis, device: Record<string, string> = LAYOUT_1): Promise<void> {
  const k = keys.tenant('acme');
  await r.client.hSet(k.info, { name: 'Acme', language: '', createdAt: String(T0) });
  await r.client.sAdd(keys.tenants(), 'acme');
  await r.client.zAdd(k.devices, { score: T0, value: MAC });
  await r.client.hSet(k.device(MAC), device);
  await r.client.set(`papgate:mac:{${MAC}}`, 'acme');
}

describe('device records: layout and memory', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(() => r.stop());
  beforeEach(() => r.flush());

  it('keeps a device hash a listpack in every state, long texts and many accounts included', async () => {
    let clock = T0;
    const store = r.store(FAST_POLICY, () => clock);
    await store.putTenant('acme', { name: 'Acme', language: null }, 'test');
    // 128 characters of 2-byte UTF-8: every piece must be cut between characters.
    const long = 'Ä'.repeat(127) + 'x';
    const accounts = Array.from({ length: 16 }, (_, i) => ({
      server: `${long.slice(0, 100)}.example`,
      user: `u${i}`,
      authUser: long,
      password: long,
      displayName: long,
    }));
    const res = await store.createDevices(
      'acme',
      [
        parseNewDevice(
          { mac: MAC, vendor: 'yealink', model: 'Ö'.repeat(64), site: long, accounts },
          { yealink: ['Ö'.repeat(64)] },
        ),
      ],
      'test',
    );
    assert.ok(res !== 'unknown_tenant' && res.ok);
    const key = keys.tenant('acme').device(MAC);
    const listpack = async (step: string) =>
      assert.equal(await r.client.objectEncoding(key), 'listpack', `${step}: ${await r.client.hKeys(key)}`);
    await listpack('needed');
    const d = (await store.getDevice('acme', MAC))!;
    assert.deepEqual([d.site, d.model, d.accounts], [long, 'Ö'.repeat(64), accounts]);

    for (let i = 0; i < 3; i++) await store.attemptPap(MAC, '999999', '2001:db8::1', 't', 'api');
    await listpack('failed');
    clock += 1500;
    await store.attemptPap(MAC, res.devices[0]!.pap, null, 't', 'api');
    await listpack('successful');
    const credentialHash = createHash('sha256').update('credential').digest('hex');
    // The entry the decision took (full.lua checks it is still there).
    await r.client.zAdd(keys.tenant('acme').tempWhitelist, {
      score: clock + 60_000,
      value: '2001:db8:85a3:1319:8a2e:370:7334:ffff',
    });
    const full = await store.recordFullProvisioning('acme', MAC, {
      generation: 0,
      reason: 'temporary_whitelist',
      credentialHash,
      ip: '2001:db8:85a3:1319:8a2e:370:7334:ffff',
      file: `${MAC}.cfg`,
    });
    assert.equal(full, 'ok');
    // The longest network text a suspension can be bound to.
    await store.suspendDevice('acme', MAC, 't', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124');
    await listpack('provisioned, suspended');
    const after = (await store.getDevice('acme', MAC))!;
    assert.equal(after.credentialHash, credentialHash, 'the stored form reads back as the hex hash');
    assert.equal(after.lastProvisioning?.outcome, 'full:temporary_whitelist');
    await store.resetDevice('acme', MAC, 't');
    for (let i = 0; i < 9; i++) {
      clock += 1500;
      await store.attemptPap(MAC, '999999', null, 't', 'api');
    }
    assert.equal((await store.getDevice('acme', MAC))!.state, 'blocked');
    await listpack('blocked');
  });

  it('stores neither the MAC nor the hex hash, and keeps the MAC index in a bucket hash', async () => {
    const store = r.store();
    await store.putTenant('acme', { name: 'Acme', language: null }, 'test');
    await store.createDevices(
      'acme',
      [parseNewDevice({ mac: MAC, vendor: 'snom', model: 'D785', site: 'HQ' })],
      't',
    );
    const h = await r.client.hGetAll(keys.tenant('acme').device(MAC));
    assert.ok(!Object.values(h).includes(MAC));
    assert.equal(h[DEVICE.state], 'needed');
    assert.equal(await r.client.hGet(keys.macIndex(MAC), MAC), 'acme');
    assert.equal(keys.macIndex(MAC), 'papgate:macs:{bcc}');
  });
});

describe('device records: migration from layout 1', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(async () => {
    killServices();
    await r.stop();
  });
  beforeEach(() => r.flush());

  it('reads every field of an old device as before, moves its MAC index entry, and runs only once', async () => {
    await seedLayout1(r);
    // A claim left by an interrupted add (a MAC without a device) is kept too.
    await r.client.set('papgate:mac:{0004f2000001}', 'acme');
    assert.deepEqual(await migrate(r.client), { from: 1, macs: 2, devices: 1 });
    assert.equal(await r.client.get(keys.schema()), String(SCHEMA_VERSION));
    const store = r.store(FAST_POLICY, () => T0 + 2000);
    const expected: Device = {
      tenant: 'acme',
      mac: MAC,
      vendor: 'yealink',
      model: 'T54W',
      site: 'HQ',
      language: 'de',
      accounts: JSON.parse(LAYOUT_1.accounts),
      createdAt: T0,
      pap: '012345',
      papIssuedAt: T0,
      generation: 2,
      state: 'failed',
      consecutiveFailures: 3,
      totalFailures: 5,
      failedUntil: T0 + 60_000,
      suspendedUntil: null,
      suspensionNetwork: null,
      credentialHash: LAYOUT_1.credHash,
      digestCredential: null,
      challenged: null,
      needsReset: null,
      userAgentMismatch: null,
      disabledAt: null,
      sipPassword: 'sip-password-123',
      authenticatedAt: null,
      authenticatedVia: null,
      lastProvisioning: { at: T0 + 1000, ip: '2001:db8::7', outcome: 'minimal' },
    };
    assert.deepEqual(await store.findDevice(MAC), expected);
    assert.equal(await store.tenantOfMac('0004f2000001' as Mac), 'acme');
    assert.deepEqual(await r.client.keys('papgate:mac:*'), []);
    assert.equal(await r.client.objectEncoding(keys.tenant('acme').device(MAC)), 'listpack');

    assert.equal(await migrate(r.client), null, 'up to date: nothing to do');
    // Interrupted before the version was written: a second run finds nothing left of layout 1.
    await r.client.del(keys.schema());
    assert.deepEqual(await migrate(r.client), { from: 1, macs: 0, devices: 0 });
    assert.deepEqual(await store.findDevice(MAC), expected);
  });

  it('names a corrupt old record by its key, never quoting its accounts (they hold SIP passwords)', async () => {
    await seedLayout1(r, { ...LAYOUT_1, accounts: 'sip-password-123 is not JSON' });
    const err = await migrate(r.client).catch((e: unknown) => e as Error);
    assert.ok(err instanceof Error);
    assert.equal(
      err.message,
      `${keys.tenant('acme').device(MAC)}: corrupt device record (its accounts are not JSON)`,
    );
  });

  it('keeps a MAC claim made under the new layout over the old index key', async () => {
    await r.client.set(`papgate:mac:{${MAC}}`, 'acme');
    await r.client.hSet(keys.macIndex(MAC), MAC, 'other');
    await migrate(r.client);
    assert.equal(await r.client.hGet(keys.macIndex(MAC), MAC), 'other');
    assert.equal(await r.client.exists(`papgate:mac:{${MAC}}`), 0);
  });

  it('refuses a database of a newer layout', async () => {
    await r.client.set(keys.schema(), String(SCHEMA_VERSION + 1));
    await assert.rejects(() => migrate(r.client), /layout 3; this papgate knows up to 2/);
  });

  it('makes the store wait for the migration, and answer unavailable when it takes too long', async () => {
    await seedLayout1(r, { ...LAYOUT_1, state: 'needed', consec: '0', failedUntil: '' });
    const schema = new Schema(r.client, 500);
    const store = new Store(r.client, { auth: FAST_POLICY, eventsMaxLen: 100, schema });
    const early = await store.findDevice(MAC).catch((err: unknown) => err);
    assert.ok(early instanceof StoreNotReadyError && isStoreUnavailable(early));
    const waiting = store.attemptPap(MAC, '012345', null, 't', 'api');
    await schema.bringUpToDate(silentLog);
    assert.equal((await waiting).outcome, 'successful', 'the old PAP, checked after the migration');
  });

  it('migrates at start-up: the service serves an old device its full configuration', async () => {
    await seedLayout1(r, { ...LAYOUT_1, state: 'needed', consec: '0', failedUntil: '', credHash: '' });
    await r.client.sAdd(keys.tenant('acme').whitelist, '127.0.0.0/30');
    const [admin, prov] = [await freePort(), await freePort()];
    const svc = startService({
      REDIS_URL: r.server.url,
      ADMIN_TOKEN: 'memory-test-token-0123456789',
      ADMIN_PORT: String(admin),
      PROVISIONING_HOST: '127.0.0.1',
      PROVISIONING_PORT: String(prov),
    });
    await until('the migration', () =>
      svc.lines().find((l) => l.msg === `redis data migrated to layout ${SCHEMA_VERSION}`),
    );
    const res = await request(prov, `/${MAC}.cfg`, {
      from: '127.0.0.1',
      headers: { 'user-agent': 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc' },
    });
    assert.equal(res.status, 200);
    assert.match(res.body, /account\.1\.user_name = acme-4711/);
    assert.ok(res.body.includes('S3cret-acme-pw'));
    const h = await r.client.hGetAll(keys.tenant('acme').device(MAC));
    assert.equal(h[DEVICE.state], 'successful', 'the whitelist bypass was written in the new layout');
    assert.equal(h.state, undefined);
  });
});
