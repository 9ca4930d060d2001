import { BoundedMap } from '../lib/bounded';
import type { Config } from '../config';
import type { Device, Language, Vendor } from '../domain/device';
import { restrictedSipPassword } from '../domain/pap';
import { displayText, type MinimalDisplay } from '../domain/display';
import type { SettingItem } from '../domain/settings';
import type { Scope } from './render';
import { moduleFor } from './vendors';

/** The file, beside the configuration files, that holds SIP_TLS_CA_FILE's certificates. */
export const SIP_CA_FILE = 'sip-ca.pem';

/**
 * Whether `device`'s minimal file asks for account 1 over TLS (SIP_TLS_REGISTRAR set, its family's
 * items cited for its model), and so whether its full file writes back what that changed.
 */
export function givesTls(config: Config, device: Pick<Device, 'vendor' | 'model'>): boolean {
  return config.sip.tls !== null && (moduleFor(device.vendor).sipTls?.(device) ?? false);
}

/** Splits `host[:port]` / `[v6]:port` into host and port (default 5060). */
function splitHostPort(s: string, defaultPort = 5060): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(s);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : defaultPort };
  const hp = /^([^:]+):([0-9]{1,5})$/.exec(s);
  if (hp) return { host: hp[1]!, port: Number(hp[2]) };
  return { host: s, port: defaultPort };
}

/**
 * Characters a vendor's display item takes, where a limit is known (the shortest item that shows
 * `display`). The references (config/templates/README.md) give none; Gigaset's handset name
 * (`aucTlnName`, shown on the idle display) takes 10 as the vendor's guide reads, unverified.
 */
export const DISPLAY_LIMITS: Partial<Record<Vendor, number>> = { gigaset: 10 };

/** Seconds a phone waits off-hook before dialling the authentication service (warm line). */
const HOTLINE_DELAY_SECONDS = 4;

export type RenderKind =
  | {
      readonly kind: 'minimal';
      readonly display: MinimalDisplay;
      /** The fetching address: the restricted password is derived for it (SIP_BIND_TO_PROVISIONING_IP). */
      readonly ip: string;
      /** The lock's end for `failed` (ms). */
      readonly failedUntil?: number | null;
      /** The tenant's (or device's) language and the tenant's time zone; else the configured defaults. */
      readonly language?: Language | null;
      readonly timeZone?: string | null;
      readonly now?: number;
    }
  | { readonly kind: 'full'; readonly credential: string };

/** Gigaset's symb_item numbers are written in hex (`0x13c4` for 5060). */
function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function base(config: Config, credential: string | null, user?: string) {
  const url =
    credential === null ? `${config.provisioningBaseUrl}/` : `${config.provisioningBaseUrl}/d/${credential}/`;
  const noScheme = url.replace(/^https?:\/\//, '');
  return {
    provisioningUrl: url,
    // For vendors whose only place for HTTP credentials is the URL (snom setting_server, Patton's
    // profile location): `http://<mac>:<credential>@host/...`. Both are URL-safe as they are.
    provisioningUrlWithCredentials:
      credential === null || user === undefined
        ? url
        : url.replace(/^(https?:\/\/)/, `$1${user}:${credential}@`),
    // Gigaset writes its URLs without `http://` (Wazo N510 base.tpl); an https URL keeps its scheme,
    // which a base would otherwise replace with plain HTTP.
    provisioningUrlHttpImplied: url.startsWith('http:') ? noScheme : url,
    // Grandstream appends `/cfg<mac>.xml` itself: a trailing slash would make it `//cfg...`.
    provisioningDirNoScheme: noScheme.replace(/\/+$/, ''),
    https: url.startsWith('https:'),
  };
}

/**
 * An account's position: `n` from 1, `i` from 0 (Gigaset N720 arrays), `suffix` as Gigaset's
 * N510 spells it (nothing for account 1, `_n` from account 2 on).
 */
function slot(n: number): { n: number; i: number; suffix: string; gsP: string; gsP2: string } {
  // Grandstream account n >= 2 is P{n+2}01.. and P2{n+2}01.. (W wazo_grandstream/common/templates/base.tpl:60-75).
  return { n, i: n - 1, suffix: n === 1 ? '' : `_${n}`, gsP: `P${n + 2}`, gsP2: `P2${n + 2}` };
}

/** Handsets a Gigaset N510 base takes; bit n-1 of a send or receive mask is handset n. */
const N510_HANDSETS = 6;

/**
 * The N510 handsets that send and receive on account `n` of `count`: handset n (Wazo's rule,
 * account n on handset n), and for account 1 also every handset without an account of its own,
 * as the base itself assigns the first connection, so that no handset is left without a line.
 */
function handsetMask(n: number, count: number): string {
  let mask = n <= N510_HANDSETS ? 1 << (n - 1) : 0;
  if (n === 1) for (let h = Math.max(count, 1); h < N510_HANDSETS; h++) mask |= 1 << h;
  return hex(mask);
}

/**
 * The distinct SIP servers of `accounts`, numbered from 1 in order of first use, and each
 * account's number: the server templates Yealink DECT systems name per account (Wazo v87
 * `_add_sip_templates`). Yealink takes ten templates; papgate takes sixteen accounts per device.
 */
function sipTemplates<A extends { serverHost: string; serverPort: number }>(
  accounts: readonly A[],
): { templates: Scope[]; accounts: (A & { templateId: number })[] } {
  const ids = new Map<string, number>();
  const templates: Scope[] = [];
  const numbered = accounts.map((a) => {
    const key = `${a.serverHost}\0${a.serverPort}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size + 1;
      ids.set(key, id);
      templates.push({ templateId: id, serverHost: a.serverHost, serverPort: a.serverPort });
    }
    return { ...a, templateId: id };
  });
  return { templates, accounts: numbered };
}

/** SIP server templates a Yealink DECT system takes (FusionPBX yealink/w80/y000000000175.cfg:909). */
const YEALINK_SERVER_TEMPLATES = 10;

/** The numbers from..to, each as `{ [key]: n }`. */
function numbered<K extends string>(key: K, from: number, to: number): Record<K, number>[] {
  const out: Record<K, number>[] = [];
  for (let n = from; n <= to; n++) out.push({ [key]: n } as Record<K, number>);
  return out;
}

/** Minutes between two re-checks; `floor` is the vendor's smallest accepted value. */
function minutes(seconds: number, floor = 1): number {
  return Math.max(floor, Math.round(seconds / 60));
}

/**
 * One setting item as the templates write it: `element` and `idx` split `fkey[3]` (snom's indexed
 * elements), `quoted` and `text` a Gigaset string value (`"..."`) from its quotes.
 */
function settingScope({ name, value }: SettingItem): Scope {
  const indexed = /^(.*)\[([0-9]+)\]$/.exec(name);
  const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  return {
    name,
    value,
    element: indexed ? indexed[1]! : name,
    idx: indexed ? indexed[2]! : '',
    quoted,
    text: quoted ? value.slice(1, -1) : value,
  };
}

/** Variables of a common (MAC-less) file: nothing device-specific, nothing secret. */
export function commonScope(config: Config, vars: Readonly<Record<string, string>>): Scope {
  return {
    ...vars,
    ...base(config, null),
    intervalSeconds: config.provisioningIntervalSeconds,
    intervalMinutes: minutes(config.provisioningIntervalSeconds),
    minimal: false,
    full: false,
  };
}

/** The RenderKind of a minimal configuration. */
export type MinimalKind = Extract<RenderKind, { kind: 'minimal' }>;

/**
 * What of a minimal configuration depends on the device's state and the request: the display text
 * and the restricted account's password. Everything else in its scope is the device's and the
 * configuration's.
 */
export function minimalFields(
  config: Config,
  device: Pick<Device, 'vendor' | 'sipPassword'>,
  what: MinimalKind,
): { readonly display: string; readonly password: string } {
  return {
    display: displayText(
      what.display,
      {
        serviceNumber: config.authServiceNumber,
        failedUntil: what.failedUntil ?? null,
        now: what.now ?? Date.now(),
        language: what.language ?? config.defaultLanguage,
        timeZone: what.timeZone ?? config.defaultTimeZone,
      },
      DISPLAY_LIMITS[device.vendor] ?? null,
    ),
    password: restrictedPassword(device.sipPassword, what.ip, config.sip.bindToProvisioningIp),
  };
}

/** restrictedSipPassword of recent (secret, address) pairs: an HMAC per request costs. */
const passwords = new BoundedMap<string, string>(100_000);

function restrictedPassword(secret: string, ip: string, bound: boolean): string {
  if (!bound) return secret;
  return passwords.memo(`${secret}\0${ip}`, () => restrictedSipPassword(secret, ip, bound));
}

/**
 * Every variable a device template may use. The minimal configuration fills the account list with
 * the restricted papgate account only: nothing of the tenant's reaches it.
 */
export function deviceScope(
  config: Config,
  device: Pick<Device, 'mac' | 'model' | 'vendor' | 'accounts' | 'sipPassword'>,
  what: RenderKind,
  /** The file's setting items (files.ts: the effective layers, or the minimal file's safe common items). */
  settings: readonly SettingItem[],
): Scope {
  const module = moduleFor(device.vendor);
  const minimal = what.kind === 'minimal';
  // Account 1 over TLS (SIP_TLS_REGISTRAR) where the phone's items are cited, else over UDP.
  const tls = minimal && givesTls(config, device);
  const udp = splitHostPort(config.sip.registrar);
  const registrar = tls ? splitHostPort(config.sip.tls!.registrar, 5061) : udp;
  const registrarText = tls
    ? `${registrar.host.includes(':') ? `[${registrar.host}]` : registrar.host}:${registrar.port}`
    : config.sip.registrar;
  const interval = minimal ? config.provisioningMinimalIntervalSeconds : config.provisioningIntervalSeconds;
  const fields = what.kind === 'minimal' ? minimalFields(config, device, what) : null;
  const display = fields?.display ?? '';
  const listed = fields
    ? [
        {
          ...slot(1),
          server: registrarText,
          serverHost: registrar.host,
          serverPort: registrar.port,
          serverPortHex: hex(registrar.port),
          domain: config.sip.realm,
          user: device.mac,
          authUser: device.mac,
          password: fields.password,
          displayName: display,
          label: display,
        },
      ]
    : device.accounts.map((a, i) => {
        const hp = splitHostPort(a.server);
        return {
          ...slot(i + 1),
          server: a.server,
          serverHost: hp.host,
          serverPort: hp.port,
          serverPortHex: hex(hp.port),
          domain: hp.host,
          user: a.user,
          authUser: a.authUser ?? a.user,
          password: a.password,
          displayName: a.displayName ?? a.user,
          label: a.displayName ?? a.user,
        };
      });
  const { templates: serverTemplates, accounts } = sipTemplates(
    listed.map((a) => ({ ...a, handsetMaskHex: handsetMask(a.n, listed.length) })),
  );
  const credential = what.kind === 'full' ? what.credential : null;
  return {
    mac: device.mac,
    MAC: device.mac.toUpperCase(),
    model: device.model,
    vendor: device.vendor,
    minimal,
    full: !minimal,
    display,
    ...base(config, credential, device.mac),
    // The full configuration's HTTP credentials (user = MAC, password = credential), with which
    // the phone answers papgate's challenge when it asks without the path (see
    // decideProvisioning); the minimal configuration clears them.
    httpCredentials: credential !== null,
    httpUser: credential !== null ? device.mac : '',
    httpPassword: credential ?? '',
    intervalSeconds: interval,
    intervalMinutes: minutes(interval),
    // Grandstream P193 accepts 60 to 86400 minutes.
    intervalMinutesAtLeastHour: minutes(interval, 60),
    // Poly prov.polling.period: "Only an integer >= 3600 is valid" (FusionPBX app_config.php).
    intervalSecondsAtLeastHour: Math.max(3600, interval),
    registrar: registrarText,
    // SIP_REGISTRAR, also where TLS is asked for: a route whose transport no item names (Poly's
    // emergency routing server) stays on UDP, which emergency calls always take.
    udpRegistrarHost: udp.host,
    udpRegistrarPort: udp.port,
    registrarHost: registrar.host,
    registrarPort: registrar.port,
    registrarPortHex: hex(registrar.port),
    sipTls: tls,
    // Where the phone loads the TLS listener's CA from (its minimal file only).
    sipCaUrl: tls && config.sip.tls!.ca !== null ? `${config.provisioningBaseUrl}/${SIP_CA_FILE}` : '',
    realm: config.sip.realm,
    authServiceNumber: config.authServiceNumber,
    hotlineDelaySeconds: HOTLINE_DELAY_SECONDS,
    emergencyList: config.emergencyNumbers.join(','),
    emergency: config.emergencyNumbers.map((number, i) => ({ n: i + 1, number })),
    emergency5: config.emergencyNumbers.slice(0, 5).map((number, i) => ({ n: i + 1, number })),
    accounts,
    serverTemplates,
    vacantServerTemplates: numbered('templateId', serverTemplates.length + 1, YEALINK_SERVER_TEMPLATES),
    primary: accounts.slice(0, 1),
    // Accounts 2 and up within the model's count, for formats that write account 1 apart (Grandstream).
    secondary: accounts.slice(1, module.accountSlots(device.model)),
    // Every account of the model not listed, switched off and cleared: the restricted account of a
    // full configuration without accounts, an account an admin removed, and the tenant's accounts
    // 2.. under a minimal configuration ("reset needed" included). No handset is on them.
    vacant: numbered('n', accounts.length + 1, module.accountSlots(device.model)).map(({ n }) => ({
      ...slot(n),
      handsetMaskHex: hex(0),
    })),
    // DECT handsets whose lines the minimal configuration assigns (every one to account 1).
    handsets: numbered('h', 1, module.handsets?.(device.model) ?? 0),
    displayName: minimal ? display : (device.accounts[0]?.displayName ?? ''),
    settings: settings.map(settingScope),
    hasSettings: settings.length > 0,
  };
}
