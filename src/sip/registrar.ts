import type { Logger } from 'pino';
import { clientOf, type PrefixLengths } from '../domain/prefix';
import { strangerText } from '../domain/text';
import { tryCanonicalIp } from '../domain/whitelist';
import type { LogLimit } from '../lib/loglimit';
import type { Metrics } from '../lib/metrics';
import { isStoreUnavailable } from '../store/connect';
import type { SipLogin, SipStore } from '../store/sip';
import {
  afterNonceUse,
  verifyDigest,
  type AuthDeps,
  type AuthRequest,
  type AuthResult,
  type Verified,
  WRONG_ADDRESS,
} from './authenticate';
import { parseDigestHeader, type DigestCredentials } from '../domain/digest';
import { retryAfter, type RegisterAdmission } from './overload';

export interface RegisterRequest extends AuthRequest {
  readonly source_address: string;
  readonly source_port: number;
  readonly protocol: string;
  /** drachtio-server's receive time (RegisterAdmission: the request's age) */
  readonly stackTime?: unknown;
  getParsedHeader(name: 'contact'): { uri: string; params?: Record<string, string | null | undefined> }[];
}

export interface SipReply {
  send(status: number, reason?: string, opts?: { headers?: Record<string, string> }): void;
}

/**
 * The longest Contact URI a binding takes (longer: 400) and User-Agent it keeps (longer: cut). A
 * phone's Contact is its address and port with a few parameters (`sip:001565aabbcc@192.0.2.10:5060;
 * transport=udp;line=abc123`, a GRUU or `+sip.instance` under 150 characters), its User-Agent a
 * vendor, model and firmware (`Yealink SIP-T54W 96.86.0.70`, under 60); a drill's 3.5 KB Contact
 * and 4 KB User-Agent made one device's bindings 33 KB.
 */
const MAX_CONTACT_URI = 256;
const MAX_USER_AGENT = 128;

export interface RegistrarDeps extends AuthDeps<SipLogin> {
  readonly sipStore: AuthDeps['sipStore'] & Pick<SipStore, 'register'>;
  readonly maxExpiresSeconds: number;
  readonly admission: Pick<RegisterAdmission, 'admit' | 'challenged' | 'answersChallenge'>;
  readonly overloadRetryAfterSeconds: number;
  /** SIP_REQUIRE_TLS: a REGISTER over UDP or TCP gets 403. */
  readonly requireTls?: boolean;
  /** Counts the REGISTERs shed, by reason. */
  readonly metrics?: Pick<Metrics, 'registerShed'>;
  readonly log: Logger;
  readonly now?: () => number;
  /** Appends to the tenant's phone traffic, per client of `source` (Store.appendTraffic). */
  readonly traffic: (
    tenant: string,
    source: string,
    type: string,
    fields: Record<string, string>,
  ) => Promise<void>;
  /** Refusals and new or moved bindings are logged per client (an address prefix), kind and window. */
  readonly logLimit: LogLimit;
  readonly clientPrefix: PrefixLengths;
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
 * 403 (unknown device, wrong credentials, replay), 400 (a Contact
 * papgate cannot use or store), 503 (store unreachable; or above capacity, before any work: see
 * overload.ts), 200 with the granted expiry (at most SIP_REGISTER_EXPIRES_SECONDS).
 */
export async function handleRegister(
  req: RegisterRequest,
  res: SipReply,
  deps: RegistrarDeps,
): Promise<void> {
  if (deps.requireTls && req.protocol !== 'tls') {
    // Before any work: its credentials, even a challenge, would cross the network in clear.
    deps.logLimit.line(
      deps.log,
      'info',
      clientOf(String(req.source_address), deps.clientPrefix),
      { src: req.source_address, protocol: strangerText(String(req.protocol)) },
      'register refused: not over TLS (SIP_REQUIRE_TLS)',
      'not_tls',
    );
    return res.send(403, 'TLS Required');
  }
  const creds = parseDigestHeader(req.get('authorization'));
  const secondHalf = deps.admission.answersChallenge(creds?.nonce);
  const release = deps.admission.admit(secondHalf, req.stackTime);
  if (typeof release === 'string') {
    deps.metrics?.registerShed(release);
    // Counted always. Logged as one share for the whole process (shedding is papgate's state, not
    // a client's: a storm from thousands of sites would log thousands of shares), a few lines per
    // window and reason, and then how many were left out.
    deps.logLimit.line(
      deps.log,
      'warn',
      'all clients',
      { src: req.source_address, reason: release },
      'register shed: papgate behind (503, Retry-After)',
      `shed_${release}`,
    );
    return res.send(503, 'Service Unavailable', retryAfter(deps.overloadRetryAfterSeconds));
  }
  try {
    await register(req, res, deps, creds, secondHalf);
  } finally {
    release();
  }
}

/** `secondHalf`: admitted as the answer to a challenge, so a 401 to it opens none (challenged). */
async function register(
  req: RegisterRequest,
  res: SipReply,
  deps: RegistrarDeps,
  creds: DigestCredentials | null,
  secondHalf: boolean,
): Promise<void> {
  const callId = strangerText(req.get('call-id') ?? '');
  // Made only when a line is written: most REGISTERs are refreshes that write none at info.
  let child: Logger | undefined;
  const log = () => (child ??= deps.log.child({ callId, src: req.source_address }));
  /**
   * Anyone who fetched a minimal file can cause these once per request (a refusal, a binding new
   * or moved with each REGISTER): each kind is one of its client's few lines per window.
   */
  const line = (fields: object, msg: string) =>
    deps.logLimit.line(
      deps.log,
      'info',
      clientOf(String(req.source_address), deps.clientPrefix),
      { callId, src: req.source_address, ...fields },
      msg,
    );
  /** Every answer but 200; false for 'ok'. */
  const refused = (auth: AuthResult<SipLogin>): boolean => {
    switch (auth.kind) {
      case 'ok':
        return false;
      case 'challenge':
        if (!secondHalf) deps.admission.challenged(auth.nonce);
        res.send(401, 'Unauthorized', { headers: { 'WWW-Authenticate': auth.header } });
        return true;
      case 'store_unavailable':
        // The outage itself is logged once by the store connection; phones re-register in bulk.
        log().debug({ err: auth.error }, 'register: store unreachable');
        res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '30' } });
        return true;
      case 'forbidden':
        line({ reason: auth.reason, mac: auth.mac }, 'register refused');
        res.send(403, 'Forbidden');
        // A copy of a minimal configuration used from elsewhere is what an operator wants to see.
        if (auth.reason === WRONG_ADDRESS && auth.tenant !== undefined && auth.mac !== undefined)
          deps
            .traffic(auth.tenant, String(req.source_address), 'sip_register_refused', {
              mac: auth.mac,
              src: String(req.source_address),
              reason: auth.reason,
            })
            .catch((err: Error) => log().warn({ err: err.message }, 'register: traffic event not written'));
        return true;
    }
  };
  let v = await verifyDigest(req, creds, deps);
  if (v.kind !== 'verified') {
    refused(v);
    return;
  }
  // An authenticated device's restricted account registers too: a phone whose PAP was accepted
  // holds the minimal file until it fetches its full one (or "reset needed", asked from where no
  // bypass lets it in), and must still reach the emergency route (its other calls are "not
  // possible", decideCall).
  const { mac } = v;
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
  if (contact !== undefined && String(contact.uri).length > MAX_CONTACT_URI)
    return res.send(400, 'Contact Too Long');
  const expires = requestedExpires(req, contact?.params);
  const unregister = rawContact === '*' || expires === 0;
  // RFC 3261 10.3 step 6
  if (rawContact === '*' && expires !== 0) return res.send(400, 'Invalid Request');
  const granted = Math.min(expires ?? deps.maxExpiresSeconds, deps.maxExpiresSeconds);
  // Bindings are kept per source address; a PAP call's check-sync looks its own address up.
  const source = String(req.source_address ?? '');
  const address = tryCanonicalIp(source) ?? source;
  const query = contact === undefined && !unregister;
  const binding =
    unregister || query
      ? null
      : {
          reg: {
            mac,
            contact: String(contact!.uri),
            address,
            port: Number(req.source_port) || 5060,
            protocol: String(req.protocol ?? 'udp'),
            expiresAt: (deps.now ?? Date.now)() + granted * 1000,
            userAgent: strangerText(req.get('user-agent') ?? '', MAX_USER_AGENT),
            callId,
          },
          ttlSeconds: granted,
        };
  /** The nonce use and the binding change are one store step; a query (no Contact) changes nothing. */
  const store = async (w: Verified<SipLogin>) => {
    try {
      return query
        ? await deps.sipStore.useNonce(w.device.tenant, w.claim)
        : await deps.sipStore.register(
            w.device.tenant,
            mac,
            w.claim,
            w.device.sipPassword,
            address,
            binding,
            w.known ? w.device.state : undefined,
          );
    } catch (err) {
      if (isStoreUnavailable(err))
        log().debug({ err: (err as Error).message }, 'register: store unreachable');
      else log().error({ err: (err as Error).message }, 'register: store error');
      res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '30' } });
      return null;
    }
  };
  // A login remembered, not read, is only as good as the step that checks it: a query's useNonce
  // does not, and register.lua's 'changed' may only mean the remembered one is out of date.
  let use = query && v.known ? 'changed' : await store(v);
  if (use === 'changed' && v.known) {
    v = await verifyDigest(req, creds, { ...deps, knownDevice: undefined });
    if (v.kind !== 'verified') {
      refused(v);
      return;
    }
    use = await store(v);
  }
  if (use === null) return;
  const { device } = v;
  if (refused(await afterNonceUse(v, use === 'refreshed' ? 'ok' : use, deps))) return;
  if (unregister) {
    line({ mac }, 'unregistered');
    return res.send(200, 'OK', { headers: { Expires: '0' } });
  }
  // A query for the current bindings: answered without changing them.
  if (contact === undefined) return res.send(200, 'OK');
  // A phone re-registering where it was is routine (every SIP_REGISTER_EXPIRES_SECONDS); a new or
  // moved binding is what an operator looks for.
  if (use !== 'refreshed') line({ mac, granted, state: device.state }, 'registered');
  else if (deps.log.isLevelEnabled('debug')) log().debug({ mac, granted }, 'registration refreshed');
  return res.send(200, 'OK', {
    headers: { Contact: `<${contact.uri}>;expires=${granted}`, Expires: String(granted) },
  });
}
