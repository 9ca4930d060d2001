import type Srf from 'drachtio-srf';
import type Mrf from 'drachtio-fsmrf';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { settle } from '../domain/auth';
import { decideCall, dialledNumber, type CallRoute } from '../domain/call';
import type { Language } from '../domain/device';
import {
  mediaFromCaller,
  mediaSource,
  answerKeysStrong,
  offerForMediaServer,
  offerProtection,
  sdpAudioAddress,
} from '../domain/media';
import { isEmergencyNumber } from '../domain/emergency';
import { tryParseMac, type Mac } from '../domain/mac';
import { prefixOf } from '../domain/prefix';
import { strangerText } from '../domain/text';
import { ipMatches, tryCanonicalIp } from '../domain/whitelist';
import type { SipStore } from '../store/sip';
import { FsMedia, INVITE_KEY_HEADER, inviteKey, MEDIA_SOURCE_HEADER } from '../ivr/fsmedia';
import type { InviteShedReason } from '../lib/metrics';
import { callLanguage } from '../ivr/prompts';
import { IvrSession } from '../ivr/session';
import { authenticate } from './authenticate';
import { callerLine, type Identified } from './caller';
import { routeEmergency, StoreWait, type EmergencyDeps } from './emergency-call';
import type { MediaLease, MediaPool } from './mediapool';
import type { KnownPlace } from './notify';
import { retryAfter, type IvrAdmission } from './overload';

/** What the router needs; an emergency call needs the part it extends (EmergencyDeps). */
export interface RouterDeps extends EmergencyDeps {
  readonly sipStore: SipStore;
  /** The FreeSWITCH servers new IVR calls go to; null while papgate shuts down. */
  readonly media: () => Pick<MediaPool<Mrf.MediaServer>, 'open'> | null;
  readonly sessions: Set<IvrSession>;
  /** IVR_MAX_CALLS in all, per source network and per device there: calls from endpoint set-up to teardown */
  readonly ivr: Pick<IvrAdmission, 'refusal' | 'admit'>;
  /** True once shutdown began: drachtio-server was told to route new calls elsewhere. */
  readonly draining: () => boolean;
  /** After a PAP success: check-sync at `place`, where the call showed the phone to be. */
  readonly onAuthenticated: (tenant: string, mac: Mac, place: KnownPlace | undefined) => Promise<void>;
  readonly log: Logger;
}

/**
 * New INVITEs: identify the caller (trusted PBX + device header, or digest as a restricted
 * account), ask decideCall where the call goes, and do it.
 */
export async function handleInvite(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  deps: RouterDeps,
): Promise<void> {
  const { config, log: rootLog } = deps;
  const storeWait = new StoreWait();
  const dialled = dialledNumber(req.uri);
  const emergency = isEmergencyNumber(dialled, config.emergencyNumbers);
  // drachtio-srf requests carry the Call-ID only as a header; both are the caller's text
  const call = {
    callId: strangerText(req.get('call-id') ?? ''),
    src: req.source_address,
    dialled: strangerText(dialled),
  };
  let log = rootLog.child(call);
  const source = sourceNetwork(req.source_address, config);
  // Shed before digest and Redis: calls that reached a draining instance before drachtio-server
  // dropped its route, and calls beyond IVR_MAX_CALLS or the source's share of them. Emergency
  // calls never depend on any of it.
  if (!emergency) {
    const shed = deps.draining() ? 'draining' : deps.ivr.refusal(source);
    if (shed !== null) return refuse(res, shed, deps);
  }
  const trusted =
    config.sip.trustedPeers.length > 0 && ipMatches(req.source_address, config.sip.trustedPeers) !== null;
  // SIP_REQUIRE_TLS: the PAP and the digest never cross a network in clear; an emergency call is
  // never refused for its transport, nor a trusted PBX's.
  if (config.sip.requireTls && !emergency && !trusted && req.protocol !== 'tls') {
    callerLine(
      req,
      deps,
      rootLog,
      'info',
    )(
      { ...call, protocol: strangerText(String(req.protocol)) },
      'invite refused: not over TLS (SIP_REQUIRE_TLS)',
    );
    return res.send(403, 'TLS Required');
  }
  let id: Identified;
  if (trusted) {
    id = await identifyTrusted(req, dialled, deps);
  } else {
    const authenticating = authenticate(req, 'proxy-authorization', {
      realm: config.sip.realm,
      bindToSourceAddress: config.sip.bindToProvisioningIp,
      sipStore: deps.sipStore,
      findDevice: (mac) => deps.store.findDevice(mac),
    });
    // An emergency call is routed as during an outage once the store took too long to say who calls.
    const auth = emergency
      ? await storeWait.within(authenticating).catch((err: Error) => ({
          kind: 'store_unavailable' as const,
          error: err.message,
        }))
      : await authenticating;
    if (auth.kind === 'challenge') {
      return res.send(407, 'Proxy Authentication Required', {
        headers: { 'Proxy-Authenticate': auth.header },
      });
    }
    if (auth.kind === 'ok') {
      const state = settle(auth.device, Date.now()).state;
      id = {
        caller: { kind: 'device', state },
        mac: auth.mac,
        tenant: auth.device.tenant,
        deviceLanguage: auth.device.language,
        site: auth.device.site,
        place: callerPlace(req),
      };
    } else if (auth.kind === 'store_unavailable') {
      // The outage itself is logged by the store connection; this line comes with every call of
      // anyone's, so it is the client's share (a drill's 30 calls wrote 30).
      callerLine(req, deps, rootLog, 'warn')({ ...call, err: auth.error }, 'invite: store unreachable');
      id = {
        caller: { kind: 'store_unavailable' },
        mac: null,
        tenant: null,
        deviceLanguage: null,
      };
    } else {
      const refused = callerLine(req, deps, rootLog, 'info');
      refused({ ...call, reason: auth.reason, mac: auth.mac }, 'invite refused');
      id = {
        caller: { kind: 'unknown' },
        mac: auth.mac ?? null,
        tenant: null,
        deviceLanguage: null,
      };
    }
  }
  const route: CallRoute = decideCall(id.caller, dialled, config);
  log = log.child({ mac: id.mac, tenant: id.tenant, route });
  switch (route) {
    case 'refuse':
      return res.send(403, 'Forbidden');
    case 'emergency':
      return routeEmergency({ req, res, dialled, id, deps, log, storeWait });
    case 'ivr':
    case 'not_possible':
      return startIvr({ req, res, mode: route, id, source, deps, log });
  }
}

/**
 * The network a caller counts as (SOURCE_PREFIX_IPV4/_IPV6), for its share of the IVR and its
 * guessing budget: a neighbouring address, or another of an IPv6 /64's 2^64, is the same source.
 * Never throws: it is worked out before an emergency call is routed.
 */
function sourceNetwork(address: string, config: Config): string {
  try {
    return prefixOf(address, config.sourcePrefix);
  } catch {
    return address;
  }
}

/**
 * A phone's own call shows where it is: its source address (whose restricted password it proved,
 * when bound) and its Contact there. A file fetched from elsewhere shows nothing of the kind.
 */
function callerPlace(req: Srf.SrfRequest): Identified['place'] {
  const address = tryCanonicalIp(req.source_address);
  if (address === null) return undefined;
  let contact: string | undefined;
  try {
    contact = req.getParsedHeader('contact')[0]?.uri;
  } catch {
    contact = undefined;
  }
  return {
    address,
    fallback:
      contact === undefined
        ? undefined
        : {
            contact,
            address,
            port: Number(req.source_port) || 5060,
            protocol: String(req.protocol || 'udp'),
          },
  };
}

/**
 * A trusted PBX's address is not the phone's: only the address it names in
 * SIP_DEVICE_ADDRESS_HEADER (the phone's registration source on the PBX) is. Without one, nothing
 * is whitelisted.
 */
function namedPlace(header: string | undefined): Identified['place'] {
  const address = header === undefined ? null : tryCanonicalIp(header.trim());
  return address === null ? undefined : { address };
}

/** 503 with Retry-After: the caller tries again later, or its next proxy now. */
function refuse(res: Srf.SrfResponse, reason: InviteShedReason, deps: RouterDeps): void {
  deps.metrics?.inviteShed(reason);
  res.send(503, 'Service Unavailable', retryAfter(deps.config.sip.overloadRetryAfterSeconds));
}

async function identifyTrusted(req: Srf.SrfRequest, dialled: string, deps: RouterDeps): Promise<Identified> {
  const none = (state: 'unknown_device' | 'store_unavailable', mac: Mac | null = null): Identified => ({
    caller: { kind: 'trusted_peer', state },
    mac,
    tenant: null,
    deviceLanguage: null,
  });
  if (dialled !== deps.config.authServiceNumber) return none('unknown_device');
  const mac = tryParseMac(req.get(deps.config.sip.deviceHeader) ?? '');
  if (mac === null) return none('unknown_device');
  try {
    const device = await deps.store.findDevice(mac);
    if (device === null) return none('unknown_device', mac);
    return {
      caller: { kind: 'trusted_peer', state: settle(device, Date.now()).state },
      mac,
      tenant: device.tenant,
      deviceLanguage: device.language,
      place: namedPlace(req.get(deps.config.sip.deviceAddressHeader)),
    };
  } catch {
    return none('store_unavailable', mac);
  }
}

/** A call handleInvite hands to the IVR, with what it learned of the call. */
interface IvrCall {
  readonly req: Srf.SrfRequest;
  readonly res: Srf.SrfResponse;
  readonly mode: 'ivr' | 'not_possible';
  readonly id: Identified;
  /** The caller's network (sourceNetwork): its share of the IVR and its guessing budget. */
  readonly source: string;
  readonly deps: RouterDeps;
  readonly log: Logger;
}

async function startIvr(call: IvrCall): Promise<void> {
  const { res, id, source, deps, log } = call;
  const release = deps.ivr.admit(id.mac, source);
  if (typeof release === 'string') {
    log.debug({ reason: release, source }, 'ivr: call limit reached; 503');
    return refuse(res, release, deps);
  }
  try {
    await runIvr(call);
  } finally {
    release();
  }
}

/** A media endpoint FreeSWITCH would not make for this offer (its 488). */
const REFUSED = Symbol('refused');
const OFFER_REFUSED = new Set([400, 415, 488, 606]);

async function runIvr({ req, res, mode, id, source, deps, log }: IvrCall): Promise<void> {
  let language: Language = deps.config.defaultLanguage;
  if (id.tenant !== null) {
    const tenant = await deps.store.getTenant(id.tenant).catch(() => null);
    language = callLanguage({ language: id.deviceLanguage }, tenant, deps.config.defaultLanguage);
  }
  // The PAP travels in the media: with SIP_REQUIRE_TLS only SRTP keyed in the (encrypted) SDP
  // carries it, and a DTLS-keyed offer is one papgate's media path cannot answer.
  const protection = offerProtection(req.body);
  const offer = req.body ? offerForMediaServer(req.body, protection) : req.body;
  if (protection === 'dtls' || offer === null || (deps.config.sip.requireTls && protection !== 'sdes')) {
    callerLine(req, deps, log, 'info')({ protection }, 'ivr: media offer refused (488)');
    deps.metrics?.ivrCallEnded('media_refused');
    return res.send(488, 'Not Acceptable Here');
  }
  let cancelled = false;
  req.on('cancel', () => {
    cancelled = true;
  });
  const lease = await openMedia(req, res, offer, deps, log, () => cancelled);
  if (lease === null) return;
  log = log.child({ media: lease.label });
  const line = callerLine(req, deps, log, 'info');
  try {
    const endpoint = lease.value;
    if (endpoint === REFUSED) {
      line({}, 'ivr: media server refused the offer (488)');
      deps.metrics?.ivrCallEnded('media_refused');
      if (!res.finalResponseSent && !cancelled) res.send(488, 'Not Acceptable Here');
      return;
    }
    let dialog: Srf.Dialog;
    try {
      if (cancelled) throw new Error('caller cancelled');
      // FreeSWITCH answers some SRTP offers in clear (an unknown suite, a second plain stream):
      // the answer is what the digits travel in, so it is checked, not the offer alone.
      if (
        protection === 'sdes' &&
        (offerProtection(endpoint.local.sdp) !== 'sdes' || !answerKeysStrong(offer!, endpoint.local.sdp))
      ) {
        line({}, 'ivr: media server answered an SRTP offer in clear (488)');
        deps.metrics?.ivrCallEnded('media_refused');
        res.send(488, 'Not Acceptable Here');
        throw new Error('SRTP offer answered in clear');
      }
      dialog = await deps.srf.createUAS(req, res, { localSdp: endpoint.local.sdp });
    } catch (err) {
      line({ err: (err as Error).message }, 'ivr: call not answered');
      await endpoint.destroy().catch(() => undefined);
      return;
    }
    const media = new FsMedia(endpoint, dialog, log);
    const mac = id.mac;
    const m = deps.metrics;
    const channel = id.caller.kind === 'trusted_peer' ? 'pbx' : 'ivr';
    const session = new IvrSession({
      media,
      store: m ? { attemptPap: (...a) => m.countPap(channel, deps.store.attemptPap(...a)) } : deps.store,
      mac: mac ?? ('' as Mac),
      callId: req.get('call-id') ?? '',
      language,
      promptsDir: deps.config.sip.promptsDir,
      timeouts: deps.config.sip.ivr,
      mode: mac === null ? 'not_possible' : mode,
      source: `${id.caller.kind === 'trusted_peer' ? 'pbx' : 'sip'}:${source}`,
      address: id.place?.address ?? null,
      log,
      logLine: line,
      mediaFromCaller: async () => mediaFromCaller(await media.movedTo(), req.source_address),
      onSuccess: async (m) => {
        if (id.tenant !== null) await deps.onAuthenticated(id.tenant, m, id.place);
      },
    });
    deps.sessions.add(session);
    try {
      await media
        .prepare()
        .catch((err: Error) => log.warn({ err: err.message }, 'ivr: cannot set channel variables'));
      const outcome = await session.run();
      m?.ivrCallEnded(outcome);
    } finally {
      deps.sessions.delete(session);
    }
  } finally {
    lease.release();
  }
}

/**
 * The call's media endpoint on one of the FreeSWITCH servers (the pool tries a second one when the
 * first fails), or null once the call was answered 503: no server, or none could make one.
 */
async function openMedia(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  offer: string | undefined,
  deps: RouterDeps,
  log: Logger,
  cancelled: () => boolean,
): Promise<MediaLease<Mrf.Endpoint | typeof REFUSED> | null> {
  const pool = deps.media();
  try {
    const lease =
      pool === null
        ? null
        : await pool.open(
            (ms, server) =>
              ms
                .createEndpoint({
                  remoteSdp: offer,
                  codecs: ['PCMU', 'PCMA'],
                  headers: {
                    // drachtio-server names only a body starting `v=0` SDP and refuses any other
                    // without a type: FreeSWITCH is to judge it (its 400 is the caller's 488)
                    ...(offer ? { 'Content-Type': 'application/sdp' } : {}),
                    [INVITE_KEY_HEADER]: inviteKey(deps.config.sip.freeswitch.secret),
                    [MEDIA_SOURCE_HEADER]: mediaSource(sdpAudioAddress(req.body), req.source_address),
                  },
                })
                .catch((err: Error): typeof REFUSED => {
                  // FreeSWITCH's 400, 415 or 488 refuses the phone's offer (malformed, no codec or
                  // suite in common): the server is well, and another would answer the same.
                  if (OFFER_REFUSED.has((err as { status?: unknown }).status as number)) return REFUSED;
                  log.warn({ err: err.message, server }, 'ivr: media server refused the endpoint');
                  throw err;
                }),
            () => !cancelled(),
          );
    if (lease === null) {
      log.error('ivr: no media server (FreeSWITCH not connected, or papgate shutting down)');
      deps.metrics?.ivrCallEnded('media_unavailable');
      if (!res.finalResponseSent && !cancelled())
        res.send(503, 'Service Unavailable', { headers: { 'Retry-After': '30' } });
    }
    return lease;
  } catch (err) {
    // FreeSWITCH at max-sessions or sessions-per-second answers 503 itself: the caller retries later.
    log.error({ err: (err as Error).message }, 'ivr: cannot create media endpoint');
    deps.metrics?.ivrCallEnded('media_unavailable');
    if (!res.finalResponseSent && !cancelled())
      res.send(503, 'Service Unavailable', retryAfter(deps.config.sip.overloadRetryAfterSeconds));
    return null;
  }
}
