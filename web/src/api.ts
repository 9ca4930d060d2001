/**
 * The admin API as the console calls it. The token lives in sessionStorage (this tab, until it is
 * closed) and travels only in the Authorization header, never in a cookie: a page of another origin
 * can neither read it nor make the browser attach it, which is what makes every change CSRF-proof.
 */
const KEY = 'papgate.token';

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
  },
};

export interface CsvRowError {
  readonly line: number;
  readonly mac?: string;
  readonly column?: string;
  /** The row's site, which has no record: `?unknownSite=accept` takes the row (the console offers it). */
  readonly unknownSite?: string;
  readonly reason: string;
}

/** An answer other than 2xx, with the API's own message (and field or rows where it names them). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly rows?: readonly CsvRowError[],
    /** All the bad rows of an import (`rows` lists the first 100). */
    readonly badRows?: number,
  ) {
    super(message);
  }
}

/** Called on 401: the token is gone or revoked, so the console returns to sign-in. */
let onUnauthorized = () => {};
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

async function send(method: string, path: string, body?: unknown, token = session.token): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token ?? ''}` };
  let payload: string | undefined;
  if (typeof body === 'string') {
    headers['content-type'] = 'text/csv';
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`/api/v1${path}`, { method, headers, body: payload, cache: 'no-store' });
  if (res.ok) return res;
  const e = (await res.json().catch(() => ({}))) as {
    error?: string;
    message?: string;
    field?: string;
    rows?: CsvRowError[];
    badRows?: number;
  };
  if (res.status === 401) onUnauthorized();
  throw new ApiError(res.status, e.error ?? 'error', e.message ?? res.statusText, e.field, e.rows, e.badRows);
}

export async function api<T>(method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await send(method, path, body, token);
  return (res.status === 204 ? null : await res.json()) as T;
}

export async function apiText(path: string): Promise<string> {
  return (await send('GET', path)).text();
}

export const enc = encodeURIComponent;

export interface Session {
  readonly role: 'operator' | 'tenant';
  readonly tenant: string | null;
  readonly token: string | null;
  /** What PAP sheets print: the number phones dial to authenticate, the language of those without one. */
  readonly authServiceNumber: string;
  readonly defaultLanguage: 'en' | 'de';
}
export interface Tenant {
  readonly id: string;
  readonly name: string;
  readonly language: 'en' | 'de' | null;
}
export interface Device {
  readonly mac: string;
  readonly vendor: string;
  readonly model: string;
  /** False: a model papgate does not know and EXTRA_MODELS does not declare (stored before models were checked). */
  readonly modelKnown: boolean;
  readonly site: string;
  readonly language: string | null;
  readonly createdAt: string;
  readonly state: 'needed' | 'failed' | 'blocked' | 'successful';
  readonly pap: string | null;
  /** Older than PAP_LIFETIME_DAYS: refused until a reset. */
  readonly papExpired: boolean;
  /** When the PAP expires (null: PAP_LIFETIME_DAYS is 0, or none to type). */
  readonly papExpiresAt: string | null;
  readonly consecutiveFailures: number;
  readonly totalFailures: number;
  readonly attemptsLeft: number;
  readonly failedUntil: string | null;
  readonly suspended: boolean;
  readonly suspendedUntil: string | null;
  readonly suspensionNetwork: string | null;
  readonly pinBypassUntil: string | null;
  readonly pinBypassNetwork: string | null;
  /** Disabled by an admin since (null: enabled). */
  readonly disabledAt: string | null;
  readonly authenticatedAt: string | null;
  readonly authenticatedVia: string | null;
  readonly lastProvisioning: { at: string; ip: string; outcome: string } | null;
  /** Asked without the credential it holds, not answered yet: first when and from where. */
  readonly challenged: { at: string; ip: string } | null;
  /** The last "reset needed" configuration it got: the phone cannot show its credential. */
  readonly needsReset: { at: string; ip: string } | null;
  /** Its SIP accounts, never with the password. */
  readonly accounts: readonly { server: string; user: string; authUser?: string; displayName?: string }[];
  /** Refused for a User-Agent of another phone: when, from where, the model to accept (null: none). */
  readonly userAgentMismatch: { at: string; ip: string; model: string | null } | null;
}
/** What hands a device its full configuration without a PAP (GET .../devices/{mac}/bypasses). */
export interface Bypasses {
  readonly pinBypass: { until: string; network: string | null } | null;
  readonly temporary: { ip: string; site: string | null; expiresAt: string }[];
  readonly permanent: string[];
}
export interface DeviceListPage {
  readonly devices: Device[];
  readonly total: number;
  readonly offset: number;
  readonly sites: string[];
  readonly stateCounts: Record<string, number>;
}
/** Device counts of a state, of the suspended, in all (GET /tenants/{t}/summary). */
export interface StateCounts {
  readonly total: number;
  readonly states: Record<'needed' | 'failed' | 'blocked' | 'successful', number>;
  readonly suspended: number;
}
export interface RolloutSummary extends StateCounts {
  readonly sites: readonly (StateCounts & { readonly site: string })[];
  /** Devices refused for another model's User-Agent, and those whose PAP expired (list filters mismatch=1, papExpired=1). */
  readonly userAgentMismatch: number;
  readonly papExpired: number;
  readonly at: string;
}
export interface AuditEvent {
  readonly id: string;
  readonly type: string;
  readonly ts: number;
  readonly [field: string]: string | number;
}
export interface TokenInfo {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}
