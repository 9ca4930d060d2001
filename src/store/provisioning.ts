import type { AuthState, BypassReason } from '../domain/auth';
import type { Device, Language } from '../domain/device';
import type { DeviceCertificatePolicy } from '../domain/devicecert';
import type { MinimalDisplay } from '../domain/display';
import type { Mac } from '../domain/mac';
import { hashCredential } from '../domain/pap';
import { BoundedMap } from '../lib/bounded';
import type { ProvisioningRefusal } from '../domain/provisioning';
import { tenantSettingsOf, type TenantSettings } from '../domain/setting-layers';
import type { WhitelistEntry } from '../domain/whitelist';
import { isCluster } from './connect';
import { StorePart, type StoreContext } from './context';
import { storedCredentialHash, toDevice } from './device-record';
import type { Devices } from './devices';
import { keys } from './keys';
import { scripts } from './scripts';
import { toTenant, type Tenant } from './tenants';
import { toWhitelist } from './whitelists';

/** What a provisioning decision reads (see Provisioning.provisioningState). */
export interface ProvisioningState {
  /** null: no device has this MAC. */
  readonly device: Device | null;
  readonly tenant: Tenant | null;
  /** The tenant record's settings fields (version, common settings). */
  readonly tenantSettings: TenantSettings;
  readonly whitelist: readonly WhitelistEntry[];
  /** Expiry (ms) of the address on the tenant's temporary whitelist, or null. */
  readonly temporaryWhitelistUntil: number | null;
  /** The client's provisioning misses in the current window, as every process counted them. */
  readonly misses: number;
}

/**
 * The fields of a device a configuration file is made of. From provision() only those of its
 * kind are read: a full answer's `sipPassword`, a minimal answer's `accounts` are left empty.
 */
export type RenderedDevice = Pick<
  Device,
  'tenant' | 'mac' | 'vendor' | 'model' | 'site' | 'accounts' | 'language' | 'sipPassword'
>;

/** What provision() decided and recorded. */
type ProvisionResult =
  /** The assumed vendor, model or certificate policy no longer hold (or no device): nothing written. */
  | { readonly kind: 'unsure' }
  /** The address is over the miss limit: nothing written. */
  | { readonly kind: 'limited' }
  | { readonly kind: 'refused'; readonly reason: ProvisioningRefusal }
  /**
   * The device holds a credential the request did not carry: answered 401 (noted, see note_answer);
   * `needsReset` as decideProvisioning answers it.
   */
  | { readonly kind: 'challenge'; readonly needsReset: boolean }
  | {
      readonly kind: 'full';
      readonly reason: Exclude<BypassReason, 'pap'>;
      readonly device: RenderedDevice;
      readonly tenantSettings: TenantSettings;
    }
  | {
      readonly kind: 'minimal';
      readonly display: MinimalDisplay;
      readonly device: RenderedDevice;
      /** The end of the lock when the display says `failed`, else null. */
      readonly failedUntil: number | null;
      readonly tenantLanguage: Language | null;
      readonly tenantTimeZone: string | null;
      readonly tenantSettings: TenantSettings;
    };

/** Tenants whose keys provision() keeps. */
const MAX_TENANT_KEYS = 10_000;

/** `fields` as the flat field/value list a script takes (`Object.entries().flat()` costs more). */
function fieldList(fields: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const k in fields) out.push(k, fields[k]!);
  return out;
}

/** A flat field/value list (as a script answers HGETALL) as an object. */
function pairs(flat: readonly string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  return h;
}

/**
 * What provisioning reads and writes: the state a decision reads, the decision and its writes in
 * one script where Redis is one server (provision.lua), the writes alone (full.lua, note.lua),
 * and the misses of a client (a counter per network and window, in its own slot).
 */
export class Provisioning extends StorePart {
  /** keys.tenant per tenant, for the one-script path (it builds every key of the tenant). */
  private readonly tenantKeys = new BoundedMap<string, ReturnType<typeof keys.tenant>>(MAX_TENANT_KEYS);

  constructor(
    ctx: StoreContext,
    private readonly devices: Pick<Devices, 'tenantOfMac'>,
  ) {
    super(ctx);
  }

  /**
   * Whether provision() can decide in one script: not on Redis Cluster, where the miss counter of
   * an address lies in another slot than the tenant's keys.
   */
  get provisionsInOneScript(): boolean {
    return !isCluster(this.redis);
  }

  /**
   * See full.lua. `credentialHash` is ignored when reason is 'credential'; `digestCredential` (the
   * credential, for vendors answering the challenge with Digest only; else null) is kept.
   */
  async recordFullProvisioning(
    tenant: string,
    mac: Mac,
    p: {
      generation: number;
      reason: Exclude<BypassReason, 'pap'>;
      credentialHash: string;
      digestCredential?: string | null;
      ip: string;
      file: string;
      /** Further audit fields (the device certificate's result). */
      audit?: Readonly<Record<string, string>>;
    },
  ): Promise<'ok' | 'stale' | 'gone'> {
    await this.ready();
    const k = keys.tenant(tenant);
    const sinks = this.ctx.sinks(tenant, p.ip);
    const r = (await scripts.full.run(
      this.redis,
      [k.device(mac), k.tempWhitelist, k.locks, ...sinks.keys],
      [
        p.generation,
        storedCredentialHash(p.credentialHash),
        p.digestCredential ?? '',
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
    this.ctx.transitioned(r.slice(3) as AuthState, 'successful');
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
    const sinks = this.ctx.sinks(tenant, p.ip);
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
    const hint = this.ctx.hints.get(mac);
    if (hint !== undefined) {
      const [state, misses] = await Promise.all([
        this.provisioningView(hint, mac, ip),
        this.missCount(missClient),
      ]);
      if (state.device !== null) return { ...state, misses };
      this.ctx.hints.forget(mac);
    }
    const [tenant, misses] = await Promise.all([this.devices.tenantOfMac(mac), this.missCount(missClient)]);
    if (tenant === null)
      return {
        device: null,
        tenant: null,
        tenantSettings: tenantSettingsOf({}),
        whitelist: [],
        temporaryWhitelistUntil: null,
        misses,
      };
    const state = await this.provisioningView(tenant, mac, ip);
    if (state.device !== null) this.ctx.hints.remember(mac, tenant);
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
    const record = pairs(info ?? []);
    return {
      device: device ? toDevice(tenant, mac, pairs(device)) : null,
      tenant: toTenant(tenant, record),
      tenantSettings: tenantSettingsOf(record),
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
      /** Whether the vendor answers the challenge with Digest: the credential is kept (record_full). */
      readonly digest: boolean;
      /** CHALLENGE_GRACE_MS, as decideProvisioning applies it. */
      readonly challengeGraceMs: number;
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
    // Not `await this.ready()`: once the schema is current that is a turn of the event loop per request.
    const ready = this.ready();
    if (ready) await ready;
    const k = this.tenantKeys.memo(tenant, () => keys.tenant(tenant));
    // As storedCredentialHash keeps it: the SHA-256 in base64url.
    const stored = (credential: string | null) =>
      credential === null ? '' : hashCredential(credential, 'base64url');
    const now = this.now();
    const sinks = this.ctx.sinks(tenant, p.ip);
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
        (p.digest && p.presentedCredential) || '',
        (p.digest && p.freshCredential) || '',
        p.challengeGraceMs,
        ...sinks.args,
        ...fieldList(p.audit),
      ],
    )) as [string, string?, string[]?, (string | null)?, string[]?];
    const [outcome, reason = ''] = r;
    if (outcome === 'unsure' || outcome === 'limited') return { kind: outcome };
    if (outcome === 'challenge') return { kind: 'challenge', needsReset: reason === 'needs_reset' };
    if (outcome === 'refused') return { kind: 'refused', reason: reason as ProvisioningRefusal };
    // Only the fields the file is made of (the rest of the record reads as unset).
    const device = toDevice(tenant, mac, pairs(r[2] ?? []));
    if (device === null) throw new Error(`provision.lua answered ${outcome} without a device`);
    const [language, timeZone, ntpServer, phoneLanguage, sv] = r[4] ?? [];
    const tenantSettings = tenantSettingsOf({ timeZone, ntpServer, phoneLanguage, sv });
    if (outcome === 'full') {
      if (typeof r[3] === 'string') this.ctx.transitioned(r[3] as AuthState, 'successful');
      return { kind: 'full', reason: reason as Exclude<BypassReason, 'pap'>, device, tenantSettings };
    }
    return {
      kind: 'minimal',
      display: reason as MinimalDisplay,
      device,
      failedUntil: reason === 'failed' ? device.failedUntil : null,
      tenantLanguage: (language || null) as Language | null,
      tenantTimeZone: timeZone || null,
      tenantSettings,
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
    const [count] = await this.redis.multi().incr(key).expire(key, windowSeconds, 'NX').execTyped();
    return count;
  }
}
