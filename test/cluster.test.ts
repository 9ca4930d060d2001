import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { TestCluster } from './support/redis';
import { parseNewDevice } from '../src/domain/device';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { clusterSlot, keys } from '../src/store/keys';
import { migrate } from '../src/store/schema';
import { SipStore } from '../src/store/sip';
import type { Mac } from '../src/domain/mac';

describe('store on a real Redis Cluster (three masters)', () => {
  const c = new TestCluster();
  before(async function () {
    this.timeout(60000);
    await c.start();
  });
  after(() => c.stop());

  it('runs the whole device lifecycle unchanged', async () => {
    const s = c.store();
    for (const t of ['acme', 'globex']) await s.putTenant(t, { name: t, language: null }, 'test');
    const created = await s.createDevices(
      'acme',
      ['001565000001', '001565000002'].map((mac) =>
        parseNewDevice({ mac, vendor: 'yealink', model: 'T54W', site: 's' }),
      ),
      't',
    );
    assert.ok(created !== 'unknown_tenant' && created.ok);
    const [a, b] = created.devices;
    const other = await s.createDevices(
      'globex',
      [parseNewDevice({ mac: '001565000001', vendor: 'snom', model: 'D785', site: 's' })],
      't',
    );
    assert.ok(
      other !== 'unknown_tenant' && !other.ok,
      'MAC uniqueness across tenants (global index) holds on the cluster',
    );

    const wrong = (pap: string) => (pap === '000000' ? '111111' : '000000');
    for (let i = 0; i < 3; i++) await s.attemptPap(a!.mac, wrong(a!.pap), null, 't', 'api');
    assert.equal((await s.getDevice('acme', a!.mac))!.state, 'failed');
    const reset = (await s.resetDevice('acme', a!.mac, 'admin'))!;
    assert.equal((await s.attemptPap(a!.mac, reset.pap, '192.0.2.7', 't', 'api')).outcome, 'successful');
    assert.equal((await s.temporaryWhitelist('acme'))[0]!.ip, '192.0.2.7');
    assert.equal(await s.addWhitelist('acme', parseWhitelistEntry('198.51.100.0/24'), 't'), true);
    assert.deepEqual(
      (await s.whitelist('acme')).map((e) => e.text),
      ['198.51.100.0/24'],
    );
    // What provisioning reads is one script in the tenant's slot beside the miss counter's own.
    const seen = await s.provisioningState(a!.mac, '192.0.2.7', '192.0.2.7/32');
    assert.equal(seen.device?.tenant, 'acme');
    assert.deepEqual(
      seen.whitelist.map((e) => e.text),
      ['198.51.100.0/24'],
    );
    assert.ok(seen.temporaryWhitelistUntil! > Date.now());
    await s.suspendDevice('acme', b!.mac, 'admin');
    const bd = (await s.getDevice('acme', b!.mac))!;
    assert.equal(
      await s.recordFullProvisioning('acme', b!.mac, {
        generation: bd.generation,
        reason: 'suspension',
        credentialHash: 'ab'.repeat(32),
        ip: '192.0.2.7',
        file: 'f',
      }),
      'ok',
    );
    assert.equal((await s.getDevice('acme', b!.mac))!.state, 'successful');
    assert.equal(await s.countMiss('203.0.113.1/32', 60), 1);
    assert.deepEqual(
      (await s.listDevices('acme')).map((d) => d.mac),
      ['001565000001', '001565000002'],
    );
    assert.ok((await s.events('acme', 100)).some((e) => e.type === 'reset'));
    assert.equal(await s.deleteDevice('acme', b!.mac, 't'), true);
    assert.equal(await s.tenantOfMac(b!.mac), null);
    assert.equal((await s.provisioningState(b!.mac, '192.0.2.7', '192.0.2.7/32')).device, null);

    const sip = new SipStore(c.client, { nonceSeconds: 30 });
    const nonce = await sip.issueNonce();
    const claim = await sip.checkNonce(nonce, '00000001');
    assert.ok(claim !== 'stale');
    assert.equal(await sip.useNonce('acme', claim), 'ok');
    assert.equal(await sip.useNonce('acme', claim), 'replay');
    await s.resetDevice('acme', a!.mac, 'admin'); // it was `successful`: no more registrations then
    const password = (await s.getDevice('acme', a!.mac))!.sipPassword;
    const reg = {
      mac: a!.mac,
      contact: 'sip:x@192.0.2.7',
      address: '192.0.2.7',
      port: 5060,
      protocol: 'udp',
      expiresAt: Date.now() + 60000,
      userAgent: 'u',
      callId: 'c',
    };
    assert.equal(
      await sip.register('acme', a!.mac, claim, password, reg.address, { reg, ttlSeconds: 60 }),
      'replay',
    );
    const next = { ...claim, nc: '00000002' };
    assert.equal(
      await sip.register('acme', a!.mac, next, 'other', reg.address, { reg, ttlSeconds: 60 }),
      'changed',
    );
    assert.equal(
      await sip.register('acme', a!.mac, next, password, reg.address, { reg, ttlSeconds: 60 }),
      'ok',
    );
    assert.equal((await sip.registrations('acme', a!.mac))[0]!.address, '192.0.2.7');
  });

  it('keeps each tenant in one slot, as the real cluster computes it', () => {
    const byTenant = new Map<string, Set<number>>();
    for (const port of c.ports) {
      const keys = execFileSync('redis-cli', ['-p', String(port), '--scan', '--pattern', 'papgate:{t:*'])
        .toString()
        .split('\n')
        .filter(Boolean);
      for (const key of keys) {
        const real = Number(
          execFileSync('redis-cli', ['-p', String(port), 'cluster', 'keyslot', key]).toString(),
        );
        assert.equal(clusterSlot(key), real, key);
        const tenant = /\{t:([^}]+)\}/.exec(key)![1]!;
        byTenant.set(tenant, (byTenant.get(tenant) ?? new Set()).add(real));
      }
    }
    assert.ok(
      (byTenant.get('acme')?.size ?? 0) === 1 && (byTenant.get('globex')?.size ?? 0) === 1,
      JSON.stringify([...byTenant]),
    );
  });

  it('counts exactly AUTH_MAX_CONSECUTIVE_FAILURES of 200 concurrent wrong PAPs', async () => {
    const s = c.store({
      maxConsecutiveFailures: 3,
      failedLockSeconds: 60,
      maxTotalFailures: 9,
      suspendSeconds: 60,
      tempWhitelistSeconds: 60,
    });
    await s.putTenant('race', { name: 'race', language: null }, 't');
    const res = await s.createDevices(
      'race',
      [parseNewDevice({ mac: '0004f2000099', vendor: 'poly', model: 'VVX450', site: 's' })],
      't',
    );
    assert.ok(res !== 'unknown_tenant' && res.ok);
    const { mac, pap } = res.devices[0]! as { mac: Mac; pap: string };
    const replies = await Promise.all(
      Array.from({ length: 200 }, () =>
        s.attemptPap(mac, pap === '123456' ? '654321' : '123456', null, 't', 'ivr'),
      ),
    );
    assert.equal(replies.filter((r) => r.outcome === 'wrong_pap').length, 2);
    assert.equal(replies.filter((r) => r.outcome === 'failed').length, 198);
    assert.equal((await s.getDevice('race', mac))!.totalFailures, 3);
  });

  it('migrates layout 1 from every master: MAC index keys lie in many slots', async () => {
    const macs = Array.from({ length: 20 }, (_, i) => `0004f20000${i.toString(16).padStart(2, '0')}`);
    for (const mac of macs) {
      await c.client.hSet(keys.tenant('old').device(mac), {
        mac,
        vendor: 'poly',
        model: 'VVX450',
        site: 'Annex',
        language: '',
        accounts: '[]',
        createdAt: '1',
        pap: '123456',
        gen: '0',
        state: 'needed',
        consec: '0',
        total: '0',
        sipPassword: 'sip-password',
      });
      await c.client.set(`papgate:mac:{${mac}}`, 'old');
    }
    assert.deepEqual(await migrate(c.client), { from: 1, macs: 20, devices: 20 });
    const s = c.store();
    for (const mac of macs) assert.equal((await s.findDevice(mac as Mac))?.site, 'Annex', mac);
  });
});

describe('a Redis Cluster that requires a password (REDIS_CLUSTER_NODES with redis://:pass@host)', () => {
  const c = new TestCluster('cluster pass/word:1');
  before(async function () {
    this.timeout(60000);
    await c.start();
  });
  after(() => c.stop());

  it('reaches every master with the password of the seed URLs', async () => {
    const s = c.store();
    // enough tenants that every master holds some (their slots spread over the whole range)
    const tenants = Array.from({ length: 30 }, (_, i) => `t${i}`);
    const masters = new Set(tenants.map((t) => Math.floor(clusterSlot(`{t:${t}}`) / (16384 / 3))));
    assert.equal(masters.size, 3);
    for (const t of tenants) await s.putTenant(t, { name: t, language: null }, 'test');
    assert.deepEqual(
      (await Promise.all(tenants.map((t) => s.getTenant(t)))).map((t) => t?.name),
      tenants,
    );
  });
});
