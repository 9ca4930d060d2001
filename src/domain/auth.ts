import type { Mac } from './mac';

/**
 * The reference rule of the authentication state machine (docs/security.md, "States and
 * transitions"), as pure functions of plain data and `now` (milliseconds). Production runs
 * `src/store/lua/attempt.lua`; `test/auth-table.test.ts` holds the script to these functions.
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
  /** How long a PAP can be used after it was issued (PAP_LIFETIME_DAYS); 0 or absent: for ever. */
  readonly papLifetimeSeconds?: number;
  /** Absent: no per-source limits (tools and tests that attempt PAPs directly). */
  readonly guessing?: GuessLimits;
}

/**
 * Wrong PAPs one source (a caller's public IP, a trusted PBX, an API client) may make across all
 * devices within a sliding window, per tenant and in total. Past them the source is refused
 * before it reaches a device, so guessing across many MACs neither succeeds nor locks the real users out.
 */
export interface GuessLimits {
  readonly perSource: number;
  readonly perSourceTenant: number;
  readonly windowSeconds: number;
}

export interface AuthRecord {
  readonly state: AuthState;
  readonly consecutiveFailures: number;
  readonly totalFailures: number;
  /** ms epoch; set while `failed` */
  readonly failedUntil: number | null;
  /** ms epoch; authentication suspended while now < suspendedUntil */
  readonly suspendedUntil: number | null;
  /** ms epoch; when the PAP was issued (the device added, or its last reset); absent: never expires */
  readonly papIssuedAt?: number;
}

export type AttemptOutcome =
  | 'successful'
  | 'wrong_pap'
  | 'failed'
  | 'blocked'
  | 'not_required'
  | 'source_limited'
  /** the PAP is older than PAP_LIFETIME_DAYS: refused like a lock, until a reset issues a new one */
  | 'pap_expired';

/** What a PAP check answers: the state machine's outcome, or that no device has the MAC. */
export type PapCheckOutcome = AttemptOutcome | 'unknown_device';

/** A source reaching its guessing limit (see GuessLimits); signalled once per crossing. */
export interface SourceCrossing {
  readonly source: string;
  /** 'tenant': its limit within `tenant`; 'all': its limit across all tenants. */
  readonly scope: 'tenant' | 'all';
  /** The tenant of the attempt that crossed; its audit trail holds the event. */
  readonly tenant: string;
  readonly mac: Mac;
  readonly limit: number;
  readonly windowSeconds: number;
  readonly at: number;
}

/** One source's wrong PAPs (ms) as the store holds them, and the limit that applies. */
interface SourceUse {
  readonly wrongAt: readonly number[];
  readonly limit: number;
  readonly windowSeconds: number;
}

interface SourceResult {
  /** The source's wrong PAPs still in the window, this attempt's included when it was one. */
  readonly wrongAt: readonly number[];
  /** This attempt's wrong PAP brought the source to its limit. */
  readonly crossed: boolean;
  /** When a refused source is let in again (ms); null when it was not refused. */
  readonly retryAt: number | null;
}

interface AttemptResult {
  readonly outcome: AttemptOutcome;
  readonly next: AuthRecord;
  /** Wrong PAPs the device may still take before the next lock (0 when none is accepted). */
  readonly attemptsLeft: number;
  /** Set when this attempt changed the state. */
  readonly transition: { from: AuthState; to: AuthState } | null;
  /** null when the attempt named no source. */
  readonly source: SourceResult | null;
}

/** The wrong PAPs of a source that still count at `now` (the window is sliding, not fixed). */
function sourceWindow(wrongAt: readonly number[], now: number, windowSeconds: number): number[] {
  return wrongAt.filter((t) => t > now - windowSeconds * 1000);
}

/** Transition 3 (docs/security.md#states-and-transitions), evaluated lazily: a `failed` lock that has run out is `needed` again. */
export function settle(rec: AuthRecord, now: number): AuthRecord {
  if (rec.state === 'failed' && rec.failedUntil !== null && now >= rec.failedUntil) {
    return { ...rec, state: 'needed', consecutiveFailures: 0, failedUntil: null };
  }
  return rec;
}

/**
 * Whether the device's PAP has outlived PAP_LIFETIME_DAYS (a sheet left in a drawer for months is
 * a PAP anyone who finds it can use): refused until a reset issues a new one. Only a PAP still to
 * be typed expires; an authenticated device has none.
 */
export function papExpired(
  rec: AuthRecord,
  now: number,
  policy: Pick<AuthPolicy, 'papLifetimeSeconds'>,
): boolean {
  const at = papExpiresAt(rec, policy);
  return at !== null && now >= at;
}

/** When the PAP still to be typed expires (null: PAP_LIFETIME_DAYS is 0, or none is to be typed). */
export function papExpiresAt(rec: AuthRecord, policy: Pick<AuthPolicy, 'papLifetimeSeconds'>): number | null {
  const lifetime = policy.papLifetimeSeconds ?? 0;
  return lifetime > 0 && rec.state !== 'successful' && rec.papIssuedAt !== undefined
    ? rec.papIssuedAt + lifetime * 1000
    : null;
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

/**
 * One PAP attempt (transitions 1, 2, 4 of docs/security.md#states-and-transitions). The PAP itself never enters here: only whether it matched.
 * With a source, a source at its limit is refused before the device is looked at (its record is
 * returned as stored, not even settled), and a wrong PAP on a `needed` device counts against it.
 */
export function attemptPap(
  stored: AuthRecord,
  papMatches: boolean,
  now: number,
  policy: AuthPolicy,
  source?: SourceUse,
): AttemptResult {
  if (source === undefined) return { ...attemptOnDevice(stored, papMatches, now, policy), source: null };
  const recent = sourceWindow(source.wrongAt, now, source.windowSeconds);
  if (recent.length >= source.limit) {
    return {
      outcome: 'source_limited',
      next: stored,
      attemptsLeft: 0,
      transition: null,
      source: { wrongAt: recent, crossed: false, retryAt: Math.min(...recent) + source.windowSeconds * 1000 },
    };
  }
  const settled = settle(stored, now);
  const counted = !papMatches && settled.state === 'needed' && !papExpired(settled, now, policy);
  const wrongAt = counted ? [...recent, now] : recent;
  return {
    ...attemptOnDevice(stored, papMatches, now, policy),
    source: { wrongAt, crossed: counted && wrongAt.length >= source.limit, retryAt: null },
  };
}

function attemptOnDevice(
  stored: AuthRecord,
  papMatches: boolean,
  now: number,
  policy: AuthPolicy,
): Omit<AttemptResult, 'source'> {
  const rec = settle(stored, now);
  const settled = rec !== stored ? { from: stored.state, to: rec.state } : null;
  const unchanged = (outcome: AttemptOutcome): Omit<AttemptResult, 'source'> => ({
    outcome,
    next: rec,
    attemptsLeft: 0,
    transition: settled,
  });
  if (rec.state === 'successful') return unchanged('not_required');
  if (rec.state === 'blocked') return unchanged('blocked');
  // before a lock: an expired PAP will not work after the lock either
  if (papExpired(rec, now, policy)) return unchanged('pap_expired');
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

/**
 * A PAP typed on a device an admin disabled (attempt.lua's first rule): answered as `blocked`
 * ("call your admin"), whether it matched or not; nothing is counted, changed or whitelisted but
 * transition 3 a lookup applies anyway.
 */
export function attemptOnDisabled(stored: AuthRecord, now: number): Omit<AttemptResult, 'source'> {
  const rec = settle(stored, now);
  return {
    outcome: 'blocked',
    next: rec,
    attemptsLeft: 0,
    transition: rec !== stored ? { from: stored.state, to: rec.state } : null,
  };
}

export function isSuspended(rec: Pick<AuthRecord, 'suspendedUntil'>, now: number): boolean {
  return rec.suspendedUntil !== null && now < rec.suspendedUntil;
}

/**
 * Transition 7 (docs/security.md#states-and-transitions): an admin unlocks a `failed` device before
 * its lock runs out. It is `needed` again with the PAP it had, as transition 3 leaves it (the
 * consecutive count restarts, the total does not, so `blocked` still comes at the same total).
 * Null when the device is not `failed` at `now`: there is nothing to unlock (a `blocked` device
 * needs a reset, a new PAP). Mirrored by `lua/unlock.lua`.
 */
export function unlockFailed(stored: AuthRecord, now: number): AuthRecord | null {
  const rec = settle(stored, now);
  if (rec.state !== 'failed') return null;
  return { ...rec, state: 'needed', consecutiveFailures: 0, failedUntil: null };
}

/**
 * An admin ends a PIN bypass (`suspendedUntil`) before it runs out; the state is unchanged. Null
 * when none runs at `now`. Mirrored by `lua/endbypass.lua`.
 */
export function endPinBypass(stored: AuthRecord, now: number): AuthRecord | null {
  if (!isSuspended(stored, now)) return null;
  return { ...stored, suspendedUntil: null };
}

/** A live temporary whitelist entry: an address, the site it lets in (null: the whole tenant), its expiry (ms). */
export interface TemporaryEntry {
  readonly ip: string;
  readonly site: string | null;
  readonly expiresAt: number;
}

/**
 * The temporary whitelist entries that would hand a device of `site` its full configuration without
 * a PAP (transition 6 through `temporary_whitelist`, as decideProvisioning applies it): those of its
 * site and the tenant-wide ones of before sites scoped them, still live at `now`. What an admin who
 * resets a device must remove for the reset to make the phone authenticate again from there.
 */
export function temporaryEntriesLettingIn(
  entries: readonly TemporaryEntry[],
  site: string,
  now: number,
): TemporaryEntry[] {
  return entries.filter((e) => e.expiresAt > now && (e.site === null || e.site === site));
}

/**
 * The temporary entries an admin's removal of `ip` takes (for one site, or every site when `site`
 * is null); `lua/untemp.lua` removes exactly these members, audited one by one.
 */
export function temporaryEntriesToRemove(
  entries: readonly TemporaryEntry[],
  ip: string,
  site: string | null,
): TemporaryEntry[] {
  return entries.filter((e) => e.ip === ip && (site === null || e.site === site || e.site === null));
}
