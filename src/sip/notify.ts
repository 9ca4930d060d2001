import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { Vendor } from '../domain/device';
import type { Mac } from '../domain/mac';
import type { NotifyResult } from '../domain/outcomes';
import type { Registration, SipStore } from '../store/sip';

/**
 * The NOTIFY event that makes each vendor's phones fetch their configuration again (no reboot
 * where the vendor allows saying so).
 */
export const CHECK_SYNC_EVENT: Readonly<Record<Vendor, string>> = {
  cisco: 'resync',
  linksys: 'resync',
  yealink: 'check-sync;reboot=false',
  snom: 'check-sync;reboot=false',
  poly: 'check-sync',
  gigaset: 'check-sync',
  patton: 'check-sync',
  grandstream: 'check-sync',
  panasonic: 'check-sync',
  spectralink: 'check-sync',
};

export function checkSyncEvent(vendor: Vendor | string): string {
  return (CHECK_SYNC_EVENT as Record<string, string>)[vendor] ?? 'check-sync';
}

/** Where to send in-band requests to a registered phone: the REGISTER's source, so NAT is no obstacle. */
export function outboundTarget(reg: Pick<Registration, 'address' | 'port' | 'protocol'>): string {
  const host = reg.address.includes(':') ? `[${reg.address}]` : reg.address;
  const transport = (reg.protocol || 'udp').toLowerCase();
  return `sip:${host}:${reg.port};transport=${transport}`;
}

/** A phone's contact and the source address, port and transport it was seen from. */
export type Reachable = Pick<Registration, 'contact' | 'address' | 'port' | 'protocol'>;

/**
 * Where a check-sync goes when papgate knows where the phone is (a PAP call's source): the binding
 * registered from that address, else `fallback` (the call's own Contact and source).
 */
export interface KnownPlace {
  readonly address: string;
  readonly fallback?: Reachable;
}

interface NotifyDeps {
  readonly srf: () => Srf | null;
  readonly sipStore: Pick<SipStore, 'registrations'>;
  readonly getDevice: (tenant: string, mac: Mac) => Promise<{ vendor: Vendor } | null>;
  readonly log: Logger;
  readonly timeoutMs?: number;
}

/**
 * Sends the phone behind `mac` its vendor's check-sync NOTIFY: at `place` when given (after a PAP
 * success: never at a binding someone else registered from elsewhere), else at every live binding
 * (a lock ran out; a binding that is not the phone's learns nothing from it).
 */
export async function sendCheckSync(
  deps: NotifyDeps,
  tenant: string,
  mac: Mac,
  place?: KnownPlace,
): Promise<NotifyResult> {
  const log = deps.log.child({ tenant, mac });
  const srf = deps.srf();
  try {
    const bindings = await deps.sipStore.registrations(tenant, mac);
    const chosen = place && (bindings.find((b) => b.address === place.address) ?? place.fallback);
    const targets: Reachable[] = place ? (chosen ? [chosen] : []) : bindings;
    if (targets.length === 0) {
      log.info('check-sync: phone not registered, nothing sent');
      return 'not_registered';
    }
    if (srf === null) {
      log.warn('check-sync: SIP server not connected, nothing sent');
      return 'error';
    }
    const device = await deps.getDevice(tenant, mac);
    const event = checkSyncEvent(device?.vendor ?? '');
    const settled = await Promise.allSettled(
      targets.map((t) => notify(srf, t, event, deps.timeoutMs ?? 32000)),
    );
    const results = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (results.length === 0) throw (settled[0] as PromiseRejectedResult).reason;
    const status = results.find((r) => r !== null && r < 300) ?? results.find((r) => r !== null) ?? null;
    if (status === null) {
      log.warn({ event, bindings: targets.length }, 'check-sync: no answer');
      return 'no_answer';
    }
    log.info({ event, status, bindings: targets.length }, 'check-sync sent');
    return status < 300 ? 'sent' : 'rejected';
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'check-sync failed');
    return 'error';
  }
}

/** One out-of-dialog NOTIFY; its final status, or null without one in time. */
function notify(srf: Srf, to: Reachable, event: string, timeoutMs: number): Promise<number | null> {
  // Callback form: the listener must be attached before drachtio dispatches the response, which
  // on loopback can arrive in the same read as the "sent" confirmation.
  return new Promise<number | null>((resolve, reject) => {
    const t = setTimeout(() => resolve(null), timeoutMs);
    srf.request(
      to.contact,
      {
        method: 'NOTIFY',
        proxy: outboundTarget(to),
        headers: {
          To: `<${to.contact}>`,
          Event: event,
          'Subscription-State': 'terminated',
          'Content-Length': '0',
        },
      },
      (err, req) => {
        if (err) {
          clearTimeout(t);
          return reject(err);
        }
        req.on('response', (res) => {
          if (res.status >= 200) {
            clearTimeout(t);
            resolve(res.status);
          }
        });
      },
    );
  });
}
