import type { AuthState, PapCheckOutcome, SourceCrossing } from '../domain/auth';
import type { Mac } from '../domain/mac';
import { generatePap } from '../domain/pap';
import type { Audit } from './audit';
import { StorePart, type Actor, type StoreContext } from './context';
import type { Devices } from './devices';
import { toNum } from './device-record';
import { SourceGuesses } from './guesses';
import { keys } from './keys';
import { scripts } from './scripts';

export interface AttemptReply {
  readonly outcome: PapCheckOutcome;
  readonly attemptsLeft: number;
  readonly state: AuthState | null;
  readonly failedUntil: number | null;
  /** The IP a success put on the temporary whitelist (null: none known). */
  readonly whitelistedIp: string | null;
  readonly tenant: string | null;
  /** `source_limited`: when the source is let in again (ms). */
  readonly retryAt: number | null;
}

/**
 * The authentication state of devices (docs/security.md, "States and transitions"; src/domain/auth.ts): the one atomic PAP
 * check (attempt.lua, with the source's guesses across tenants in guesses.ts), the expiry of
 * `failed` locks, an admin's reset (transition 5) and suspension.
 */
export class Authentication extends StorePart {
  private readonly guesses: SourceGuesses;

  constructor(
    ctx: StoreContext,
    private readonly devices: Pick<Devices, 'tenantOfMac'>,
    private readonly audit: Pick<Audit, 'appendEvent'>,
  ) {
    super(ctx);
    this.guesses = new SourceGuesses(ctx.redis);
  }

  /**
   * The one atomic PAP check (IVR and HTTP). `ip`: where the phone is (the caller's address), which
   * a success puts on the temporary whitelist; null: none is known and nothing is whitelisted (never
   * the device's last provisioning address: anyone can fetch a file). The PAP must already have
   * been checked for format by the caller.
   * `source` (the caller's public IP, trusted PBX or API client) is counted against the policy's
   * guessing limits: in the tenant inside attempt.lua, across tenants through SourceGuesses.
   */
  async attemptPap(
    mac: Mac,
    pap: string,
    ip: string | null,
    actor: Actor,
    channel: 'ivr' | 'api',
    opts: {
      /** A tenant admin token may check only its own devices: others are unknown to it. */
      readonly onlyTenant?: string;
      readonly source?: string;
    } = {},
  ): Promise<AttemptReply> {
    await this.ready();
    // A hint (TenantHints) saves the index read; attempt.lua finds no device under a stale one.
    const hint = this.ctx.hints.get(mac);
    const hinted = hint !== undefined && (opts.onlyTenant === undefined || hint === opts.onlyTenant);
    const tenant = hinted ? hint : await this.devices.tenantOfMac(mac);
    const none: AttemptReply = {
      outcome: 'unknown_device',
      attemptsLeft: 0,
      state: null,
      failedUntil: null,
      whitelistedIp: null,
      tenant: null,
      retryAt: null,
    };
    if (tenant === null || (opts.onlyTenant !== undefined && tenant !== opts.onlyTenant)) return none;
    const a = this.opts.auth;
    const limits = opts.source === undefined ? undefined : a.guessing;
    const source = limits === undefined ? '' : opts.source!;
    if (/[{}]/.test(source)) throw new Error(`source "${source}" would break the key's hash tag`);
    const now = this.now();
    const limited = (retryAt: number): AttemptReply => ({
      ...none,
      outcome: 'source_limited',
      tenant,
      retryAt,
    });

    const reserved =
      limits && (await this.guesses.reserve(source, now, limits.perSource, limits.windowSeconds));
    if (reserved && 'retryAt' in reserved) return limited(reserved.retryAt);
    const k = keys.tenant(tenant);
    let r: {
      outcome: AttemptReply['outcome'];
      attemptsLeft?: number;
      state?: AuthState;
      failedUntil?: string;
      whitelistedIp?: string;
      retryAt?: string;
      counted?: boolean;
      crossed?: boolean;
      stored?: AuthState;
      from?: AuthState;
    };
    try {
      const raw = await scripts.attempt.run(
        this.redis,
        [k.device(mac), k.tempWhitelist, k.locks, k.events, k.guesses(source), k.guessAlerted(source)],
        [
          pap,
          now,
          a.maxConsecutiveFailures,
          a.failedLockSeconds,
          a.maxTotalFailures,
          a.tempWhitelistSeconds,
          ip ?? '',
          actor,
          this.maxlen,
          channel,
          source,
          limits?.perSourceTenant ?? 0,
          limits?.windowSeconds ?? 0,
          (a.papLifetimeSeconds ?? 0) * 1000,
        ],
      );
      r = JSON.parse(raw as string);
    } catch (err) {
      if (reserved) await this.guesses.release(source, reserved.member).catch(() => undefined);
      throw err;
    }
    if (reserved && !r.counted) await this.guesses.release(source, reserved.member);
    const crossing = (scope: SourceCrossing['scope'], limit: number) =>
      this.signalCrossing({
        source,
        scope,
        tenant,
        mac,
        limit,
        windowSeconds: limits!.windowSeconds,
        at: now,
      });
    if (r.crossed) crossing('tenant', limits!.perSourceTenant);
    if (
      reserved &&
      r.counted &&
      reserved.count >= limits!.perSource &&
      (await this.guesses.firstCrossing(source, now, limits!.windowSeconds))
    ) {
      await this.audit.appendEvent(tenant, 'source_limited', {
        source,
        scope: 'all',
        mac,
        count: String(reserved.count),
        limit: String(limits!.perSource),
        windowSeconds: String(limits!.windowSeconds),
      });
      crossing('all', limits!.perSource);
    }
    if (r.outcome === 'unknown_device') {
      if (!hinted) return none;
      this.ctx.hints.forget(mac);
      return this.attemptPap(mac, pap, ip, actor, channel, opts);
    }
    this.ctx.hints.remember(mac, tenant);
    if (r.stored === 'failed' && r.from === 'needed') this.ctx.transitioned('failed', 'needed');
    if (r.from !== undefined && r.state !== undefined && r.state !== r.from)
      this.ctx.transitioned(r.from, r.state);
    if (r.outcome === 'source_limited') return limited(Number(r.retryAt));
    return {
      outcome: r.outcome,
      attemptsLeft: r.attemptsLeft ?? 0,
      state: r.state ?? null,
      failedUntil: toNum(r.failedUntil),
      whitelistedIp: r.whitelistedIp || null,
      tenant,
      retryAt: null,
    };
  }

  private signalCrossing(c: SourceCrossing): void {
    try {
      this.opts.onSourceLimited?.(c);
    } catch {
      // An alerting failure must never fail the attempt it is about.
    }
  }

  /** Applies transition 3 now if the lock has run out; answers whether it did. */
  async settleLock(tenant: string, mac: Mac): Promise<boolean> {
    await this.ready();
    const k = keys.tenant(tenant);
    const settled =
      (await scripts.settle.run(
        this.redis,
        [k.device(mac), k.locks, k.events],
        [mac, this.now(), this.maxlen],
      )) === 1;
    if (settled) this.ctx.transitioned('failed', 'needed');
    return settled;
  }

  /** Devices of a tenant whose `failed` lock has run out by now. */
  async expiredLocks(tenant: string): Promise<Mac[]> {
    return (await this.redis.zRangeByScore(keys.tenant(tenant).locks, 0, this.now())) as Mac[];
  }

  /** Transition 5; answers the new PAP, or null for an unknown device. */
  async resetDevice(tenant: string, mac: Mac, actor: Actor): Promise<{ pap: string } | null> {
    await this.ready();
    const k = keys.tenant(tenant);
    const pap = generatePap();
    const reply = JSON.parse(
      (await scripts.reset.run(
        this.redis,
        [k.device(mac), k.locks, k.events],
        [pap, this.now(), this.maxlen, actor],
      )) as string,
    );
    if (reply.error) return null;
    this.ctx.transitioned(reply.from, 'needed');
    return { pap };
  }

  /**
   * An admin's suspension for AUTH_SUSPEND_SECONDS, bound to `network` (the canonical text of an
   * address or CIDR range, see parseSuspensionNetwork): only a fetch from it gets the file. Null:
   * unbound, the first fetch from anywhere gets it.
   */
  async suspendDevice(
    tenant: string,
    mac: Mac,
    actor: Actor,
    network: string | null = null,
  ): Promise<{ suspendedUntil: number } | null> {
    await this.ready();
    const k = keys.tenant(tenant);
    const now = this.now();
    const until = now + this.opts.auth.suspendSeconds * 1000;
    const reply = JSON.parse(
      (await scripts.suspend.run(
        this.redis,
        [k.device(mac), k.events],
        [until, now, this.maxlen, actor, network ?? ''],
      )) as string,
    );
    return reply.error ? null : { suspendedUntil: until };
  }

  /** Transition 7 (unlockFailed): the unlocked device, or why not (unknown, or not `failed`: its settled state). */
  async unlockDevice(
    tenant: string,
    mac: Mac,
    actor: Actor,
  ): Promise<
    | { ok: true }
    | { ok: false; error: 'unknown_device' }
    | { ok: false; error: 'not_failed'; state: AuthState }
  > {
    await this.ready();
    const k = keys.tenant(tenant);
    const reply = JSON.parse(
      (await scripts.unlock.run(
        this.redis,
        [k.device(mac), k.locks, k.events],
        [this.now(), this.maxlen, actor],
      )) as string,
    );
    if (reply.error === 'unknown_device') return { ok: false, error: 'unknown_device' };
    if (reply.error === 'not_failed') return { ok: false, error: 'not_failed', state: reply.state };
    this.ctx.transitioned('failed', 'needed');
    return { ok: true };
  }

  /** Ends a running PIN bypass (endPinBypass): when it would have run out, or null when none ran ('unknown' for no device). */
  async endPinBypass(tenant: string, mac: Mac, actor: Actor): Promise<number | null | 'unknown'> {
    await this.ready();
    const k = keys.tenant(tenant);
    const reply = JSON.parse(
      (await scripts.endbypass.run(
        this.redis,
        [k.device(mac), k.events],
        [this.now(), this.maxlen, actor],
      )) as string,
    );
    if (reply.error === 'unknown_device') return 'unknown';
    return reply.error ? null : Number(reply.ended);
  }

  /**
   * disable.lua: a disabled device gets only the minimal configuration and takes no PAP (see
   * decideProvisioning, attemptOnDisabled). True when this changed it, false when it was so
   * already, null for no device.
   */
  async setDisabled(tenant: string, mac: Mac, disabled: boolean, actor: Actor): Promise<boolean | null> {
    await this.ready();
    const k = keys.tenant(tenant);
    const r = await scripts.disable.run(
      this.redis,
      [k.device(mac), k.events],
      [disabled ? 'disable' : 'enable', this.now(), this.maxlen, actor],
    );
    return r === -1 ? null : r === 1;
  }
}
