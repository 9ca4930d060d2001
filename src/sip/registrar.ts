import type { Logger } from 'pino';
import { isStoreUnavailable } from '../store/connect';
import type { SipStore } from '../store/sip';
import { authenticate, type AuthDeps, type AuthRequest } from './authenticate';
import { retryAfter, type RegisterAdmission } from './overload';

export interface RegisterRequest extends AuthRequest {
  readonly source_address: string;
  readonly source_port: number;
  readonly protocol: string;
  getParsedHeader(name: 'contact'): { uri: string; params?: Record<string, string | null | undefined> }[];
}

export interface SipReply {
  send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void;
}

export interface RegistrarDeps extends AuthDeps {
  readonly sipStore: AuthDeps['sipStore'] & Pick<SipStore, 'saveRegistration' | 'deleteRegistration'>;
  readonly maxExpiresSeconds: number;
  readonly admission: Pick<RegisterAdmission, 'admit'>;
  readonly overloadRetryAfterSeconds: number;
  readonly log: Logger;
  readonly now?: () => number;
}

/** Expires the phone asked for: the contact's expires parameter, else the Expires header, else null. */
function requestedExpires(
  req: RegisterRequest,
  contactParams: Record<string, string | null | undefined> | undefined,
): number | null {
  const raw = contactParams?.expires ?? req.get('expires');
  if (raw === undefined || raw === null || !/^\s*\d+\s*$/.test(raw)) return null;
  return Number(raw);
}

/**
 * Registrar for the restricted accounts of the minimal configuration. Answers: 401 challenge,
 * 403 (unknown device, wrong credentials, replay, device already `successful`), 503 (store
 * unreachable; or above capacity, before any work: see overload.ts), 200 with the granted expiry
 * (at most SIP_REGISTER_EXPIRES_SECONDS).
 */
export async function handleRegister(
  req: RegisterRequest,
  res: SipReply,
  deps: RegistrarDeps,
): Promise<void> {
  const release = deps.admission.admit(req.get('authorization') !== undefined);
  if (release === null)
    return res.send(503, 'Service Unavailable', retryAfter(deps.overloadRetryAfterSeconds));
  try {
    await register(req, res, deps);
  } finally {
    release();
  }
}

async function register(req: RegisterRequest, res: SipReply, deps: RegistrarDeps): Promise<void> {
  const callId = req.get('call-id') ?? '';
  const log = deps.log.child({ callId, src: req.source_address });
  const auth = await authenticate(req, 'authorization', deps);
  switch (auth.kind) {
    case 'challenge':
      return res.send(401, 'Unauthorized', { headers: { 'WWW-Authenticate': auth.header } });
    case 'store_unavailable':
      // The outage itself is logged once by the store connection; phones re-register in bulk.
      log.debug({ err: auth.error }, 'register: store unreachable');
      return res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '30' } });
    case 'forbidden':
      log.info({ reason: auth.reason, mac: auth.mac }, 'register refused');
      return res.send(403, 'Forbidden');
  }
  const { device, mac } = auth;
  if (device.state === 'successful') {
    log.info({ mac }, 'register refused: device already authenticated');
    return res.send(403, 'Forbidden');
  }
  let contacts: ReturnType<RegisterRequest['getParsedHeader']> = [];
  const rawContact = req.get('contact')?.trim();
  if (rawContact !== undefined && rawContact !== '' && rawContact !== '*') {
    try {
      contacts = req.getParsedHeader('contact');
    } catch {
      return res.send(400, 'Bad Contact');
    }
  }
  const contact = contacts[0];
  const expires = requestedExpires(req, contact?.params);
  try {
    if (rawContact === '*' || expires === 0) {
      if (rawContact === '*' && expires !== 0) return res.send(400, 'Invalid Request'); // RFC 3261 10.3 step 6
      await deps.sipStore.deleteRegistration(device.tenant, mac);
      log.info({ mac }, 'unregistered');
      return res.send(200, 'OK', { headers: { Expires: '0' } });
    }
    if (contact === undefined) {
      // A query for the current bindings: answer without changing them.
      return res.send(200, 'OK');
    }
    const granted = Math.min(expires ?? deps.maxExpiresSeconds, deps.maxExpiresSeconds);
    const now = (deps.now ?? Date.now)();
    await deps.sipStore.saveRegistration(
      device.tenant,
      {
        mac,
        contact: String(contact.uri),
        address: String(req.source_address ?? ''),
        port: Number(req.source_port) || 5060,
        protocol: String(req.protocol ?? 'udp'),
        expiresAt: now + granted * 1000,
        userAgent: req.get('user-agent') ?? '',
        callId,
      },
      granted,
    );
    log.info({ mac, granted, state: device.state }, 'registered');
    return res.send(200, 'OK', {
      headers: { Contact: `<${contact.uri}>;expires=${granted}`, Expires: String(granted) },
    });
  } catch (err) {
    if (isStoreUnavailable(err)) log.debug({ err: (err as Error).message }, 'register: store unreachable');
    else log.error({ err: (err as Error).message }, 'register: store error');
    return res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '30' } });
  }
}
