import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { Vendor } from '../domain/device';
import type { Mac } from '../domain/mac';
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

export type NotifyResult = 'sent' | 'not_registered' | 'no_answer' | 'rejected' | 'error';

export interface NotifyDeps {
  readonly srf: () => Srf | null;
  readonly sipStore: Pick<SipStore, 'registration'>;
  readonly getDevice: (tenant: string, mac: Mac) => Promise<{ vendor: Vendor } | null>;
  readonly log: Logger;
  readonly timeoutMs?: number;
}

/** Sends the phone behind `mac` its vendor's check-sync NOTIFY at its registered contact. */
export async function sendCheckSync(deps: NotifyDeps, tenant: string, mac: Mac): Promise<NotifyResult> {
  const log = deps.log.child({ tenant, mac });
  const srf = deps.srf();
  try {
    const reg = await deps.sipStore.registration(tenant, mac);
    if (reg === null) {
      log.info('check-sync: phone not registered, nothing sent');
      return 'not_registered';
    }
    if (srf === null) {
      log.warn('check-sync: SIP server not connected, nothing sent');
      return 'error';
    }
    const device = await deps.getDevice(tenant, mac);
    const event = checkSyncEvent(device?.vendor ?? '');
    // Callback form: the listener must be attached before drachtio dispatches the response, which
    // on loopback can arrive in the same read as the "sent" confirmation.
    const status = await new Promise<number | null>((resolve, reject) => {
      const t = setTimeout(() => resolve(null), deps.timeoutMs ?? 32000);
      srf.request(
        reg.contact,
        {
          method: 'NOTIFY',
          proxy: outboundTarget(reg),
          headers: {
            To: `<${reg.contact}>`,
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
    if (status === null) {
      log.warn({ event }, 'check-sync: no answer');
      return 'no_answer';
    }
    log.info({ event, status }, 'check-sync sent');
    return status < 300 ? 'sent' : 'rejected';
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'check-sync failed');
    return 'error';
  }
}
