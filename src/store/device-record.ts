import type { BypassReason } from '../domain/auth';
import {
  isAuthState,
  type Device,
  type Language,
  type SipAccount,
  type Sighting,
  type Vendor,
} from '../domain/device';
import type { Mac } from '../domain/mac';
import { DEVICE as F } from './keys';

/**
 * Redis keeps a hash as a compact listpack only while every value is at most
 * hash-max-listpack-value bytes (64 by default); one longer value turns the whole hash into a
 * hashtable of about twice the size. Longer texts are therefore stored in pieces.
 */
const PIECE_BYTES = 64;

// Control characters are refused in account fields (parseNewDevice), so these never occur in them.
const ACCOUNT_SEP = '\x1e';
const FIELD_SEP = '\x1f';

/** `value` as pieces of at most PIECE_BYTES bytes of UTF-8, cut between characters. */
export function pieces(value: string): string[] {
  const out: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const ch of value) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > PIECE_BYTES) {
      out.push(piece);
      piece = '';
      bytes = 0;
    }
    piece += ch;
    bytes += n;
  }
  if (piece !== '') out.push(piece);
  return out;
}

/** Puts a text as fields `name`, `name:1`, `name:2`, ...; an empty text as no field at all. */
function putText(h: Record<string, string>, name: string, value: string): void {
  pieces(value).forEach((p, i) => (h[i === 0 ? name : `${name}:${i}`] = p));
}

function getText(h: Record<string, string>, name: string): string {
  let text = h[name] ?? '';
  for (let i = 1; h[`${name}:${i}`] !== undefined; i++) text += h[`${name}:${i}`];
  return text;
}

/** Accounts as one text: fields in a fixed order, empty optional ones at the end left out. */
export function encodeAccounts(accounts: readonly SipAccount[]): string {
  return accounts
    .map((a) => {
      const fields = [a.server, a.user, a.password, a.authUser ?? '', a.displayName ?? ''];
      if (fields.some((f) => f.includes(ACCOUNT_SEP) || f.includes(FIELD_SEP)))
        throw new Error('an account field contains a control character');
      while (fields[fields.length - 1] === '') fields.pop();
      return fields.join(FIELD_SEP);
    })
    .join(ACCOUNT_SEP);
}

function decodeAccounts(text: string): SipAccount[] {
  if (text === '') return [];
  return text.split(ACCOUNT_SEP).map((a) => {
    const [server = '', user = '', password = '', authUser, displayName] = a.split(FIELD_SEP);
    return {
      server,
      user,
      password,
      ...(authUser ? { authUser } : {}),
      ...(displayName ? { displayName } : {}),
    };
  });
}

/** The credential's SHA-256 in base64url: 43 bytes instead of 64 in hex. */
export function storedCredentialHash(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

function optional(h: Record<string, string>, name: string, value: string | number | null): void {
  if (value !== null && value !== '') h[name] = String(value);
}

/** A sighting as one field, `<ms> <address>` (record_full and note_missing in lua/prelude.lua). */
function sighting(v: string | undefined): Sighting | null {
  const m = v === undefined ? null : /^([0-9]+) (\S+)$/.exec(v);
  return m ? { at: Number(m[1]), ip: m[2]! } : null;
}

/** The last User-Agent mismatch (note.lua): when, from where, the model an admin may accept. */
function userAgentMismatch(h: Record<string, string>): Device['userAgentMismatch'] {
  const seen = sighting(h[F.userAgentMismatch]);
  return seen && { ...seen, model: h[F.userAgentModel] || null };
}

/** The device hash of `d` (its tenant and MAC are in the key). */
export function deviceRecord(d: Omit<Device, 'tenant' | 'mac'>): Record<string, string> {
  const h: Record<string, string> = {
    [F.vendor]: d.vendor,
    [F.createdAt]: String(d.createdAt),
    [F.generation]: String(d.generation),
    [F.state]: d.state,
    [F.consecutiveFailures]: String(d.consecutiveFailures),
    [F.totalFailures]: String(d.totalFailures),
    [F.sipPassword]: d.sipPassword,
  };
  putText(h, F.model, d.model);
  putText(h, F.site, d.site);
  putText(h, F.accounts, encodeAccounts(d.accounts));
  optional(h, F.language, d.language);
  optional(h, F.pap, d.pap);
  optional(h, F.papIssuedAt, d.papIssuedAt ?? null);
  optional(h, F.failedUntil, d.failedUntil);
  optional(h, F.suspendedUntil, d.suspendedUntil);
  optional(h, F.suspensionNetwork, d.suspensionNetwork);
  optional(h, F.credentialHash, d.credentialHash && storedCredentialHash(d.credentialHash));
  optional(h, F.digestCredential, d.digestCredential);
  optional(h, F.challenged, d.challenged && `${d.challenged.at} ${d.challenged.ip}`);
  optional(h, F.needsReset, d.needsReset && `${d.needsReset.at} ${d.needsReset.ip}`);
  optional(
    h,
    F.userAgentMismatch,
    d.userAgentMismatch && `${d.userAgentMismatch.at} ${d.userAgentMismatch.ip}`,
  );
  optional(h, F.userAgentModel, d.userAgentMismatch?.model ?? null);
  optional(h, F.disabledAt, d.disabledAt);
  optional(h, F.authenticatedAt, d.authenticatedAt);
  optional(h, F.authenticatedVia, d.authenticatedVia);
  if (d.lastProvisioning) {
    h[F.lastProvisioningAt] = String(d.lastProvisioning.at);
    h[F.lastProvisioningIp] = d.lastProvisioning.ip;
    h[F.lastProvisioningOutcome] = d.lastProvisioning.outcome;
  }
  return h;
}

export function toNum(v: string | undefined): number | null {
  return v === undefined || v === '' ? null : Number(v);
}

/** null: no device (a hash without a state does not exist). */
export function toDevice(tenant: string, mac: Mac, h: Record<string, string>): Device | null {
  const state = h[F.state];
  if (state === undefined) return null;
  if (!isAuthState(state)) throw new Error(`corrupt device record (state "${state}")`);
  const lastAt = toNum(h[F.lastProvisioningAt]);
  const credentialHash = h[F.credentialHash];
  return {
    tenant,
    mac,
    vendor: h[F.vendor] as Vendor,
    model: getText(h, F.model),
    site: getText(h, F.site),
    language: (h[F.language] || null) as Language | null,
    accounts: decodeAccounts(getText(h, F.accounts)),
    createdAt: Number(h[F.createdAt]),
    pap: h[F.pap] ?? '',
    // as attempt.lua reads it
    papIssuedAt: Number(h[F.papIssuedAt] || h[F.createdAt]),
    generation: Number(h[F.generation] ?? 0),
    state,
    consecutiveFailures: Number(h[F.consecutiveFailures] ?? 0),
    totalFailures: Number(h[F.totalFailures] ?? 0),
    failedUntil: toNum(h[F.failedUntil]),
    suspendedUntil: toNum(h[F.suspendedUntil]),
    suspensionNetwork: h[F.suspensionNetwork] || null,
    credentialHash: credentialHash ? Buffer.from(credentialHash, 'base64url').toString('hex') : null,
    digestCredential: h[F.digestCredential] || null,
    challenged: sighting(h[F.challenged]),
    needsReset: sighting(h[F.needsReset]),
    userAgentMismatch: userAgentMismatch(h),
    disabledAt: toNum(h[F.disabledAt]),
    sipPassword: h[F.sipPassword] ?? '',
    authenticatedAt: toNum(h[F.authenticatedAt]),
    authenticatedVia: (h[F.authenticatedVia] || null) as BypassReason | null,
    lastProvisioning:
      lastAt === null
        ? null
        : { at: lastAt, ip: h[F.lastProvisioningIp] ?? '', outcome: h[F.lastProvisioningOutcome] ?? '' },
  };
}
