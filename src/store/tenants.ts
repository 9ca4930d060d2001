import type { Language } from '../domain/device';
import {
  DEFAULT_DEVICE_CERTIFICATE_POLICY,
  isDeviceCertificatePolicy,
  type DeviceCertificatePolicy,
} from '../domain/devicecert';
import { StorePart, type Actor } from './context';
import { keys } from './keys';
import { scripts } from './scripts';

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

export function toTenant(id: string, h: Record<string, string>): Tenant | null {
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

/** What putTenant did: created, updated, or refused (exists: mode create; unknown: mode update). */
export type TenantWrite = 'created' | 'updated' | 'exists' | 'unknown';

/** Tenants: their record (name, language, time zone, certificate policy, caller ID prefixes) and the list of them. */
export class Tenants extends StorePart {
  /**
   * Creates or updates a tenant (`mode`: create refuses an existing one, update a missing one, put
   * does either); answers what it did or why not. A field left out (undefined) is left as it is (a
   * new tenant's name reads as its id): a client that does not know a field must not weaken a
   * "required", nor a tenant token's update drop the operator's prefixes, nor an update of the
   * prefixes reset the name. Null clears language and time zone. The audit event names what changed,
   * before and after (tenant.lua).
   */
  async putTenant(
    id: string,
    data: {
      name?: string;
      language?: Language | null;
      timeZone?: string | null;
      deviceCertificate?: DeviceCertificatePolicy;
      emergencyCallerIdPrefixes?: readonly string[];
    },
    actor: Actor,
    mode: 'create' | 'update' | 'put' = 'put',
  ): Promise<TenantWrite> {
    const k = keys.tenant(id);
    const given = Object.entries({
      name: data.name,
      language: data.language === null ? '' : data.language,
      timeZone: data.timeZone === null ? '' : data.timeZone,
      deviceCertificate: data.deviceCertificate,
      emergencyCallerIdPrefixes: data.emergencyCallerIdPrefixes?.join(','),
    }).filter((e): e is [string, string] => e[1] !== undefined);
    const res = (await scripts.tenant.run(
      this.redis,
      [k.info, k.events],
      [mode, this.now(), this.maxlen, actor, ...given.flat()],
    )) as TenantWrite;
    // The global list lives in another slot; it only feeds the lock watcher, so it may lag.
    if (res === 'created' || res === 'updated') await this.redis.sAdd(keys.tenants(), id);
    return res;
  }

  async getTenant(id: string): Promise<Tenant | null> {
    return toTenant(id, await this.redis.hGetAll(keys.tenant(id).info));
  }

  async tenantIds(): Promise<string[]> {
    return (await this.redis.sMembers(keys.tenants())).sort();
  }
}
