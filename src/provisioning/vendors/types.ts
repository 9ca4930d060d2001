import type { Vendor } from '../../domain/device';
import type { SettingsFormat } from '../../domain/setting-formats';
import type { CommonSettings, SettingItem } from '../../domain/settings';
import { tryParseMac, type Mac } from '../../domain/mac';
import type { Escaper } from '../render';

/** What a requested file name means to one vendor family. */
export type FileMatch =
  /** A file without a MAC, the same for every phone of the family; carries nothing secret. */
  | { readonly role: 'common'; readonly template: string; readonly vars: Readonly<Record<string, string>> }
  /** A MAC-bearing file holding the device's configuration (minimal or full). */
  | { readonly role: 'config'; readonly template: string; readonly mac: Mac }
  /** A MAC-bearing file that only points at the next file (Poly's per-phone master file). */
  | { readonly role: 'pointer'; readonly template: string; readonly mac: Mac }
  /**
   * A file the family's phones ask for while booting that papgate does not serve (boot files,
   * language and directory files, firmware): a 404 that is not counted as a miss, so a site
   * whose phones all reboot at once is never throttled.
   */
  | { readonly role: 'boot' };

/** What a User-Agent header says about the phone, as far as this vendor puts it there. */
export interface UserAgentInfo {
  readonly model?: string;
  readonly mac?: Mac;
}

/**
 * One vendor family: the file names its phones request, how it reads their User-Agent, how it
 * renders (templates under config/templates/<family>/, escaped with `escape`), and which per-model
 * override folders apply.
 */
export interface VendorModule {
  readonly family: string;
  /** Device-record vendors served by this module. */
  readonly vendors: readonly Vendor[];
  /** File-name patterns, for documentation and the 404 decision. */
  readonly files: readonly string[];
  readonly contentType: string;
  readonly escape: Escaper;
  /**
   * The scheme papgate challenges this family's phones with when they ask without the credential
   * (their full configuration sets HTTP credentials user = MAC, password = credential): `Basic`
   * where the phones answer it, `Digest` (MD5, qop=auth) where they answer nothing else.
   */
  readonly httpAuth: 'Basic' | 'Digest';
  matchFile(file: string): FileMatch | null;
  /** null: this User-Agent is not one of this vendor's phones. */
  parseUserAgent(ua: string): UserAgentInfo | null;
  /**
   * The accounts (lines) written for this model: the device's, then every other one up to this
   * number switched off and cleared, so no account an earlier file set (a removed account, or the
   * tenant's while a minimal file is served) is left on the phone. The model's count where the
   * references give one, else MAX_ACCOUNTS (every account papgate can have written);
   * config/templates/README.md, "Accounts not in use".
   */
  accountSlots(model: string): number;
  /** DECT handsets of this model whose lines the files assign (none: the family has no such items). */
  handsets?(model: string): number;
  /**
   * The family's setting items (src/domain/setting-formats.ts): their form, papgate's own items,
   * where the templates write them. null: the family takes none (Patton's CLI script).
   */
  readonly settings: SettingsFormat | null;
  /**
   * Whether this device's minimal configuration asks for account 1 over TLS, SRTP mandatory and the
   * server's certificate checked, when SIP_TLS_REGISTRAR is set: only where the references cite
   * every item (docs/phones.md, "SIP over TLS and SRTP"). Absent: never, the family stays on UDP.
   */
  sipTls?(device: { readonly vendor: Vendor; readonly model: string }): boolean;
  /**
   * The transport and SRTP items of account 1 that a TLS minimal file changed, at the phone's
   * factory values: the full file writes them unless a settings layer or (gate mode) the upstream
   * sets them, so the customer's own choice stays theirs and silence does not leave papgate's TLS
   * to papgate's port on the customer's server. A group holds the names one choice has on different
   * firmware (Yealink's two generations): a layer's value for one is written for all, and an
   * upstream that sets one keeps the group.
   */
  sipTlsUndo?(model: string): readonly (readonly SettingItem[])[];
  /** Override folder names, most specific first, for a device of this family. */
  overrides(device: { readonly vendor: Vendor; readonly model: string }): readonly string[];
  /**
   * The common settings in this family's own items, for `model` (a field left out: no item), the
   * zone's rules those of `year` (the one the file is rendered in). Each mapping is cited from the
   * references in config/templates/README.md.
   */
  commonItems(settings: CommonSettings, model: string, year: number): readonly SettingItem[];
}

export function macFrom(hex: string | undefined): Mac | null {
  return hex === undefined ? null : tryParseMac(hex);
}

/** `file` is the device configuration `template` when it matches `pattern` (group 1: the MAC). */
export function configFile(pattern: RegExp, template: string, file: string): FileMatch | null {
  const mac = macFrom(pattern.exec(file)?.[1]);
  return mac ? { role: 'config', template, mac } : null;
}

/** A boot file (see FileMatch) when any of `patterns` matches `file`. */
export function bootFile(patterns: readonly RegExp[], file: string): FileMatch | null {
  return patterns.some((p) => p.test(file)) ? { role: 'boot' } : null;
}

/** The first of `patterns` that reads this User-Agent (see modelAndMac). */
export function firstUserAgent(patterns: readonly RegExp[], ua: string): UserAgentInfo | null {
  for (const p of patterns) {
    const info = modelAndMac(p, ua);
    if (info) return info;
  }
  return null;
}

/** A User-Agent of this vendor when it matches `pattern`: group 1 the model, group 2 the MAC (both optional). */
export function modelAndMac(pattern: RegExp, ua: string): UserAgentInfo | null {
  const m = pattern.exec(ua);
  if (!m) return null;
  const mac = macFrom(m[2]);
  return { ...(m[1] ? { model: m[1] } : {}), ...(mac ? { mac } : {}) };
}
