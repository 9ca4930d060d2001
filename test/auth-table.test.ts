import assert from 'node:assert/strict';
import {
  attemptPap,
  settle,
  type AuthRecord,
  type AuthPolicy,
  type AttemptOutcome,
  type AuthState,
} from '../src/domain/auth';
import { parseNewDevice } from '../src/domain/device';
import { keys } from '../src/store/keys';
import { TestRedis } from './support/redis';

/**
 * One table, two implementations: the pure state machine in src/domain/auth.ts and the Lua script
 * that the store runs. Both must agree on every row.
 */
const policy: AuthPolicy = {
  maxConsecutiveFailures: 3,
  failedLockSeconds: 60,
  maxTotalFailures: 9,
  suspendSeconds: 60,
  tempWhitelistSeconds: 120,
};
const NOW = 1_800_000_000_000;

interface Case {
  name: string;
  before: Partial<AuthRecord> & { state: AuthState };
  right: boolean;
  outcome: AttemptOutcome;
  after: { state: AuthState; consecutiveFailures: number; totalFailures: number; failedUntil: number | null };
  attemptsLeft: number;
}

const cases: Case[] = [
  {
    name: 'needed + right PAP -> successful (1)',
    before: { state: 'needed', consecutiveFailures: 2, totalFailures: 5 },
    right: true,
    outcome: 'successful',
    after: { state: 'successful', consecutiveFailures: 0, totalFailures: 0, failedUntil: null },
    attemptsLeft: 0,
  },
  {
    name: 'needed + wrong PAP -> wrong_pap',
    before: { state: 'needed' },
    right: false,
    outcome: 'wrong_pap',
    after: { state: 'needed', consecutiveFailures: 1, totalFailures: 1, failedUntil: null },
    attemptsLeft: 2,
  },
  {
    name: 'third wrong in a row -> failed (2)',
    before: { state: 'needed', consecutiveFailures: 2, totalFailures: 2 },
    right: false,
    outcome: 'failed',
    after: { state: 'failed', consecutiveFailures: 3, totalFailures: 3, failedUntil: NOW + 60_000 },
    attemptsLeft: 0,
  },
  {
    name: 'ninth wrong in total -> blocked (4)',
    before: { state: 'needed', consecutiveFailures: 2, totalFailures: 8 },
    right: false,
    outcome: 'blocked',
    after: { state: 'blocked', consecutiveFailures: 3, totalFailures: 9, failedUntil: null },
    attemptsLeft: 0,
  },
  {
    name: 'attempts left are bounded by the total',
    before: { state: 'needed', consecutiveFailures: 0, totalFailures: 7 },
    right: false,
    outcome: 'wrong_pap',
    after: { state: 'needed', consecutiveFailures: 1, totalFailures: 8, failedUntil: null },
    attemptsLeft: 1,
  },
  {
    name: 'failed lock active: right PAP refused, nothing counted',
    before: { state: 'failed', consecutiveFailures: 3, totalFailures: 3, failedUntil: NOW + 1 },
    right: true,
    outcome: 'failed',
    after: { state: 'failed', consecutiveFailures: 3, totalFailures: 3, failedUntil: NOW + 1 },
    attemptsLeft: 0,
  },
  {
    name: 'failed lock expired -> needed (3), then the right PAP succeeds',
    before: { state: 'failed', consecutiveFailures: 3, totalFailures: 3, failedUntil: NOW },
    right: true,
    outcome: 'successful',
    after: { state: 'successful', consecutiveFailures: 0, totalFailures: 0, failedUntil: null },
    attemptsLeft: 0,
  },
  {
    name: 'failed lock expired, wrong PAP counts from zero again',
    before: { state: 'failed', consecutiveFailures: 3, totalFailures: 3, failedUntil: NOW - 5 },
    right: false,
    outcome: 'wrong_pap',
    after: { state: 'needed', consecutiveFailures: 1, totalFailures: 4, failedUntil: null },
    attemptsLeft: 2,
  },
  {
    name: 'blocked: right PAP refused',
    before: { state: 'blocked', consecutiveFailures: 3, totalFailures: 9 },
    right: true,
    outcome: 'blocked',
    after: { state: 'blocked', consecutiveFailures: 3, totalFailures: 9, failedUntil: null },
    attemptsLeft: 0,
  },
  {
    name: 'successful: PAP not required',
    before: { state: 'successful' },
    right: false,
    outcome: 'not_required',
    after: { state: 'successful', consecutiveFailures: 0, totalFailures: 0, failedUntil: null },
    attemptsLeft: 0,
  },
];

function record(c: Case): AuthRecord {
  return { consecutiveFailures: 0, totalFailures: 0, failedUntil: null, suspendedUntil: null, ...c.before };
}

describe('state machine table: pure function', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = attemptPap(record(c), c.right, NOW, policy);
      assert.equal(r.outcome, c.outcome);
      assert.equal(r.attemptsLeft, c.attemptsLeft);
      const { state, consecutiveFailures, totalFailures, failedUntil } = r.next;
      assert.deepEqual({ state, consecutiveFailures, totalFailures, failedUntil }, c.after);
    });
  }
  it('settle leaves an active lock alone', () => {
    const rec: AuthRecord = {
      state: 'failed',
      consecutiveFailures: 3,
      totalFailures: 3,
      failedUntil: NOW + 1,
      suspendedUntil: null,
    };
    assert.equal(settle(rec, NOW), rec);
    assert.equal(settle(rec, NOW + 1).state, 'needed');
  });
});

describe('state machine table: Lua script in Redis', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(() => r.stop());

  for (const c of cases) {
    it(c.name, async () => {
      await r.flush();
      const store = r.store(policy, () => NOW);
      await store.putTenant('t1', { name: 't1', language: null }, 'test');
      const res = await store.createDevices(
        't1',
        [parseNewDevice({ mac: '0004f2000001', vendor: 'poly', model: 'VVX450', site: 's' })],
        'test',
      );
      assert.ok(res !== 'unknown_tenant' && res.ok);
      const pap = res.devices[0]!.pap;
      const rec = record(c);
      await r.client.hSet(keys.tenant('t1').device('0004f2000001'), {
        state: rec.state,
        consec: String(rec.consecutiveFailures),
        total: String(rec.totalFailures),
        failedUntil: rec.failedUntil === null ? '' : String(rec.failedUntil),
      });
      if (rec.state === 'failed')
        await r.client.zAdd(keys.tenant('t1').locks, { score: rec.failedUntil!, value: '0004f2000001' });
      const wrong = pap === '999999' ? '000000' : '999999';
      const reply = await store.attemptPap(
        res.devices[0]!.mac,
        c.right ? pap : wrong,
        '192.0.2.1',
        'test',
        'api',
      );
      assert.equal(reply.outcome, c.outcome);
      assert.equal(reply.attemptsLeft, c.attemptsLeft);
      const d = (await store.getDevice('t1', res.devices[0]!.mac))!;
      const { state, consecutiveFailures, totalFailures, failedUntil } = d;
      assert.deepEqual({ state, consecutiveFailures, totalFailures, failedUntil }, c.after);
      const locked = await r.client.zScore(keys.tenant('t1').locks, d.mac);
      assert.equal(
        locked,
        c.after.state === 'failed' ? c.after.failedUntil : null,
        'lock index follows the state',
      );
      if (c.outcome === 'successful') {
        assert.equal(d.pap, '', 'the PAP is discarded once used');
        assert.equal(await store.temporaryWhitelistUntil('t1', '192.0.2.1'), NOW + 120_000);
      }
    });
  }
});
