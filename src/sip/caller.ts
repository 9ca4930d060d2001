/** Who is calling, as the router identified the caller, and the log lines each call of theirs causes. */
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Caller } from '../domain/call';
import type { Language } from '../domain/device';
import type { Mac } from '../domain/mac';
import { clientOf } from '../domain/prefix';
import type { LogLimit } from '../lib/loglimit';
import type { KnownPlace } from './notify';

export interface Identified {
  readonly caller: Caller;
  readonly mac: Mac | null;
  readonly tenant: string | null;
  readonly deviceLanguage: Language | null;
  /** The device's site name, when digest authentication named the device. */
  readonly site?: string;
  /**
   * Where the phone is, as far as this call shows it (canonical address, or null): what a PAP
   * success puts on the temporary whitelist, and where its check-sync goes.
   */
  readonly place?: KnownPlace & { readonly address: string };
}

/**
 * Writes a line that a caller causes with each call (refused, an emergency call, an IVR call): anyone
 * who fetched a minimal file may call as often as the shares let it, so each kind of line is one of
 * its client's few per window (LogLimit), or of a `share` of them (see LogLimit.line).
 */
export function callerLine(
  req: Srf.SrfRequest,
  deps: { readonly config: Config; readonly logLimit: LogLimit },
  log: Logger,
  level: 'info' | 'warn',
  share?: string,
): (fields: object, msg: string) => void {
  const client = clientOf(String(req.source_address), deps.config.traffic.clientPrefix);
  return (fields, msg) => deps.logLimit.line(log, level, client, fields, msg, share);
}
