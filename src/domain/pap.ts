import { randomInt, randomBytes, createHmac, hash, timingSafeEqual } from 'node:crypto';
import { canonicalIp } from './whitelist';

export const PAP_LENGTH = 6;

/** 6 decimal digits from the CSPRNG; leading zeros are part of the PAP. */
export function generatePap(): string {
  return randomInt(0, 10 ** PAP_LENGTH)
    .toString()
    .padStart(PAP_LENGTH, '0');
}

export function isPapFormat(s: unknown): s is string {
  return typeof s === 'string' && /^[0-9]{6}$/.test(s);
}

const CREDENTIAL_BYTES = 16;
/** CSPRNG output taken in blocks: one call per 256 credentials, not one each (provisioning's hot path). */
let credentialPool = Buffer.alloc(0);
let credentialPoolUsed = 0;

/** 128 random bits, URL-safe; handed to the phone inside its full configuration. */
export function generateDeviceCredential(): string {
  if (credentialPoolUsed + CREDENTIAL_BYTES > credentialPool.length) {
    credentialPool = randomBytes(256 * CREDENTIAL_BYTES);
    credentialPoolUsed = 0;
  }
  credentialPoolUsed += CREDENTIAL_BYTES;
  return credentialPool.toString('hex', credentialPoolUsed - CREDENTIAL_BYTES, credentialPoolUsed);
}

/** SIP password of the restricted account of the minimal configuration. */
export function generateSipPassword(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * The restricted account's password for a phone at `ip` (the address that fetched the minimal
 * configuration, or the SIP source address). `bound`: HMAC-SHA256 of the device's secret and the
 * canonical address, cut to the shape of generateSipPassword (16 base64url characters, which every
 * vendor's password field takes), so a copy of the file works only from the address that fetched
 * it; nothing is stored per address, so a fetch from elsewhere cannot rotate the real phone's
 * password. Unbound: the secret itself. Throws InputError for a malformed address.
 */
export function restrictedSipPassword(secret: string, ip: string, bound: boolean): string {
  if (!bound) return secret;
  return createHmac('sha256', secret)
    .update(canonicalIp(ip), 'utf8')
    .digest()
    .subarray(0, 12)
    .toString('base64url');
}

/**
 * The store keeps only this hash. A plain SHA-256 suffices: the credential has 128 random bits,
 * so there is nothing for a slow hash to protect against. One-shot `hash`: no Hash object per
 * provisioning request.
 */
export function hashCredential(credential: string, encoding: 'hex' | 'base64url' = 'hex'): string {
  return hash('sha256', credential, encoding);
}

export function credentialMatches(credential: string, storedHash: string): boolean {
  const a = Buffer.from(hashCredential(credential), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
