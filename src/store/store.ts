import type { AuthPolicy, AuthState, BypassReason, PapCheckOutcome } from '../domain/auth';
import type { Device, Language, NewDevice } from '../domain/device';
import {
  DEFAULT_DEVICE_CERTIFICATE_POLICY,
  isDeviceCertificatePolicy,
  type DeviceCertificatePolicy,
} from '../domain/devicecert';
import type { MinimalDisplay } from '../domain/display';
import { generatePap, generateSipPassword, hashCredential } from '../domain/pap';
import { BoundedMap } from '../lib/bounded';
import { clientOf } from '../domain/prefix';
import { DEFAULT_TRAFFIC_POLICY, type TrafficPolicy } from '../domain/traffic';
import { timeSlices } from '../lib/pacing';
import type { Mac } from '../domain/mac';
import {
  checkWhitelistCoverage,
  ipMatches,
  parseWhitelistEntry,
  type WhitelistEntry,
} from '../domain/whitelist';
import { isCluster, StoreNotReadyError, type RedisClient } from './connect';
import { deviceRecord, storedCredentialHash, toDevice, toNum } from './device-record';
import { SourceGuesses } from './guesses';
import { TenantHints } from './hints';
import { keys, tempWhitelistMember } from './keys';
import type { Schema } from './schema';
import { scripts } from './scripts';

export type { RedisClient };

export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly language: Language | null;
  /** IANA time zone of lock ends on phone displays; null: DEFAULT_TIME_ZONE. */
  readonly timeZone: string | null;
  /** What a phone's factory certificate counts for when it provisions (see domain/devicecert). */
  readonly deviceCertificate: DeviceCertificatePolicy;
  /** E.164 prefixes of the emergency caller IDs its tokens may set (operator only; see domain/emergency). */
  readonly emergencyCallerIdPrefixes: readonly string[];
  readonly createdAt: number;
}

/** What a provisioning decision reads (see Store.provisioningState). */
export interface ProvisioningState {
  /** null: no device has this MAC. */
  readonly device: Device | null;
  readonly tenant: Tenant | null;
  readonly whitelist: readonly WhitelistEntry[];
  /** Expiry (ms) of the address on the tenant's temporary whitelist, or null. */
  readonly temporaryWhitelistUntil: number | null;
  /** The client's provisioning misses in the current window, as every process counted them. */
  readonly misses: number;
}

/**
 * The fields of a device a configuration file is made of. From Store.provision only those of its
 * kind are read: a full answer's `sipPassword`, a minimal answer's `accounts` are left empty.
 */
export type RenderedDevice = Pick<
  Device,
  'tenant' | 'mac' | 'vendor' | 'model' | 'accounts' | 'language' | 'sipPassword'
>;

/** What Store.provision decided and recorded. */
export type ProvisionResult =
  /** The assumed vendor, model or certificate policy no longer hold (or no device): nothing written. */
  | { readonly kind: 'unsure' }
  /** The address is over the miss limit: nothing written. */
  | { readonly kind: 'limited' }
  | { readonly kind: 'refused'; readonly reason: string }
  | {
      readonly kind: 'full';
      readonly reason: Exclude<BypassReason, 'pap'>;
      readonly device: RenderedDevice;
    }
  | {
      readonly kind: 'minimal';
      readonly display: MinimalDisplay;
      readonly device: RenderedDevice;
      /** The end of the lock when the display says `failed`, else null. */
      readonly failedUntil: number | null;
      readonly tenantLanguage: Language | null;
      readonly tenantTimeZone: string | null;
    };

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

export interface AuditEvent {
  readonly id: string;
  readonly type: string;
  readonly ts: number;
  readonly [field: string]: string | number;
}

/** Why a device of an addition was refused; `owner`: the other tenant that holds its MAC. */
export interface CreateError {
  readonly index: number;
  readonly mac: Mac;
  readonly reason: string;
  readonly owner?: string;
}

export type CreateResult =
  | { readonly ok: true; readonly devices: readonly { mac: Mac; pap: string }[] }
  | { readonly ok: false; readonly errors: readonly CreateError[] };

/** The tenant's two event streams (see keys.ts): what admins did and changed, and phone traffic. */
export type EventStream = 'audit' | 'traffic';

export interface StoreOptions {
  readonly auth: AuthPolicy;
  readonly eventsMaxLen: number;
  /** Phone traffic: kept per tenant apart from the audit trail, and written per client and window. */
  readonly traffic?: TrafficPolicy;
  readonly now?: () => number;
  /** Called (never awaited, never throwing into the attempt) when a source crosses a guessing limit. */
  readonly onSourceLimited?: (c: SourceCrossing) => void;
  /** Called for every state transition a store operation made (metrics); must not throw. */
  readonly onTransition?: (from: AuthState, to: AuthState) => void;
  /** Devices are refused (as if Redis were away) until this has brought the database up to date. */
  readonly schema?: Schema;
}

type Actor = string;

function toTenant(id: string, h: Record<string, string>): Tenant | null {
  if (!h.createdAt) return null;
  return {
    id,
    name: h.name ?? id,
    language: (h.language || null) as Language | null,
    timeZone: h.timeZone || null,
    deviceCertificate: isDeviceCertificatePolicy(h.deviceCertificate)
      ? h.deviceCertificate
      : DEFAULT_DEVICE_CERTIFICATE_POLICY,
    emergencyCallerIdPrefixes: h.emergencyCallerIdPrefixes ? h.emergencyCallerIdPrefixes.split(',') : [],
    createdAt: Number(h.createdAt),
  };
}

/** A flat field/value list (as a script answers HGETALL) as an object. */
function pairs(flat: readonly string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  return h;
}

/** MACs claimed (and looked up) at once while adding devices: one pipelined batch each. */
const CLAIM_BATCH = 1000;
/** Device hashes read at once (one pipelined batch) by listDevices. */
const READ_BATCH = 500;
/** Devices created by one script: about 10 ms of Redis's time, during which it serves nothing else. */
const CREATE_BATCH = 500;

/** Whitelist entries by their stored text: every provisioning request reads them, parsing is pure. */
const parsedEntries = new BoundedMap<string, WhitelistEntry>(10_000);

function toWhitelist(raw: readonly string[]): WhitelistEntry[] {
  return [...raw].sort().map((text) => parsedEntries.memo(text, () => parseWhitelistEntry(text)));
}

/**
 * All of papgate's state. Each method is one atomic Redis operation on one tenant's slot, except
 * where a global index is involved (noted there). No method knows about HTTP or SIP.
 */
export class Store {
  private readonly now: () => number;
  private readonly guesses: SourceGuesses;
  private readonly hints = new TenantHints();
  private readonly traffic: TrafficPolicy;
  /** Client (address prefix) by address: every provisioning request names one. */
  private readonly clients = new BoundedMap<string, string>(10_000);

  constructor(
    readonly redis: RedisClient,
    private readonly opts: StoreOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.guesses = new SourceGuesses(redis);
    this.traffic = opts.traffic ?? DEFAULT_TRAFFIC_POLICY;
  }

  private get maxlen(): string {
    return String(this.opts.eventsMaxLen);
  }

  /**
   * The KEYS and ARGV of sinks() in prelude.lua: the audit trail, and the phone traffic of the
   * client `ip` belongs to.
   */
  private sinks(tenant: string, ip: string): { keys: string[]; args: (string | number)[] } {
    const k = keys.tenant(tenant);
    const t = this.traffic;
    const client = this.clients.memo(ip, () => clientOf(ip, t.clientPrefix));
    return {
      keys: [k.events, k.traffic, k.trafficGate(client)],
      args: [this.maxlen, t.maxLen, t.perClient, t.windowSeconds * 1000, client],
    };
  }

  get schema(): Schema | undefined {
    return this.opts.schema;
  }

  /** Waits while device records may still be in an older layout (see Schema). */
  private ready(): Promise<void> | undefined {
    return this.opts.schema?.ready(this.redis);
  }

  /**
   * Whether provision() can decide in one script: not on Redis Cluster, where the miss counter of
   * an address lies in another slot than the tenant's keys.
   */
  get provisionsInOneScript(): boolean {
    return !isCluster(this.redis);
  }

  /** Redis answers, and its data is in the current layout (else StoreNotReadyError at once). */
  async ping(): Promise<void> {
    if (this.opts.schema && !this.opts.schema.isCurrent) throw new StoreNotReadyError();
    await this.redis.ping();
  }

  // ---- tenants ---------------------------------------------------------------------------------

  /**
   * Creates or updates a tenant; answers whether it was created. An omitted `deviceCertificate`
   * or `emergencyCallerIdPrefixes` is left as it is: a client that does not know the field must
   * not weaken a "required", nor a tenant token's update drop the operator's prefixes.
   */
  async putTenant(
    id: string,
    data: {
      name: string;
      language: Language | null;
      timeZone?: string | null;
      deviceCertificate?: DeviceCertificatePolicy;
      emergencyCallerIdPrefixes?: readonly string[];
    },
    actor: Actor,
  ): Promise<boolean> {
    const k = keys.tenant(id);
    const now = this.now();
    const created = await this.redis.hSetNX(k.info, 'createdAt', String(now));
    const prefixes = data.emergencyCallerIdPrefixes?.join(',');
    await this.redis.hSet(k.info, {
      name: data.name,
      language: data.language ?? '',
      timeZone: data.timeZone ?? '',
      ...(data.deviceCertificate === undefined ? {} : { deviceCertificate: data.deviceCertificate }),
      ...(prefixes === undefined ? {} : { emergencyCallerIdPrefixes: prefixes }),
    });
    await scripts.audit.run(
      this.redis,
      [k.info, k.events],
      [
        'event',
        '',
        now,
        this.maxlen,
        created ? 'tenant_created' : 'tenant_updated',
        'actor',
        actor,
        ...(prefixes === undefined ? [] : ['emergencyCallerIdPrefixes', prefixes]),
      ],
    );
    // The global list lives in another slot; it only feeds the lock watcher, so it may lag.
    await this.redis.sAdd(keys.tenants(), id);
    return created;
  }

  async getTenant(id: string): Promise<Tenant | null> {
    return toTenant(id, await this.redis.hGetAll(keys.tenant(id).info));
  }

  async tenantIds(): Promise<string[]> {
    return (await this.redis.sMembers(keys.tenants())).sort();
  }

  // ---- devices ---------------------------------------------------------------------------------

  /**
   * Adds devices, all or nothing. The MAC index is global (another slot), so MACs are claimed
   * first with HSETNX (in pipelined batches) and released again if the tenant-side script refuses.
   * The devices are created by that script in chunks of CREATE_BATCH, so while a large addition is
   * under way some of its devices may already be read; a refused chunk deletes the chunks before it
   * again (audited as deleted by the same actor).
   */
  async createDevices(
    tenant: string,
    devices: readonly NewDevice[],
    actor: Actor,
  ): Promise<CreateResult | 'unknown_tenant'> {
    const errors: CreateError[] = [];
    const seen = new Map<string, number>();
    devices.forEach((d, i) => {
      const first = seen.get(d.mac);
      if (first !== undefined)
        errors.push({ index: i, mac: d.mac, reason: `duplicate of row ${first + 1} in this request` });
      else seen.set(d.mac, i);
    });
    if (errors.length) return { ok: false, errors };
    await this.ready();

    const claimed: Mac[] = [];
    for (let start = 0; start < devices.length; start += CLAIM_BATCH) {
      const batch = devices.slice(start, start + CLAIM_BATCH);
      const won = await Promise.all(batch.map((d) => this.redis.hSetNX(keys.macIndex(d.mac), d.mac, tenant)));
      const taken = batch.flatMap((d, i) => (won[i] ? (claimed.push(d.mac), []) : [{ d, index: start + i }]));
      const owners = await Promise.all(taken.map(({ d }) => this.redis.hGet(keys.macIndex(d.mac), d.mac)));
      // A claim by this tenant without a device is the leftover of an interrupted earlier call.
      const leftover = await Promise.all(
        taken.map(({ d }, i) =>
          owners[i] === tenant
            ? this.redis.exists(keys.tenant(tenant).device(d.mac)).then((n) => n === 0)
            : false,
        ),
      );
      taken.forEach(({ d, index }, i) => {
        const owner = owners[i];
        if (leftover[i]) return;
        if (owner === tenant)
          errors.push({ index, mac: d.mac, reason: 'MAC already registered in this tenant' });
        // Released between the two commands: another addition or deletion of it is under way.
        else if (owner === undefined || owner === null)
          errors.push({ index, mac: d.mac, reason: 'MAC being added or removed right now; try again' });
        else errors.push({ index, mac: d.mac, reason: 'MAC registered in another tenant', owner });
      });
    }
    const release = () => Promise.all(claimed.map((m) => this.releaseMac(m, tenant)));
    if (errors.length) {
      await release();
      return { ok: false, errors };
    }

    const now = this.now();
    const k = keys.tenant(tenant);
    const issued: { mac: Mac; pap: string }[] = [];
    const rows: string[] = [];
    const slice = timeSlices();
    for (const [i, d] of devices.entries()) {
      await slice();
      issued.push({ mac: d.mac, pap: generatePap() });
      rows.push(
        JSON.stringify({
          mac: d.mac,
          vendor: d.vendor,
          site: d.site,
          hash: deviceRecord({
            ...d,
            createdAt: now,
            pap: issued[i]!.pap,
            generation: 0,
            state: 'needed',
            consecutiveFailures: 0,
            totalFailures: 0,
            failedUntil: null,
            suspendedUntil: null,
            credentialHash: null,
            sipPassword: generateSipPassword(),
            authenticatedAt: null,
            authenticatedVia: null,
            lastProvisioning: null,
          }),
        }),
      );
    }
    // In chunks: one script over 10,000 devices held Redis (and every provisioning request behind
    // it) for 0.1 to 0.4 s. A chunk refused (a race on a MAC) undoes the chunks before it.
    const created: Mac[] = [];
    const undo = async () => {
      for (const mac of created) await this.removeDevice(tenant, mac, now, actor);
      await release();
    };
    for (let start = 0; start < devices.length; start += CREATE_BATCH) {
      const chunk = devices.slice(start, start + CREATE_BATCH);
      let reply: { error?: string; rows?: number[] };
      try {
        reply = JSON.parse(
          (await scripts.create.run(
            this.redis,
            [k.info, k.devices, k.events, ...chunk.map((d) => k.device(d.mac))],
            [now, this.maxlen, actor, ...rows.slice(start, start + CREATE_BATCH)],
          )) as string,
        );
      } catch (err) {
        await undo().catch(() => undefined);
        throw err;
      }
      if (reply.error === 'unknown_tenant') {
        await undo();
        return 'unknown_tenant';
      }
      if (reply.error === 'exists') {
        await undo();
        return {
          ok: false,
          errors: (reply.rows ?? []).map((r) => ({
            index: start + r - 1,
            mac: chunk[r - 1]!.mac,
            reason: 'MAC already registered in this tenant',
          })),
        };
      }
      created.push(...chunk.map((d) => d.mac));
    }
    return { ok: true, devices: issued };
  }

  /**
   * When the tenant may be told of other tenants' MACs again (ms), or null: it was told of `limit`
   * in the current window (see probe.lua). Checked before an addition looks at any MAC, so that a
   * refusal says nothing about the MACs of that addition.
   */
  async probeRetryAt(tenant: string, limit: number): Promise<number | null> {
    const key = keys.tenant(tenant).probes;
    const [count, ttl] = (await this.redis.multi().get(key).pTTL(key).exec()) as [string | null, number];
    return Number(count ?? 0) >= limit ? this.now() + Math.max(ttl, 0) : null;
  }

  /**
   * Counts MACs of other tenants an addition by a tenant token named (probe.lua), and audits it.
   * Answers the window's count, and when the answer must not list them, the window's end (ms).
   */
  async countProbe(
    tenant: string,
    actor: Actor,
    macs: readonly Mac[],
    limit: number,
    windowSeconds: number,
  ): Promise<{ count: number; retryAt: number | null }> {
    const k = keys.tenant(tenant);
    const [count, ends] = (await scripts.probe.run(
      this.redis,
      [k.probes, k.events],
      [this.now(), this.maxlen, limit, windowSeconds * 1000, actor, macs.length, macs.slice(0, 20).join(',')],
    )) as [number, number];
    return { count, retryAt: ends === 0 ? null : ends };
  }

  private async releaseMac(mac: Mac, tenant: string): Promise<void> {
    await scripts.release.run(this.redis, [keys.macIndex(mac)], [mac, tenant]);
  }

  async tenantOfMac(mac: Mac): Promise<string | null> {
    await this.ready();
    return (await this.redis.hGet(keys.macIndex(mac), mac)) ?? null;
  }

  async getDevice(tenant: string, mac: Mac): Promise<Device | null> {
    await this.ready();
    return toDevice(tenant, mac, await this.redis.hGetAll(keys.tenant(tenant).device(mac)));
  }

  /** The device behind a MAC, whatever its tenant (provisioning and SIP know only the MAC). */
  async findDevice(mac: Mac): Promise<Device | null> {
    const tenant = await this.tenantOfMac(mac);
    return tenant === null ? null : this.getDevice(tenant, mac);
  }

  /**
   * Every device of the tenant, read READ_BATCH hashes at a time: all at once put 10,000 commands
   * into the connection's queue per call, ahead of anything sent after them.
   */
  async listDevices(tenant: string): Promise<Device[]> {
    await this.ready();
    const k = keys.tenant(tenant);
    const macs = (await this.redis.zRange(k.devices, 0, -1)) as Mac[];
    const devices: Device[] = [];
    for (let start = 0; start < macs.length; start += READ_BATCH) {
      const batch = macs.slice(start, start + READ_BATCH);
      const hashes = await Promise.all(batch.map((m) => this.redis.hGetAll(k.device(m))));
      hashes.forEach((h, i) => {
        const d = toDevice(tenant, batch[i]!, h);
        if (d !== null) devices.push(d);
      });
    }
    return devices;
  }

  async deleteDevice(tenant: string, mac: Mac, actor: Actor): Promise<boolean> {
    await this.ready();
    const deleted = await this.removeDevice(tenant, mac, this.now(), actor);
    if (deleted) await this.releaseMac(mac, tenant);
    return deleted;
  }

  /** delete.lua: the device and what hangs on it, audited; its MAC stays claimed. */
  private async removeDevice(tenant: string, mac: Mac, now: number, actor: Actor): Promise<boolean> {
    const k = keys.tenant(tenant);
    const n = await scripts.delete.run(
      this.redis,
      [k.device(mac), k.devices, k.locks, k.events, k.registrations(mac)],
      [mac, now, this.maxlen, actor],
    );
    return n === 1;
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
    this.transitioned(reply.from, 'needed');
    return { pap };
  }

  async suspendDevice(tenant: string, mac: Mac, actor: Actor): Promise<{ suspendedUntil: number } | null> {
    await this.ready();
    const k = keys.tenant(tenant);
    const now = this.now();
    const until = now + this.opts.auth.suspendSeconds * 1000;
    const reply = JSON.parse(
      (await scripts.suspend.run(
        this.redis,
        [k.device(mac), k.events],
        [until, now, this.maxlen, actor],
      )) as string,
    );
    return reply.error ? null : { suspendedUntil: until };
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
    const hint = this.hints.get(mac);
    const hinted = hint !== undefined && (opts.onlyTenant === undefined || hint === opts.onlyTenant);
    const tenant = hinted ? hint : await this.tenantOfMac(mac);
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
      await this.appendEvent(tenant, 'source_limited', {
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
      this.hints.forget(mac);
      return this.attemptPap(mac, pap, ip, actor, channel, opts);
    }
    this.hints.remember(mac, tenant);
    if (r.stored === 'failed' && r.from === 'needed') this.transitioned('failed', 'needed');
    if (r.from !== undefined && r.state !== undefined && r.state !== r.from)
      this.transitioned(r.from, r.state);
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
    if (settled) this.transitioned('failed', 'needed');
    return settled;
  }

  private transitioned(from: AuthState, to: AuthState): void {
    // A reset of a `needed` device changes its PAP, not its state.
    if (from !== to) this.opts.onTransition?.(from, to);
  }

  /** Devices of a tenant whose `failed` lock has run out by now. */
  async expiredLocks(tenant: string): Promise<Mac[]> {
    return (await this.redis.zRangeByScore(keys.tenant(tenant).locks, 0, this.now())) as Mac[];
  }

  // ---- provisioning ------------------------------------------------------------------------------

  /** See full.lua. `credentialHash` is ignored when reason is 'credential'. */
  async recordFullProvisioning(
    tenant: string,
    mac: Mac,
    p: {
      generation: number;
      reason: Exclude<BypassReason, 'pap'>;
      credentialHash: string;
      ip: string;
      file: string;
      /** Further audit fields (the device certificate's result). */
      audit?: Readonly<Record<string, string>>;
    },
  ): Promise<'ok' | 'stale' | 'gone'> {
    await this.ready();
    const k = keys.tenant(tenant);
    const sinks = this.sinks(tenant, p.ip);
    const r = (await scripts.full.run(
      this.redis,
      [k.device(mac), k.tempWhitelist, k.locks, ...sinks.keys],
      [
        p.generation,
        storedCredentialHash(p.credentialHash),
        p.reason,
        p.ip,
        this.now(),
        this.opts.auth.tempWhitelistSeconds,
        p.file,
        ...sinks.args,
        ...Object.entries(p.audit ?? {}).flat(),
      ],
    )) as string;
    if (!r.startsWith('ok:')) return r as 'ok' | 'stale' | 'gone';
    this.transitioned(r.slice(3) as AuthState, 'successful');
    return 'ok';
  }

  async recordProvisioning(
    tenant: string,
    mac: Mac,
    p: {
      ip: string;
      outcome: string;
      reason: string;
      file: string;
      audit?: Readonly<Record<string, string>>;
    },
  ): Promise<void> {
    await this.ready();
    const sinks = this.sinks(tenant, p.ip);
    await scripts.note.run(
      this.redis,
      [keys.tenant(tenant).device(mac), ...sinks.keys],
      [p.ip, this.now(), p.outcome, p.reason, p.file, ...sinks.args, ...Object.entries(p.audit ?? {}).flat()],
    );
  }

  /**
   * Everything a provisioning decision reads (provisioning.lua, beside the misses of `ip`): one
   * round trip once this process knows the MAC's tenant (TenantHints), two the first time.
   */
  async provisioningState(mac: Mac, ip: string, missClient: string): Promise<ProvisioningState> {
    await this.ready();
    const hint = this.hints.get(mac);
    if (hint !== undefined) {
      const [state, misses] = await Promise.all([
        this.provisioningView(hint, mac, ip),
        this.missCount(missClient),
      ]);
      if (state.device !== null) return { ...state, misses };
      this.hints.forget(mac);
    }
    const [tenant, misses] = await Promise.all([this.tenantOfMac(mac), this.missCount(missClient)]);
    if (tenant === null)
      return { device: null, tenant: null, whitelist: [], temporaryWhitelistUntil: null, misses };
    const state = await this.provisioningView(tenant, mac, ip);
    if (state.device !== null) this.hints.remember(mac, tenant);
    return { ...state, misses };
  }

  private async provisioningView(
    tenant: string,
    mac: Mac,
    ip: string,
  ): Promise<Omit<ProvisioningState, 'misses'>> {
    const k = keys.tenant(tenant);
    const [device, info, whitelist, until] = (await scripts.provisioning.run(
      this.redis,
      [k.device(mac), k.info, k.whitelist, k.tempWhitelist],
      [ip],
    )) as [string[]?, string[]?, string[]?, (string | null)?];
    return {
      device: device ? toDevice(tenant, mac, pairs(device)) : null,
      tenant: toTenant(tenant, pairs(info ?? [])),
      whitelist: toWhitelist(whitelist ?? []),
      temporaryWhitelistUntil: until === undefined || until === null ? null : Number(until),
    };
  }

  /**
   * One provisioning request decided and recorded in one round trip (provision.lua, the mirror of
   * decideProvisioning), for a device whose vendor, model and tenant certificate policy the caller
   * assumes from an earlier request, and whose certificate check it made for that policy. Null on
   * a Cluster, where the address's miss counter lies in another slot than the tenant's keys.
   */
  async provision(
    tenant: string,
    mac: Mac,
    p: {
      readonly vendor: string;
      readonly model: string;
      readonly policy: DeviceCertificatePolicy;
      readonly refusal: string | null;
      readonly presentedCredential: string | null;
      /** Issued when the answer is a full configuration through a bypass (null: none can be). */
      readonly freshCredential: string | null;
      readonly ip: string;
      /** Every whitelist entry text that would contain `ip` (see entriesContaining), each between spaces. */
      readonly entries: string;
      /** What the miss limit counts `ip` as (see countMiss). */
      readonly missClient: string;
      readonly file: string;
      readonly missLimit: number;
      readonly audit: Readonly<Record<string, string>>;
    },
  ): Promise<ProvisionResult | null> {
    if (!this.provisionsInOneScript) return null;
    await this.ready();
    const k = keys.tenant(tenant);
    // As storedCredentialHash keeps it: the SHA-256 in base64url.
    const stored = (credential: string | null) =>
      credential === null ? '' : hashCredential(credential, 'base64url');
    const now = this.now();
    const sinks = this.sinks(tenant, p.ip);
    const r = (await scripts.provision.run(
      this.redis,
      [
        k.device(mac),
        k.info,
        k.whitelist,
        k.tempWhitelist,
        k.locks,
        keys.provisioningMisses(p.missClient),
        ...sinks.keys,
      ],
      [
        p.vendor,
        p.model,
        p.policy,
        p.refusal ?? '',
        stored(p.presentedCredential),
        stored(p.freshCredential),
        p.ip,
        now,
        this.opts.auth.tempWhitelistSeconds,
        p.file,
        p.missLimit,
        p.entries,
        ...sinks.args,
        ...Object.entries(p.audit).flat(),
      ],
    )) as [string, string?, string[]?, (string | (string | null)[] | null)?];
    const [outcome, reason = ''] = r;
    if (outcome === 'unsure' || outcome === 'limited') return { kind: outcome };
    if (outcome === 'refused') return { kind: 'refused', reason };
    // Only the fields the file is made of (the rest of the record reads as unset).
    const device = toDevice(tenant, mac, pairs(r[2] ?? []));
    if (device === null) throw new Error(`provision.lua answered ${outcome} without a device`);
    if (outcome === 'full') {
      if (typeof r[3] === 'string') this.transitioned(r[3] as AuthState, 'successful');
      return { kind: 'full', reason: reason as Exclude<BypassReason, 'pap'>, device };
    }
    const [language, timeZone] = (r[3] ?? []) as (string | null)[];
    return {
      kind: 'minimal',
      display: reason as MinimalDisplay,
      device,
      failedUntil: reason === 'failed' ? device.failedUntil : null,
      tenantLanguage: (language || null) as Language | null,
      tenantTimeZone: timeZone || null,
    };
  }

  /** The provisioning misses of a client in the current window, as every process counted them. */
  async missCount(client: string): Promise<number> {
    return Number((await this.redis.get(keys.provisioningMisses(client))) ?? 0);
  }

  /**
   * Counts a provisioning miss of `client` in a fixed window; answers the count so far. The client
   * is what the caller counts an address as (its network, PROVISIONING_MISS_PREFIX_IPV4/_IPV6), the
   * same text for provisioningState, provision and this.
   */
  async countMiss(client: string, windowSeconds: number): Promise<number> {
    const key = keys.provisioningMisses(client);
    const [count] = (await this.redis.multi().incr(key).expire(key, windowSeconds, 'NX').exec()) as [
      number,
      unknown,
    ];
    return count;
  }

  // ---- whitelists --------------------------------------------------------------------------------

  async whitelist(tenant: string): Promise<WhitelistEntry[]> {
    return toWhitelist(await this.redis.sMembers(keys.tenant(tenant).whitelist));
  }

  /**
   * Adds a permanent entry (false: it was listed already). Refused with InputError when the
   * whitelist would then cover more than WHITELIST_BOUND (checkWhitelistCoverage). The check is
   * made on the entries read, and whitelist.lua adds only while the whitelist still holds exactly
   * those: an addition made meanwhile is seen, and the check made again.
   */
  async addWhitelist(tenant: string, entry: WhitelistEntry, actor: Actor): Promise<boolean> {
    const k = keys.tenant(tenant);
    for (let tries = 1; ; tries++) {
      const listed = await this.redis.sMembers(k.whitelist);
      if (listed.includes(entry.text)) return false;
      checkWhitelistCoverage([...toWhitelist(listed), entry]);
      const r = await scripts.whitelist.run(
        this.redis,
        [k.whitelist, k.events],
        [entry.text, this.now(), this.maxlen, listed.length, ...listed, 'entry', entry.text, 'actor', actor],
      );
      if (r !== 'changed') return r === 1;
      if (tries === 10) throw new Error('the whitelist changed under ten additions in a row');
    }
  }

  async removeWhitelist(tenant: string, entry: WhitelistEntry, actor: Actor): Promise<boolean> {
    const k = keys.tenant(tenant);
    const n = await scripts.audit.run(
      this.redis,
      [k.whitelist, k.events],
      ['srem', entry.text, this.now(), this.maxlen, 'whitelist_removed', 'entry', entry.text, 'actor', actor],
    );
    return n === 1;
  }

  /**
   * The live temporary entries: an address, the site whose devices it lets in (null: an entry made
   * before entries were scoped to a site, for the whole tenant), and its expiry (twl_member in
   * lua/prelude.lua).
   */
  async temporaryWhitelist(
    tenant: string,
  ): Promise<{ ip: string; site: string | null; expiresAt: number }[]> {
    const rows = await this.redis.zRangeByScoreWithScores(
      keys.tenant(tenant).tempWhitelist,
      `(${this.now()}`,
      '+inf',
    );
    return rows.map((r) => {
      // see tempWhitelistMember
      const cut = r.value.lastIndexOf('\x1f');
      return cut === -1
        ? { ip: r.value, site: null, expiresAt: r.score }
        : { ip: r.value.slice(cut + 1), site: r.value.slice(0, cut), expiresAt: r.score };
    });
  }

  /**
   * Whether `ip` is where the devices of `site` are known to be: on the tenant's permanent
   * whitelist, or a live temporary entry of the site (or a tenant-wide one of before sites).
   */
  async isSiteNetwork(tenant: string, site: string, ip: string): Promise<boolean> {
    const k = keys.tenant(tenant);
    const [entries, forSite, tenantWide] = await Promise.all([
      this.redis.sMembers(k.whitelist),
      this.redis.zScore(k.tempWhitelist, tempWhitelistMember(site, ip)),
      this.redis.zScore(k.tempWhitelist, ip),
    ]);
    const until = Math.max(forSite ?? 0, tenantWide ?? 0);
    return until > this.now() || ipMatches(ip, toWhitelist(entries)) !== null;
  }

  // ---- audit -------------------------------------------------------------------------------------

  async appendEvent(tenant: string, type: string, fields: Record<string, string>): Promise<void> {
    const k = keys.tenant(tenant);
    await scripts.audit.run(
      this.redis,
      [k.events, k.events],
      ['event', '', this.now(), this.maxlen, type, ...Object.entries(fields).flat()],
    );
  }

  /**
   * One event of phone traffic caused by `ip` (see traffic() in prelude.lua): a refused REGISTER.
   * Written unless `ip`'s client has had its share of the window.
   */
  async appendTraffic(
    tenant: string,
    ip: string,
    type: string,
    fields: Record<string, string>,
  ): Promise<void> {
    const sinks = this.sinks(tenant, ip);
    await scripts.traffic.run(this.redis, sinks.keys, [
      this.now(),
      type,
      ...sinks.args,
      ...Object.entries(fields).flat(),
    ]);
  }

  /** Events kept per tenant in `stream` (approximately: the trim is `~`). */
  maxEvents(stream: EventStream): number {
    return stream === 'audit' ? this.opts.eventsMaxLen : this.traffic.maxLen;
  }

  /** Newest first. */
  async events(
    tenant: string,
    count: number,
    before?: string,
    stream: EventStream = 'audit',
  ): Promise<AuditEvent[]> {
    const end = before ? `(${before}` : '+';
    const k = keys.tenant(tenant);
    const rows = await this.redis.xRevRange(stream === 'audit' ? k.events : k.traffic, end, '-', {
      COUNT: count,
    });
    return rows.map((r) => ({
      ...r.message,
      id: r.id,
      type: r.message.type ?? '',
      ts: Number(r.message.ts),
    }));
  }
}
