/**
 * The authentication state machine of SPEC section 3, as pure functions of plain data and `now`
 * (milliseconds). `src/store/lua/attempt.lua` mirrors `attemptPap` and `settle`; the test
 * `test/auth-table.test.ts` runs one table of cases against both.
 */

export const AUTH_STATES = ['needed', 'failed', 'blocked', 'successful'] as const;
export type AuthState = (typeof AUTH_STATES)[number];

export type BypassReason = 'pap' | 'credential' | 'whitelist' | 'temporary_whitelist' | 'suspension';

export interface AuthPolicy {
  readonly maxConsecutiveFailures: number;
  readonly failedLockSeconds: number;
  readonly maxTotalFailures: number;
  readonly suspendSeconds: number;
  readonly tempWhitelistSeconds: number;
}

export interface AuthRecord {
  readonly state: AuthState;
  readonly consecutiveFailures: number;
  readonly totalFailures: number;
  /** ms epoch; set while `failed` */
  readonly failedUntil: number | null;
  /** ms epoch; authentication suspended while now < suspendedUntil */
  readonly suspendedUntil: number | null;
}

export type AttemptOutcome = 'successful' | 'wrong_pap' | 'failed' | 'blocked' | 'not_required';

export interface AttemptResult {
  readonly outcome: AttemptOutcome;
  readonly next: AuthRecord;
  /** Wrong PAPs the device may still take before the next lock (0 when none is accepted). */
  readonly attemptsLeft: number;
  /** Set when this attempt changed the state. */
  readonly transition: { from: AuthState; to: AuthState } | null;
}

/** Transition 3, evaluated lazily: a `failed` lock that has run out is `needed` again. */
export function settle(rec: AuthRecord, now: number): AuthRecord {
  if (rec.state === 'failed' && rec.failedUntil !== null && now >= rec.failedUntil) {
    return { ...rec, state: 'needed', consecutiveFailures: 0, failedUntil: null };
  }
  return rec;
}

export function attemptsLeft(rec: AuthRecord, policy: AuthPolicy): number {
  if (rec.state !== 'needed') return 0;
  return Math.max(
    0,
    Math.min(
      policy.maxConsecutiveFailures - rec.consecutiveFailures,
      policy.maxTotalFailures - rec.totalFailures,
    ),
  );
}

/** One PAP attempt (transitions 1, 2, 4). The PAP itself never enters here: only whether it matched. */
export function attemptPap(
  stored: AuthRecord,
  papMatches: boolean,
  now: number,
  policy: AuthPolicy,
): AttemptResult {
  const rec = settle(stored, now);
  const settled = rec !== stored ? { from: stored.state, to: rec.state } : null;
  const unchanged = (outcome: AttemptOutcome): AttemptResult => ({
    outcome,
    next: rec,
    attemptsLeft: 0,
    transition: settled,
  });
  if (rec.state === 'successful') return unchanged('not_required');
  if (rec.state === 'blocked') return unchanged('blocked');
  if (rec.state === 'failed') return unchanged('failed');

  if (papMatches) {
    const next: AuthRecord = {
      ...rec,
      state: 'successful',
      consecutiveFailures: 0,
      totalFailures: 0,
      failedUntil: null,
    };
    return {
      outcome: 'successful',
      next,
      attemptsLeft: 0,
      transition: { from: stored.state, to: 'successful' },
    };
  }

  const consecutiveFailures = rec.consecutiveFailures + 1;
  const totalFailures = rec.totalFailures + 1;
  if (totalFailures >= policy.maxTotalFailures) {
    const next: AuthRecord = {
      ...rec,
      state: 'blocked',
      consecutiveFailures,
      totalFailures,
      failedUntil: null,
    };
    return { outcome: 'blocked', next, attemptsLeft: 0, transition: { from: stored.state, to: 'blocked' } };
  }
  if (consecutiveFailures >= policy.maxConsecutiveFailures) {
    const next: AuthRecord = {
      ...rec,
      state: 'failed',
      consecutiveFailures,
      totalFailures,
      failedUntil: now + policy.failedLockSeconds * 1000,
    };
    return { outcome: 'failed', next, attemptsLeft: 0, transition: { from: stored.state, to: 'failed' } };
  }
  const next: AuthRecord = { ...rec, consecutiveFailures, totalFailures };
  return { outcome: 'wrong_pap', next, attemptsLeft: attemptsLeft(next, policy), transition: settled };
}

export function isSuspended(rec: AuthRecord, now: number): boolean {
  return rec.suspendedUntil !== null && now < rec.suspendedUntil;
}
