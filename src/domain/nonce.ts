import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * papgate's digest nonces (SIP, and the provisioning edge's HTTP challenge): signed, not stored.
 * The rule of what a nonce is and when it was issued lives here; the secret it is signed with is
 * kept in Redis (src/store/sip.ts), the digest that carries it is checked by src/domain/digest.ts.
 */

const NONCE_BODY = 28; // issue time (ms, 12 hex digits) + this process (8) + a counter (8)
const nonceMac = (secret: Buffer, body: string) =>
  createHmac('sha256', secret).update(body).digest('hex').slice(0, 32);
// The nonce only has to be unique (its nonce-counts are kept per nonce); the HMAC makes it
// unforgeable. A random process id and a counter are unique and cheaper than random bits per call.
const PROCESS_ID = randomBytes(4).toString('hex');
let issued = 0;

/**
 * A nonce papgate can check without having stored it: its issue time (ms, hex), a random id of
 * this process and a counter (so each challenge has its own nonce), and an HMAC-SHA256 of these
 * under `secret`, cut to 128 bits. 60 hex digits.
 */
export function signedNonce(secret: Buffer, now: number): string {
  issued = (issued + 1) % 0x100000000;
  const body = now.toString(16).padStart(12, '0') + PROCESS_ID + issued.toString(16).padStart(8, '0');
  return body + nonceMac(secret, body);
}

/** The issue time (ms) of a nonce signedNonce made with `secret`; null for any other string. */
export function nonceIssuedAt(secret: Buffer, nonce: string): number | null {
  if (!/^[0-9a-f]{60}$/.test(nonce)) return null;
  const body = nonce.slice(0, NONCE_BODY);
  // Both sides are 32 lower-case hex digits here (the pattern above), compared in constant time.
  const mac = Buffer.from(nonceMac(secret, body));
  if (!timingSafeEqual(mac, Buffer.from(nonce.slice(NONCE_BODY)))) return null;
  return parseInt(body.slice(0, 12), 16);
}
