import assert from 'node:assert/strict';
import { TestRedis } from './support/redis';
import { parseNewDevice } from '../src/domain/device';
import { parseMac } from '../src/domain/mac';

describe('store: devices and PAP attempts', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(() => r.stop());
  beforeEach(() => r.flush());

  it('creates a device and checks PAPs atomically', async () => {
    const s = r.store();
    await s.putTenant('acme', { name: 'Acme', language: null }, 'test');
    const res = await s.createDevices('acme', [parseNewDevice({ mac: '00:15:65:AA:BB:CC', vendor: 'yealink', model: 'T54W', site: 'HQ' })], 'test');
    assert.ok(res !== 'unknown_tenant' && res.ok);
    const pap = res.devices[0]!.pap;
    const mac = parseMac('001565aabbcc');
    const wrong = pap === '000000' ? '111111' : '000000';
    const a = await s.attemptPap(mac, wrong, '198.51.100.7', 'test', 'api');
    assert.equal(a.outcome, 'wrong_pap');
    assert.equal(a.attemptsLeft, 2);
    const ok = await s.attemptPap(mac, pap, '198.51.100.7', 'test', 'api');
    assert.equal(ok.outcome, 'successful');
    assert.equal(ok.whitelistedIp, '198.51.100.7');
    const again = await s.attemptPap(mac, pap, null, 'test', 'api');
    assert.equal(again.outcome, 'not_required');
    const ev = await s.events('acme', 50);
    assert.ok(ev.some((e) => e.type === 'attempt' && e.outcome === 'successful'));
    assert.ok(!JSON.stringify(ev).includes(pap), 'PAP must never reach the audit trail');
  });
});
