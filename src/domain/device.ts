import { InputError } from './errors';
import { checkText } from './text';
import { parseMac, type Mac } from './mac';
import type { AuthRecord, AuthState, BypassReason } from './auth';
import { closestModels, knownModel, type DeclaredModels } from './models';

export const VENDORS = [
  'yealink',
  'snom',
  'poly',
  'cisco',
  'linksys',
  'gigaset',
  'patton',
  'grandstream',
  'panasonic',
  'spectralink',
] as const;
export type Vendor = (typeof VENDORS)[number];

/** Accounts a device takes: so no file papgate ever wrote holds an account beyond this one. */
export const MAX_ACCOUNTS = 16;

export const LANGUAGES = ['en', 'de'] as const;
export type Language = (typeof LANGUAGES)[number];

export interface SipAccount {
  readonly server: string;
  readonly user: string;
  readonly authUser?: string;
  readonly password: string;
  readonly displayName?: string;
}

/** A request seen at a time (ms) from an address. */
export interface Sighting {
  readonly at: number;
  readonly ip: string;
}

export interface NewDevice {
  readonly mac: Mac;
  readonly vendor: Vendor;
  readonly model: string;
  readonly site: string;
  readonly language: Language | null;
  readonly accounts: readonly SipAccount[];
}

export interface Device extends NewDevice, AuthRecord {
  readonly tenant: string;
  readonly createdAt: number;
  readonly pap: string;
  /**
   * Incremented by every reset, edit and end of a PIN bypass, so that a full file decided before
   * cannot be recorded after (full.lua).
   */
  readonly generation: number;
  readonly credentialHash: string | null;
  /**
   * The credential itself, kept for vendors whose phones answer the provisioning challenge with
   * HTTP Digest only (its answer proves the credential without carrying it, and the full file sent
   * back must carry it); null for the others, which keep only the hash.
   */
  readonly digestCredential: string | null;
  /**
   * The first request without the credential since the last one with it, while the device holds
   * one: when and from where it was challenged (see decideProvisioning).
   */
  readonly challenged: Sighting | null;
  /**
   * The last request that marked this authenticated device as needing reset (a challenge that went
   * unanswered, asked again from there; see decideProvisioning), until the phone shows its
   * credential or an admin resets the device.
   */
  readonly needsReset: Sighting | null;
  readonly sipPassword: string;
  readonly authenticatedAt: number | null;
  readonly authenticatedVia: BypassReason | null;
  readonly lastProvisioning: { at: number; ip: string; outcome: string } | null;
  /**
   * The network (a whitelist entry's canonical text) an admin bound the suspension to: only a
   * fetch from it gets the file the suspension hands out. Null: none (a suspension stored before
   * suspensions had networks, or none at all).
   */
  readonly suspensionNetwork: string | null;
  /**
   * The last provisioning request refused because its User-Agent named another phone, and the model
   * it named when an admin may accept it (another MAC or vendor: null; see acceptSeenModel).
   */
  readonly userAgentMismatch: (Sighting & { readonly model: string | null }) | null;
  /** Disabled by an admin since (ms): only the minimal configuration, no PAP taken; null: enabled. */
  readonly disabledAt: number | null;
}

const TENANT_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Tenant ids end up inside Redis hash tags and URLs, hence the narrow alphabet (no braces). */
export function parseTenantId(input: unknown): string {
  if (typeof input !== 'string' || !TENANT_ID.test(input)) {
    throw new InputError(
      'invalid tenant id: 1-63 characters of a-z, 0-9, "-" and "_", starting with a letter or digit',
      'tenant',
    );
  }
  return input;
}

/** A tenant's display name: 1-200 characters, none that checkText refuses. */
export function parseTenantName(input: unknown): string {
  if (typeof input !== 'string' || input === '' || input.length > 200)
    throw new InputError('name must be a string of 1-200 characters', 'name');
  checkText('name', input);
  return input;
}

/**
 * Models of a supported vendor whose files papgate cannot write (another file format or another
 * schema of items): a device of one would never get a working configuration, so it is refused when
 * it is added, naming the models that are supported (docs/phones.md, the vendor table).
 */
const REFUSED_MODELS: Partial<Record<Vendor, { readonly model: RegExp; readonly supported: string }>> = {
  // DECT bases and multi-cell systems, and the C520/C620 conference phones: items of another
  // schema (Wazo wazo_snom/common_dect, v05_20_0001/entry.py; FusionPBX snom/C520, snom/M500KLE),
  // the m3 another file (FusionPBX snom/m3/{$mac}.cfg).
  snom: {
    model: /^(?:snom[\s-]*)?(?:M(?:3|300|400|700|900)|M(?:100|500)[\s-]*KLE|C[56]20)\b/i,
    supported: 'desk phones (snom 3xx, 7xx, 8xx, D1xx-D8xx)',
  },
  // Another profile format, `<provisioning version="1.1" productID="e2">` (Wazo wazo_gigaset/Nx70_83_*).
  gigaset: { model: /^(?:Gigaset[\s-]*)?N[678]70E?\b/i, supported: 'N510 IP PRO, N720 DM PRO' },
  // CUCM-format configuration `ATA<MAC>.cnf.xml` (Wazo wazo_cisco_spa/ata190_v1_2_2).
  cisco: { model: /^(?:Cisco[\s-]*)?ATA[\s-]*19[01]\b/i, supported: 'SPA112, SPA122' },
};

/**
 * A model of `vendor` papgate can provision, by its canonical name (models.ts), or an InputError:
 * a refused model names those supported, an unknown one the closest known. `keep` (the model an
 * edited device already has) is accepted as it is: a device stored before models were checked, or
 * with a model the operator no longer declares, keeps working and can still be edited.
 */
export function checkModel(vendor: Vendor, model: string, declared: DeclaredModels, keep?: string): string {
  const refused = REFUSED_MODELS[vendor];
  if (refused?.model.test(model))
    throw new InputError(
      `model ${model} of ${vendor} is not supported (its configuration has another format); supported: ${refused.supported}`,
      'model',
    );
  if (model === keep) return model;
  const known = knownModel(vendor, model, declared);
  if (known !== null) return known;
  throw new InputError(
    `model ${model} of ${vendor} is not known; closest: ${closestModels(vendor, model).join(', ')} ` +
      '(an operator can declare another model with EXTRA_MODELS)',
    'model',
  );
}

/**
 * EXTRA_MODELS, `vendor:model` entries: models papgate does not know that the operator declares, so
 * a new phone model is never blocked by papgate's release. A refused model stays refused.
 */
export function parseExtraModels(entries: readonly string[]): DeclaredModels {
  const out: Partial<Record<Vendor, string[]>> = {};
  for (const e of entries) {
    const m = /^([a-z]+):(.+)$/.exec(e);
    if (!m) throw new InputError(`"${e}" is not vendor:model`, 'EXTRA_MODELS');
    const [, vendor, model] = m;
    if (!isVendor(vendor))
      throw new InputError(`"${e}": vendor must be one of ${VENDORS.join(', ')}`, 'EXTRA_MODELS');
    const name = model!.trim();
    if (name === '' || name.length > 64)
      throw new InputError(`"${e}": a model has 1-64 characters`, 'EXTRA_MODELS');
    checkText('EXTRA_MODELS', name);
    checkModel(vendor, name, { [vendor]: [name] });
    (out[vendor] ??= []).push(name);
  }
  return out;
}

function isVendor(v: unknown): v is Vendor {
  return typeof v === 'string' && (VENDORS as readonly string[]).includes(v);
}

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

export function isAuthState(v: unknown): v is AuthState {
  return v === 'needed' || v === 'failed' || v === 'blocked' || v === 'successful';
}

function text(obj: Record<string, unknown>, field: string, opts: { required: boolean; max: number }): string {
  const v = obj[field];
  if (v === undefined || v === null || v === '') {
    if (opts.required) throw new InputError(`${field} is required`, field);
    return '';
  }
  if (typeof v !== 'string') throw new InputError(`${field} must be a string`, field);
  const s = v.trim();
  if (s.length > opts.max) throw new InputError(`${field} is longer than ${opts.max} characters`, field);
  checkText(field, s);
  return s;
}

function parseAccount(v: unknown, i: number): SipAccount {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new InputError(`accounts[${i}] must be an object`, 'accounts');
  }
  const o = v as Record<string, unknown>;
  const field = (name: string, required: boolean) => {
    try {
      return text(o, name, { required, max: 128 });
    } catch (e) {
      throw new InputError(`accounts[${i}].${(e as Error).message}`, `accounts[${i}].${name}`);
    }
  };
  const account: { -readonly [K in keyof SipAccount]: SipAccount[K] } = {
    server: field('server', true),
    user: field('user', true),
    password: field('password', true),
  };
  const authUser = field('authUser', false);
  const displayName = field('displayName', false);
  if (authUser) account.authUser = authUser;
  if (displayName) account.displayName = displayName;
  return account;
}

/**
 * Validates an admin's "add device" body (JSON or a CSV row); `declared`: EXTRA_MODELS, `keepModel`:
 * see checkModel.
 */
export function parseNewDevice(body: unknown, declared: DeclaredModels = {}, keepModel?: string): NewDevice {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InputError('body must be a JSON object');
  }
  const o = body as Record<string, unknown>;
  const mac = parseMac(o.mac);
  if (!isVendor(o.vendor)) {
    throw new InputError(`vendor must be one of ${VENDORS.join(', ')}`, 'vendor');
  }
  const model = checkModel(o.vendor, text(o, 'model', { required: true, max: 64 }), declared, keepModel);
  const site = text(o, 'site', { required: true, max: 128 });
  let language: Language | null = null;
  if (o.language !== undefined && o.language !== null && o.language !== '') {
    if (!isLanguage(o.language))
      throw new InputError(`language must be one of ${LANGUAGES.join(', ')}`, 'language');
    language = o.language;
  }
  let accounts: SipAccount[] = [];
  if (o.accounts !== undefined) {
    if (!Array.isArray(o.accounts)) throw new InputError('accounts must be an array', 'accounts');
    if (o.accounts.length > MAX_ACCOUNTS)
      throw new InputError(`at most ${MAX_ACCOUNTS} accounts per device`, 'accounts');
    accounts = o.accounts.map(parseAccount);
  }
  return { mac, vendor: o.vendor, model, site, language, accounts };
}

/**
 * An admin accepts the model a phone's User-Agent named (a phone swapped between desks: the
 * provisioning refusal `user_agent_mismatch` noted it, see acceptableModel in
 * src/provisioning/request.ts): the device's model becomes it. Null when there is nothing to
 * accept: no mismatch noted, one naming another MAC or vendor (another device, not another model),
 * or the model it named is the device's already. Mirrored by `lua/accept.lua`.
 */
export function acceptSeenModel(d: Pick<Device, 'model' | 'userAgentMismatch'>): string | null {
  const seen = d.userAgentMismatch?.model ?? null;
  return seen === null || seen === d.model ? null : seen;
}
