import { randomBytes } from 'node:crypto';
import { isAuthState, type Device } from '../domain/device';
import { BoundedMap } from '../lib/bounded';
import type { Mac } from '../domain/mac';
import { nonceIssuedAt, signedNonce } from '../domain/nonce';
import { TenantHints } from './hints';
import { DEVICE, keys } from './keys';
import type { Schema } from './schema';
import { scripts } from './scripts';
import type { RedisClient } from './connect';

/** Where a restricted account's phone can be reached (its REGISTER's Contact and source). */
export interface Registration {
  readonly mac: Mac;
  /** Contact URI as the phone sent it */
  readonly contact: string;
  /** source of the REGISTER (NAT-safe target for NOTIFY) */
  readonly address: string;
  readonly port: number;
  /** udp | tcp | tls | ws | wss (as drachtio reports it) */
  readonly protocol: string;
  readonly expiresAt: number;
  readonly userAgent: string;
  readonly callId: string;
}

export type NonceUse = 'ok' | 'stale' | 'replay';

/**
 * Bindings kept per device, one per source address. A phone has one (two for a while after its
 * NAT changed address); more are copies of the minimal file registered from elsewhere. Whoever
 * registers from five addresses can push the phone's binding out, which costs it only the
 * lock-expiry check-sync: the one after a PAP success goes to the call's own source (notify.ts).
 */
export const MAX_BINDINGS = 4;

/** What the registrar decides on, read from the device's record (or remembered: knownLogin). */
export type SipLogin = Pick<Device, 'tenant' | 'sipPassword' | 'state'>;

/** Logins remembered per process: as many as tenant hints (hints.ts), about 200 bytes each. */
const MAX_LOGINS = 200_000;

/**
 * Nonces this process signed, remembered with their issue time (checkNonce, isFreshNonce): a phone
 * answers the nonce it was just given, so its check needs no HMAC. 20,000 is 10 s of challenges at
 * 2,000/s, about 2 MB; a nonce no longer remembered is checked by its HMAC.
 */
const MAX_SIGNED = 20_000;

/** A presented nonce that is papgate's own and not expired, with the nonce-count it came with. */
export interface NonceClaim {
  readonly nonce: string;
  /** 8 hex digits, lower case; null without qop (single use) */
  readonly nc: string | null;
  /** ms; after this the nonce is stale */
  readonly expiresAt: number;
}

/**
 * SIP state of papgate: digest nonce-counts and registrations. Nonces are signed with a secret
 * shared by all papgate processes through Redis (read once per process), so a challenge writes
 * nothing; a nonce-count record lives in the tenant's slot, beside the device it authenticates, so
 * that a REGISTER's nonce use and binding are one script (Cluster-safe).
 */
export class SipStore {
  private readonly now: () => number;
  private secret: Promise<Buffer> | null = null;
  /** The secret once read: what isFreshNonce decides with. */
  private loaded: Buffer | null = null;
  private readonly tenantHints = new TenantHints();
  /** The login each device had when last read, and until when it may be used (knownLogin). */
  private readonly logins = new BoundedMap<Mac, { login: SipLogin; until: number }>(MAX_LOGINS);
  private readonly signed = new BoundedMap<string, number>(MAX_SIGNED);

  constructor(
    readonly redis: RedisClient,
    private readonly opts: {
      nonceSeconds: number;
      /** How long a login read is remembered for knownLogin (0: not at all). */
      loginSeconds?: number;
      now?: () => number;
      schema?: Schema;
    },
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The first process creates the secret; every process keeps the one Redis holds. */
  private nonceSecret(): Promise<Buffer> {
    this.secret ??= (async () => {
      await this.redis.set(keys.nonceSecret(), randomBytes(32).toString('hex'), { condition: 'NX' });
      const hex = await this.redis.get(keys.nonceSecret());
      if (hex === null) throw new Error('the SIP nonce secret vanished from Redis');
      return (this.loaded = Buffer.from(hex, 'hex'));
    })().catch((err: unknown) => {
      this.secret = null;
      throw err;
    });
    return this.secret;
  }

  /**
   * Reads (the first process: creates) the secret now, so that a challenge, which answers whoever
   * asks, never writes to Redis. Throws while Redis is away; the first challenge then reads it.
   */
  async prepare(): Promise<void> {
    await this.nonceSecret();
  }

  /**
   * The device behind a MAC as its record in Redis is now (null: unknown). The tenant owning the MAC
   * is a hint (TenantHints), which saves a re-registration the read of the global MAC index.
   */
  async login(mac: Mac): Promise<SipLogin | null> {
    await this.opts.schema?.ready(this.redis);
    const hint = this.tenantHints.get(mac);
    if (hint !== undefined) {
      const login = await this.loginIn(hint, mac);
      if (login !== null) return login;
      this.tenantHints.forget(mac);
    }
    const tenant = (await this.redis.hGet(keys.macIndex(mac), mac)) ?? null;
    const login = tenant === null ? null : await this.loginIn(tenant, mac);
    if (login !== null) this.tenantHints.remember(mac, login.tenant);
    else this.logins.delete(mac);
    return login;
  }

  /**
   * The login last read for `mac` (login), while younger than loginSeconds: it saves a refresh the
   * read. It decides nothing on its own: register.lua answers 'changed' unless the device still
   * has that SIP password and state (and then it is forgotten), and an unknown device or a wrong
   * password is decided on a read, never on a remembered login.
   */
  knownLogin(mac: Mac): SipLogin | undefined {
    const known = this.logins.get(mac);
    if (known === undefined) return undefined;
    if (known.until > this.now()) return known.login;
    this.logins.delete(mac);
    return undefined;
  }

  private async loginIn(tenant: string, mac: Mac): Promise<SipLogin | null> {
    const [sipPassword, state] = await this.redis.hmGet(keys.tenant(tenant).device(mac), [
      DEVICE.sipPassword,
      DEVICE.state,
    ]);
    if (state === null || state === undefined) return null;
    if (!isAuthState(state)) throw new Error(`corrupt device record (state "${state}")`);
    const login = { tenant, sipPassword: sipPassword ?? '', state };
    const seconds = this.opts.loginSeconds ?? 0;
    if (seconds > 0 && login.sipPassword !== '')
      this.logins.set(mac, { login, until: this.now() + seconds * 1000 });
    else this.logins.delete(mac);
    return login;
  }

  /**
   * A fresh nonce for a challenge. No Redis round trip, but refused (throws) while the connection is
   * known to be down: a phone gets 503 at once rather than a challenge it cannot answer. (A cluster
   * client is ready once it knows the slots; a node that is away is found out by the answer.)
   */
  async issueNonce(): Promise<string> {
    if (!this.redis.isReady) throw new Error('redis connection down');
    const now = this.now();
    const nonce = signedNonce(await this.nonceSecret(), now);
    this.signed.set(nonce, now);
    return nonce;
  }

  /** `nonce` as a claim when papgate signed it and it is younger than SIP_NONCE_SECONDS; else stale. */
  async checkNonce(nonce: string, nc: string | null): Promise<NonceClaim | 'stale'> {
    const expiresAt = this.expiry(await this.nonceSecret(), nonce);
    if (expiresAt === null) return 'stale';
    return { nonce, nc: nc?.toLowerCase() ?? null, expiresAt };
  }

  /**
   * checkNonce without Redis, for admission: false until this process read the secret (with its
   * first challenge or checked nonce), so until then a nonce of another process is not fresh here.
   */
  isFreshNonce(nonce: string): boolean {
    return this.loaded !== null && this.expiry(this.loaded, nonce) !== null;
  }

  /** When a nonce papgate signed expires (ms); null for one it did not sign, or that expired. */
  private expiry(secret: Buffer, nonce: string): number | null {
    const issued = this.signed.get(nonce) ?? nonceIssuedAt(secret, nonce);
    if (issued === null) return null;
    const expiresAt = issued + this.opts.nonceSeconds * 1000;
    return expiresAt <= this.now() ? null : expiresAt;
  }

  /**
   * nc and the record's TTL: it outlives its nonce by SIP_NONCE_SECONDS, so a papgate process whose
   * clock is behind by less than that still finds it and refuses a replay.
   */
  private nonceArgs(c: NonceClaim): string[] {
    return [c.nc ?? '', String(c.expiresAt - this.now() + this.opts.nonceSeconds * 1000)];
  }

  /** Consumes one use of a checked nonce with its nonce-count; see use_nonce in lua/prelude.lua. */
  async useNonce(tenant: string, claim: NonceClaim): Promise<NonceUse> {
    const r = await scripts.nonce.run(
      this.redis,
      [keys.tenant(tenant).nonce(claim.nonce)],
      this.nonceArgs(claim),
    );
    return r as NonceUse;
  }

  /**
   * A REGISTER's store work in one round trip (lua/register.lua): consumes the nonce, then saves
   * the binding of `address` (the REGISTER's source) for `ttlSeconds`, or removes it (null). Each
   * source address has a binding of its own, at most MAX_BINDINGS per device. 'changed': the device
   * was deleted or got another SIP password since `sipPassword` was read, or, with `knownState`
   * (a login remembered, not read: knownLogin), has another state (the login is then forgotten);
   * 'refreshed': ok, and that address's binding had the same contact, port and transport before.
   */
  async register(
    tenant: string,
    mac: Mac,
    claim: NonceClaim,
    sipPassword: string,
    address: string,
    binding: { reg: Registration; ttlSeconds: number } | null,
    knownState?: string,
  ): Promise<NonceUse | 'changed' | 'refreshed'> {
    const k = keys.tenant(tenant);
    const reg = binding?.reg;
    const r = await scripts.register.run(
      this.redis,
      [k.nonce(claim.nonce), k.device(mac), k.registrations(mac)],
      [
        ...this.nonceArgs(claim),
        sipPassword,
        String(binding?.ttlSeconds ?? 0),
        String(MAX_BINDINGS),
        String(this.now()),
        address,
        reg === undefined
          ? ''
          : JSON.stringify({
              contact: reg.contact,
              port: reg.port,
              protocol: reg.protocol,
              expiresAt: reg.expiresAt,
              userAgent: reg.userAgent,
              callId: reg.callId,
            }),
        knownState ?? '',
      ],
    );
    if (r === 'changed') this.logins.delete(mac);
    return r as NonceUse | 'changed' | 'refreshed';
  }

  /** The device's live bindings, the one registered last first. */
  async registrations(tenant: string, mac: Mac): Promise<Registration[]> {
    const h = await this.redis.hGetAll(keys.tenant(tenant).registrations(mac));
    const now = this.now();
    return Object.entries(h)
      .map(([address, json]) => ({
        mac,
        address,
        ...(JSON.parse(json) as Omit<Registration, 'mac' | 'address'>),
      }))
      .filter((r) => r.expiresAt > now)
      .sort((a, b) => b.expiresAt - a.expiresAt);
  }
}
