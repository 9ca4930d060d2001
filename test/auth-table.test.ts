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
import { DEVICE, keys } from '../src/store/keys';
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
  papLifetimeSeconds: 86400,
};
const NOW = 1_800_000_000_000;
/** A PAP issued exactly its lifetime ago: expired (issue 24). */
const EXPIRED = NOW - 86_400_000;
const WINDOW = 600;
const SOURCE = 'sip:192.0.2.66';

interface Case {
  name: string;
  before: Partial<AuthRecord> & { state: AuthState };
  right: boolean;
  outcome: AttemptOutcome;
  after: { state: AuthState; consecutiveFailures: number; totalFailures: number; failedUntil: number | null };
  attemptsLeft: number;
  /**
   * The attempt comes from a source with `recent` wrong PAPs in the window (1 s apart, the newest
   * 1 s ago) and `stale` ones just outside it; `sourceAfter` of them count afterwards.
   */
  source?: { recent: number; stale: number; limit: number; sourceAfter: number; crossed: boolean };
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
  {
    name: 'source below its limit: the wrong PAP counts for the device and the source',
    before: { state: 'needed' },
    right: false,
    outcome: 'wrong_pap',
    after: { state: 'needed', consecutiveFailures: 1, totalFailures: 1, failedUntil: null },
    attemptsLeft: 2,
    source: { recent: 1, stale: 2, limit: 3, sourceAfter: 2, crossed: false },
  },
  {
    name: 'the wrong PAP that brings the source to its limit still reaches the device, and crosses',
    before: { state: 'needed', consecutiveFailures: 1, totalFailures: 1 },
    right: false,
    outcome: 'wrong_pap',
    after: { state: 'needed', consecutiveFailures: 2, totalFailures: 2, failedUntil: null },
    attemptsLeft: 1,
    source: { recent: 2, stale: 0, limit: 3, sourceAfter: 3, crossed: true },
  },
  {
    name: 'source at its limit: refused before the device, even with the right PAP',
    before: { state: 'needed', consecutiveFailures: 2, totalFailures: 5 },
    right: true,
    outcome: 'source_limited',
    after: { state: 'needed', consecutiveFailures: 2, totalFailures: 5, failedUntil: null },
    attemptsLeft: 0,
    source: { recent: 3, stale: 1, limit: 3, sourceAfter: 3, crossed: false },
  },
  {
    name: "source at its limit: a device's run-out lock is left as it is",
    before: { state: 'failed', consecutiveFailures: 3, totalFailures: 3, failedUntil: NOW - 5 },
    right: false,
    outcome: 'source_limited',
    after: { state: 'failed', consecutiveFailures: 3, totalFailures: 3, failedUntil: NOW - 5 },
    attemptsLeft: 0,
    source: { recent: 4, stale: 0, limit: 3, sourceAfter: 4, crossed: false },
  },
  {
    name: 'wrong PAPs older than the window no longer count',
    before: { state: 'needed' },
    right: false,
    outcome: 'wrong_pap',
    after: { state: 'needed', consecutiveFailures: 1, totalFailures: 1, failedUntil: null },
    attemptsLeft: 2,
    source: { recent: 0, stale: 5, limit: 3, sourceAfter: 1, crossed: false },
  },
  {
    name: 'a right PAP does not count against the source',
    before: { state: 'needed' },
    right: true,
    outcome: 'successful',
    after: { state: 'successful', consecutiveFailures: 0, totalFailures: 0, failedUntil: null },
    attemptsLeft: 0,
    source: { recent: 2, stale: 0, limit: 3, sourceAfter: 2, crossed: false },
  },
  {
    name: 'an attempt on a blocked device tests no PAP and does not count',
    before: { state: 'blocked', consecutiveFailures: 3, totalFailures: 9 },
    right: false,
    outcome: 'blocked',
    after: { state: 'blocked', consecutiveFailures: 3, totalFailures: 9, failedUntil: null },
    attemptsLeft: 0,
    source: { recent: 2, stale: 0, limit: 3, sourceAfter: 2, crossed: false },
  },
  {
    name: 'PAP older than PAP_LIFETIME_DAYS: the right PAP refused as pap_expired, nothing changes',
    before: { state: 'needed', consecutiveFailures: 1, totalFailures: 1, papIssuedAt: EXPIRED },
    right: true,
    outcome: 'pap_expired',
    after: { state: 'needed', consecutiveFailures: 1, totalFailures: 1, failedUntil: null },
    attemptsLeft: 0,
  },
  {
    name: 'PAP one millisecond short of its lifetime: still accepted',
    before: { state: 'needed', papIssuedAt: EXPIRED + 1 },
    right: true,
    outcome: 'successful',
    after: { state: 'successful', consecutiveFailures: 0, totalFailures: 0, failedUntil: null },
    attemptsLeft: 0,
  },
  {
    name: 'an expired PAP: a wrong one counts neither for the device nor the source',
    before: { state: 'needed', consecutiveFailures: 2, totalFailures: 2, papIssuedAt: EXPIRED },
    right: false,
    outcome: 'pap_expired',
    after: { state: 'needed', consecutiveFailures: 2, totalFailures: 2, failedUntil: null },
    attemptsLeft: 0,
    source: { recent: 2, stale: 0, limit: 3, sourceAfter: 2, crossed: false },
  },
  {
    name: 'an expired PAP during a lock: pap_expired (it will not work after the lock either), the lock kept',
    before: {
      state: 'failed',
      consecutiveFailures: 3,
      totalFailures: 3,
      failedUntil: NOW + 1,
      papIssuedAt: EXPIRED,
    },
    right: true,
    outcome: 'pap_expired',
    after: { state: 'failed', consecutiveFailures: 3, totalFailures: 3, failedUntil: NOW + 1 },
    attemptsLeft: 0,
  },
  {
    name: 'blocked stays blocked, successful needs none, whatever the PAP\u2019s age',
    before: { state: 'blocked', consecutiveFailures: 3, totalFailures: 9, papIssuedAt: EXPIRED },
    right: true,
    outcome: 'blocked',
    after: { state: 'blocked', consecutiveFailures: 3, totalFailures: 9, failedUntil: null },
    attemptsLeft: 0,
  },
  {
    name: 'successful with an old PAP issue: not required',
    before: { state: 'successful', papIssuedAt: EXPIRED },
    right: true,
    outcome: 'not_required',
    after: { state: 'successful', consecutiveFailures: 0, totalFailures: 0, failedUntil: null },
    attemptsLeft: 0,
  },
];

/** The source's wrong PAPs before the attempt (ms): `recent` in the window, `stale` just outside. */
function sourceLog(c: Case): number[] {
  const s = c.source!;
  return [
    ...Array.from({ length: s.stale }, (_, i) => NOW - WINDOW * 1000 - i),
    ...Array.from({ length: s.recent }, (_, i) => NOW - 1000 * (s.recent - i)),
  ];
}

/** When a refused source is let in again: its oldest wrong PAP in the window leaves it. */
function retryAt(c: Case): number | null {
  return c.outcome === 'source_limited' ? NOW - 1000 * c.source!.recent + WINDOW * 1000 : null;
}

function record(c: Case): AuthRecord {
  return {
    consecutiveFailures: 0,
    totalFailures: 0,
    failedUntil: null,
    suspendedUntil: null,
    papIssuedAt: NOW - 1000,
    ...c.before,
  };
}

describe('state machine table: pure function', () => {
  for (const c of cases) {
    it(c.name, () => {
      const r = attemptPap(
        record(c),
        c.right,
        NOW,
        policy,
        c.source && { wrongAt: sourceLog(c), limit: c.source.limit, windowSeconds: WINDOW },
      );
      assert.equal(r.outcome, c.outcome);
      if (c.source) {
        assert.equal(r.source?.wrongAt.length, c.source.sourceAfter);
        assert.equal(r.source?.crossed, c.source.crossed);
        assert.equal(r.source?.retryAt, retryAt(c));
      } else assert.equal(r.source, null);
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
  /** Tenant t1 with one device, 0004f2000001. */
  const seed = async (store: ReturnType<TestRedis['store']>) => {
    await store.putTenant('t1', { name: 't1', language: null }, 'test');
    const res = await store.createDevices(
      't1',
      [parseNewDevice({ mac: '0004f2000001', vendor: 'poly', model: 'VVX450', site: 's' })],
      'test',
    );
    assert.ok(res !== 'unknown_tenant' && res.ok);
    return res;
  };
  before(() => r.start());
  after(() => r.stop());

  for (const c of cases) {
    it(c.name, async () => {
      await r.flush();
      const store = r.store(
        c.source
          ? {
              ...policy,
              guessing: { perSource: 1000, perSourceTenant: c.source.limit, windowSeconds: WINDOW },
            }
          : policy,
        () => NOW,
      );
      const res = await seed(store);
      const pap = res.devices[0]!.pap;
      const rec = record(c);
      await r.client.hSet(keys.tenant('t1').device('0004f2000001'), {
        [DEVICE.state]: rec.state,
        [DEVICE.consecutiveFailures]: String(rec.consecutiveFailures),
        [DEVICE.totalFailures]: String(rec.totalFailures),
        [DEVICE.failedUntil]: rec.failedUntil === null ? '' : String(rec.failedUntil),
        [DEVICE.papIssuedAt]: String(rec.papIssuedAt),
      });
      if (rec.state === 'failed')
        await r.client.zAdd(keys.tenant('t1').locks, { score: rec.failedUntil!, value: '0004f2000001' });
      const guesses = keys.tenant('t1').guesses(SOURCE);
      if (c.source)
        await r.client.zAdd(
          guesses,
          sourceLog(c).map((t, i) => ({ score: t, value: `seed-${i}` })),
        );
      const wrong = pap === '999999' ? '000000' : '999999';
      const reply = await store.attemptPap(
        res.devices[0]!.mac,
        c.right ? pap : wrong,
        '192.0.2.1',
        'test',
        'api',
        c.source ? { source: SOURCE } : {},
      );
      assert.equal(reply.outcome, c.outcome);
      assert.equal(reply.retryAt, c.source ? retryAt(c) : null);
      if (c.source) {
        assert.equal(await r.client.zCard(guesses), c.source.sourceAfter);
        const crossings = (await store.events('t1', 100)).filter((e) => e.type === 'source_limited');
        assert.equal(crossings.length, c.source.crossed ? 1 : 0, 'a crossing is audited once');
      }
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
        assert.deepEqual(
          (await store.temporaryWhitelist('t1')).map((e) => [e.ip, e.site, e.expiresAt]),
          [['192.0.2.1', 's', NOW + 120_000]],
          'for the site of the device that authenticated',
        );
      }
    });
  }

  it('a device never reset: its PAP was issued when it was added; a reset issues a new one, from now', async () => {
    await r.flush();
    let now = NOW - 86_400_000;
    const store = r.store(policy, () => now);
    const res = await seed(store);
    const mac = res.devices[0]!.mac;
    assert.equal(Number(await r.client.hExists(keys.tenant('t1').device(mac), DEVICE.papIssuedAt)), 0);
    now = NOW;
    const expired = await store.attemptPap(mac, res.devices[0]!.pap, null, 'test', 'api');
    assert.equal(expired.outcome, 'pap_expired');
    assert.equal(
      attemptPap((await store.getDevice('t1', mac)) as AuthRecord, true, NOW, policy).outcome,
      'pap_expired',
    );
    const reset = await store.resetDevice('t1', mac, 'test');
    assert.equal((await store.attemptPap(mac, reset!.pap, null, 'test', 'api')).outcome, 'successful');
  });
});
