/**
 * An admin's edit of a device: its site, model, language and accounts change; its MAC, vendor, PAP
 * and authentication state do not (a new vendor is another file format: delete and add it).
 */
import { parseNewDevice, type NewDevice, type SipAccount } from './device';
import { InputError } from './errors';
import type { DeclaredModels } from './models';

export const EDITABLE = ['site', 'model', 'language', 'accounts'] as const;
export type Editable = (typeof EDITABLE)[number];

export interface DeviceEdit {
  /** The device as it is after the edit (what parseNewDevice accepts). */
  readonly device: NewDevice;
  /** The fields whose value changed, in EDITABLE order. */
  readonly changed: readonly Editable[];
  /** `user@server` of each account whose password the edit sets or changes (never the password). */
  readonly passwordsChanged: readonly string[];
}

const accountId = (a: { server?: unknown; user?: unknown }) =>
  `${typeof a.user === 'string' ? a.user.trim() : ''}@${typeof a.server === 'string' ? a.server.trim() : ''}`;

/**
 * Accounts as given, each without a password taking the password of the current account with the
 * same user and server: the API never shows passwords, so an edit sent back as read keeps them.
 * An account that is new still needs its password (parseNewDevice says which).
 */
export function keepPasswords(current: readonly SipAccount[], given: unknown): unknown {
  if (!Array.isArray(given)) return given;
  const known = new Map(current.map((a) => [accountId(a), a.password]));
  return given.map((a: unknown) => {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return a;
    const o = a as Record<string, unknown>;
    const password = o.password;
    if (password !== undefined && password !== null && password !== '') return o;
    const kept = known.get(accountId(o));
    return kept === undefined ? o : { ...o, password: kept };
  });
}

/**
 * The edit `body` asks of `current`, checked as an addition is (parseNewDevice); a field it does
 * not name stays as it is, and the model it has stays accepted (checkModel). A field that cannot be
 * edited is refused, naming it.
 */
export function applyDeviceEdit(current: NewDevice, body: unknown, declared: DeclaredModels): DeviceEdit {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new InputError('body must be a JSON object');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if ((EDITABLE as readonly string[]).includes(k)) continue;
    throw new InputError(
      k === 'vendor' || k === 'mac'
        ? `${k} cannot be changed: delete the device and add it again`
        : `${k} cannot be edited; editable: ${EDITABLE.join(', ')}`,
      k,
    );
  }
  const device = parseNewDevice(
    {
      mac: current.mac,
      vendor: current.vendor,
      model: o.model === undefined ? current.model : o.model,
      site: o.site === undefined ? current.site : o.site,
      language: o.language === undefined ? current.language : o.language,
      accounts: o.accounts === undefined ? current.accounts : keepPasswords(current.accounts, o.accounts),
    },
    declared,
    current.model,
  );
  const changed = EDITABLE.filter((f) => JSON.stringify(device[f]) !== JSON.stringify(current[f]));
  const before = new Map(current.accounts.map((a) => [accountId(a), a.password]));
  const passwordsChanged = device.accounts
    .filter((a) => before.get(accountId(a)) !== a.password)
    .map((a) => accountId(a));
  return { device, changed, passwordsChanged };
}

/** Accounts as the audit trail shows them: who, where, shown as; never the password. */
export function accountsSummary(accounts: readonly SipAccount[]): string {
  return accounts
    .map(
      (a) =>
        `${a.user}@${a.server}${a.authUser ? ` auth ${a.authUser}` : ''}${a.displayName ? ` "${a.displayName}"` : ''}`,
    )
    .join('; ');
}

/** The audit event's fields of an edit: what changed, each with its previous value; no password. */
export function editAudit(current: NewDevice, edit: DeviceEdit): Record<string, string> {
  const shown = (d: NewDevice, f: Editable) =>
    f === 'accounts' ? accountsSummary(d.accounts) : f === 'language' ? (d.language ?? '') : d[f];
  const out: Record<string, string> = { changed: edit.changed.join(',') };
  for (const f of edit.changed) {
    out[f] = shown(edit.device, f);
    out[`previous${f[0]!.toUpperCase()}${f.slice(1)}`] = shown(current, f);
  }
  if (edit.passwordsChanged.length > 0) out.passwordsChanged = edit.passwordsChanged.join(',');
  return out;
}
