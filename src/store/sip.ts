import type { Mac } from '../domain/mac';
import { keys } from './keys';
import { scripts } from './scripts';
import type { RedisClient } from './store';

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

/** SIP state of papgate: digest nonces and registrations. Single-key operations only (Cluster-safe). */
export class SipStore {
  private readonly now: () => number;

  constructor(
    readonly redis: RedisClient,
    private readonly opts: { nonceSeconds: number; now?: () => number },
  ) {
    this.now = opts.now ?? Date.now;
  }

  async issueNonce(nonce: string): Promise<void> {
    await this.redis.set(keys.nonce(nonce), '0', { EX: this.opts.nonceSeconds });
  }

  /** Consumes one use of a nonce with nonce-count `nc` (8 hex digits, or null without qop); see nonce.lua. */
  async useNonce(nonce: string, nc: string | null): Promise<NonceUse> {
    if (!/^[0-9a-f]{32}$/.test(nonce)) return 'stale';
    const r = await scripts.nonce.run(this.redis, [keys.nonce(nonce)], [nc ?? '']);
    return r as NonceUse;
  }

  async saveRegistration(tenant: string, reg: Registration, ttlSeconds: number): Promise<void> {
    const key = keys.tenant(tenant).registration(reg.mac);
    await this.redis
      .multi()
      .del(key)
      .hSet(key, {
        mac: reg.mac,
        contact: reg.contact,
        address: reg.address,
        port: String(reg.port),
        protocol: reg.protocol,
        expiresAt: String(reg.expiresAt),
        userAgent: reg.userAgent,
        callId: reg.callId,
      })
      .expire(key, ttlSeconds)
      .exec();
  }

  async deleteRegistration(tenant: string, mac: Mac): Promise<boolean> {
    return (await this.redis.del(keys.tenant(tenant).registration(mac))) === 1;
  }

  async registration(tenant: string, mac: Mac): Promise<Registration | null> {
    const h = await this.redis.hGetAll(keys.tenant(tenant).registration(mac));
    if (!h.contact) return null;
    const expiresAt = Number(h.expiresAt);
    if (expiresAt <= this.now()) return null;
    return {
      mac,
      contact: h.contact,
      address: h.address ?? '',
      port: Number(h.port ?? 5060),
      protocol: h.protocol ?? 'udp',
      expiresAt,
      userAgent: h.userAgent ?? '',
      callId: h.callId ?? '',
    };
  }
}
