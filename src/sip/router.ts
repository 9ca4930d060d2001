import { randomBytes } from 'node:crypto';
import type Srf from 'drachtio-srf';
import type Mrf from 'drachtio-fsmrf';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { settle } from '../domain/auth';
import { clientOf } from '../domain/prefix';
import { decideCall, dialledNumber, type Caller, type CallRoute } from '../domain/call';
import type { Language } from '../domain/device';
import { mediaFromCaller, mediaSource, sdpAudioAddress } from '../domain/media';
import {
  emergencyIdentity,
  isEmergencyNumber,
  planEmergency,
  type EmergencyIdentity,
  type EmergencyPlan,
  type EmergencyResult,
} from '../domain/emergency';
import type { Site } from '../domain/site';
import { Sites } from '../store/sites';
import { emergencyLeg, offerSdp, type EmergencyLeg } from './emergency';
import { tryParseMac, type Mac } from '../domain/mac';
import { prefixOf } from '../domain/prefix';
import { strangerText } from '../domain/text';
import { ipMatches, tryCanonicalIp } from '../domain/whitelist';
import type { SipStore } from '../store/sip';
import type { Store } from '../store/store';
import { FsMedia, INVITE_KEY_HEADER, inviteKey, MEDIA_SOURCE_HEADER } from '../ivr/fsmedia';
import type { LogLimit } from '../lib/loglimit';
import type { InviteShedReason, Metrics } from '../lib/metrics';
import { callLanguage } from '../ivr/prompts';
import { IvrSession } from '../ivr/session';
import { authenticate } from './authenticate';
import type { MediaLease, MediaPool } from './mediapool';
import type { KnownPlace } from './notify';
import { retryAfter, type IvrAdmission } from './overload';

export interface RouterDeps {
  readonly config: Config;
  readonly store: Store;
  readonly sipStore: SipStore;
  readonly srf: Srf;
  /** The FreeSWITCH servers new IVR calls go to; null while papgate shuts down. */
  readonly media: () => Pick<MediaPool<Mrf.MediaServer>, 'open'> | null;
  readonly sessions: Set<IvrSession>;
  /** Emergency calls from their INVITE until their hang-up crossed: shutdown waits for them. */
  readonly emergencyCalls: Set<EmergencyCall>;
  /** IVR_MAX_CALLS in all, per source network and per device there: calls from endpoint set-up to teardown */
  readonly ivr: Pick<IvrAdmission, 'refusal' | 'admit'>;
  /** True once shutdown began: drachtio-server was told to route new calls elsewhere. */
  readonly draining: () => boolean;
  /** After a PAP success: check-sync at `place`, where the call showed the phone to be. */
  readonly onAuthenticated: (tenant: string, mac: Mac, place: KnownPlace | undefined) => Promise<void>;
  readonly log: Logger;
  /** Refused INVITEs and the lines of each call are logged per client (an address prefix), kind and window. */
  readonly logLimit: LogLimit;
  readonly metrics?: Metrics;
}

/** An emergency call in progress (RouterDeps.emergencyCalls). */
export interface EmergencyCall {
  /** Ends the call with a BYE to both legs; set once it is connected. */
  hangUp?: () => Promise<void>;
}

/** `sip:host[:port]` -> `sip:<dialled>@host[:port]`; a route that names a user is used as it is. */
export function emergencyTarget(route: string, dialled: string): string {
  const m = /^(sips?:)(.*)$/i.exec(route);
  if (!m) return route;
  const rest = m[2]!;
  const hostPart = rest.split(/[;?]/)[0]!;
  if (hostPart.includes('@')) return route;
  return `${m[1]}${encodeURIComponent(dialled).replace(/%2B/g, '+').replace(/%2A/g, '*').replace(/%23/g, '%23')}@${rest}`;
}

interface Identified {
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
 * New INVITEs: identify the caller (trusted PBX + device header, or digest as a restricted
 * account), ask decideCall where the call goes, and do it.
 */
export async function handleInvite(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  deps: RouterDeps,
): Promise<void> {
  const { config, log: rootLog } = deps;
  const dialled = dialledNumber(req.uri);
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
  if (!isEmergencyNumber(dialled, config.emergencyNumbers)) {
    const shed = deps.draining() ? 'draining' : deps.ivr.refusal(source);
    if (shed !== null) return refuse(res, shed, deps);
  }
  const trusted =
    config.sip.trustedPeers.length > 0 && ipMatches(req.source_address, config.sip.trustedPeers) !== null;
  let id: Identified;
  if (trusted) {
    id = await identifyTrusted(req, dialled, deps);
  } else {
    const auth = await authenticate(req, 'proxy-authorization', {
      realm: config.sip.realm,
      bindToSourceAddress: config.sip.bindToProvisioningIp,
      sipStore: deps.sipStore,
      findDevice: (mac) => deps.store.findDevice(mac),
    });
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
      return routeEmergency(req, res, dialled, id, deps, log);
    case 'ivr':
    case 'not_possible':
      return startIvr(req, res, route, id, source, deps, log);
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

/**
 * Writes a line that a caller causes with each call (refused, an emergency call, an IVR call): anyone
 * who fetched a minimal file may call as often as the shares let it, so each kind of line is one of
 * its client's few per window (LogLimit), or of a `share` of them (see LogLimit.line).
 */
function callerLine(
  req: Srf.SrfRequest,
  deps: Pick<RouterDeps, 'config' | 'logLimit'>,
  log: Logger,
  level: 'info' | 'warn',
  share?: string,
): (fields: object, msg: string) => void {
  const client = clientOf(String(req.source_address), deps.config.traffic.clientPrefix);
  return (fields, msg) => deps.logLimit.line(log, level, client, fields, msg, share);
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

/**
 * Routes an emergency call and accounts for it: counted (papgate_emergency_calls_total), audited
 * in its device's tenant (within EMERGENCY_AUDIT per device), and held in deps.emergencyCalls until
 * its hang-up crossed, so that a shutdown neither drops its answer nor its BYE.
 */
async function routeEmergency(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  dialled: string,
  id: Identified,
  deps: RouterDeps,
  log: Logger,
): Promise<void> {
  const call: EmergencyCall = {};
  deps.emergencyCalls.add(call);
  const end = () => void deps.emergencyCalls.delete(call);
  try {
    const placed = await placeEmergency(req, res, dialled, id, deps, log, { call, end });
    if (placed.result !== 'connected') end();
    deps.metrics?.emergencyCall(placed.result, placed.identity);
    if (id.tenant !== null && id.mac !== null)
      void deps.store
        .emergencyCall(id.tenant, id.mac, {
          ip: req.source_address,
          callId: strangerText(req.get('call-id') ?? '', 64),
          route: placed.route ?? '',
          identity: placed.identity,
          outcome: placed.result,
          ...(placed.status === undefined ? {} : { status: String(placed.status) }),
        })
        // the store's outage is logged by its connection; the call went out regardless
        .catch((err: Error) => log.debug({ err: err.message }, 'emergency call: not audited'));
  } catch (err) {
    end();
    throw err;
  }
}

interface Placed {
  readonly result: EmergencyResult;
  readonly identity: EmergencyIdentity;
  readonly route: string | null;
  /** the route's final status, when it refused */
  readonly status?: number;
}

async function placeEmergency(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  dialled: string,
  id: Identified,
  deps: RouterDeps,
  log: Logger,
  held: { readonly call: EmergencyCall; readonly end: () => void },
): Promise<Placed> {
  let cancelled = false;
  req.on('cancel', () => {
    cancelled = true;
  });
  const sites = new Sites(deps.store.redis, { eventsMaxLen: deps.config.eventsMaxLen });
  const site = await emergencySite(id, sites, log);
  const [prefixes, fromSite] = await Promise.all([
    callerIdPrefixes(id.tenant, site, deps.store, log),
    isFromSite(id, site, deps.store, log),
  ]);
  const plan = planEmergency(site, prefixes, deps.config.sip, fromSite);
  const placed = { identity: emergencyIdentity(plan, id.mac), route: plan.route };
  // The lines of a call are its device's share of its client's, apart for calls proven from the
  // site: a drill's stranger in the same /24 used up its network's share with 21 calls as another
  // tenant's MAC, and the office's real emergency call then wrote no line at all.
  const line = callerLine(req, deps, log, 'warn', `${id.mac ?? 'anonymous'}${fromSite ? ' site' : ''}`);
  if (plan.unproven)
    line(
      { site: site!.name },
      "emergency call: not from the site's network; sent without the site's caller ID and location",
    );
  if (plan.refused.length > 0)
    line(
      {
        site: site!.name,
        refused: plan.refused,
        recordRoute: site!.emergencyRoute,
        recordCallerId: site!.emergencyCallerId,
      },
      'emergency call: the site record names what the operator has not allowed; not used',
    );
  if (plan.route === null) {
    log.fatal('EMERGENCY CALL CANNOT BE ROUTED: EMERGENCY_ROUTE is not configured');
    res.send(503, 'Emergency Route Not Configured');
    return { ...placed, result: 'no_route' };
  }
  // drachtio-server has answered the CANCEL and the INVITE (487) already.
  if (cancelled) {
    line({}, 'emergency call: cancelled by the caller before it went out');
    return { ...placed, result: 'cancelled' };
  }
  const target = emergencyTarget(plan.route, dialled);
  return { ...placed, ...(await bridgeEmergency(req, res, target, plan, id.mac, deps, log, line, held)) };
}

/**
 * The site record of the caller's device, or null: no device, no record, or the store failed. An
 * emergency call never waits on or fails for the store: without a record it goes out as before.
 */
export async function emergencySite(
  id: Pick<Identified, 'tenant' | 'mac' | 'site'>,
  sites: Pick<Sites, 'get'>,
  log: Logger,
): Promise<Site | null> {
  if (id.tenant === null || id.mac === null || !id.site) return null;
  try {
    return await sites.get(id.tenant, id.site);
  } catch (err) {
    log.warn(
      { err: (err as Error).message, site: id.site },
      'emergency call: site unknown (store), default route',
    );
    return null;
  }
}

/**
 * Whether the call comes from where its device's site is known to be (see planEmergency); false
 * when the store fails, so that the call goes out at once with the operator's identity.
 */
async function isFromSite(
  id: Pick<Identified, 'tenant' | 'place'>,
  site: Site | null,
  store: Pick<Store, 'isSiteNetwork'>,
  log: Logger,
): Promise<boolean> {
  if (id.tenant === null || site === null || id.place === undefined) return false;
  try {
    return await store.isSiteNetwork(id.tenant, site.name, id.place.address);
  } catch (err) {
    log.warn(
      { err: (err as Error).message },
      "emergency call: site network unknown (store), operator's identity",
    );
    return false;
  }
}

/**
 * The caller-ID prefixes the operator allowed the tenant, asked only for a caller ID a tenant token
 * set; none when the store fails (the operator's identity is used instead).
 */
async function callerIdPrefixes(
  tenant: string | null,
  site: Site | null,
  store: Pick<Store, 'getTenant'>,
  log: Logger,
): Promise<readonly string[]> {
  if (tenant === null || site === null || site.emergencyCallerIdBy === 'operator') return [];
  try {
    return (await store.getTenant(tenant))?.emergencyCallerIdPrefixes ?? [];
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'emergency call: tenant unknown (store), default identity');
    return [];
  }
}

/**
 * Every emergency call goes through a B2BUA: a fresh INVITE with papgate's identity and the
 * phone's SDP (RFC 3325: an untrusted phone's P-Asserted-Identity is never passed on; RFC 3261
 * 22.3: credentials for our own realm are consumed, not forwarded). A proxy must not rewrite From
 * (RFC 3261 16.6) and drachtio's proxyRequest can neither drop the phone's headers nor change the
 * body, which may carry the PIDF-LO. drachtio-srf copies none of the phone's headers to the new
 * leg (no proxyRequestHeaders), relays the route's answer or failure, and sends the phone's CANCEL on.
 */
async function bridgeEmergency(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  target: string,
  plan: EmergencyPlan,
  mac: Mac | null,
  deps: RouterDeps,
  log: Logger,
  line: (fields: object, msg: string) => void,
  held: { readonly call: EmergencyCall; readonly end: () => void },
): Promise<{ result: EmergencyResult; status?: number }> {
  const o = {
    sdp: offerSdp(req.get('content-type'), req.body),
    mac,
    host: deps.config.sip.realm,
    now: Date.now(),
    id: randomBytes(8).toString('hex'),
  };
  log = log.child({ target, callerId: plan.callerId });
  let leg: EmergencyLeg;
  try {
    leg = emergencyLeg(plan, o);
  } catch (err) {
    // A record written around the API (its address is not checked again): the call goes without it.
    log.error(
      { err: (err as Error).message },
      'emergency call: the site address is unusable; sent without location',
    );
    leg = emergencyLeg({ ...plan, location: null }, o);
  }
  line(
    { location: leg.headers.Geolocation !== undefined, lateOffer: leg.body === '' },
    'emergency call: to the emergency route',
  );
  // Without an SDP offer (no body, or one without SDP: a PIDF-LO alone) the leg is a late offer.
  // drachtio-srf offers the phone's own body when localSdpB is empty; it went out without a
  // Content-Type, drachtio-server refused it and the call failed (500). An emergency call must
  // never fail for its body.
  if (leg.body === '') req.body = '';
  try {
    const { uas, uac } = await deps.srf.createB2BUA(req, res, target, {
      callingNumber: leg.callingNumber,
      callingName: leg.callingName,
      headers: leg.headers,
      localSdpB: leg.body,
      passFailure: true,
    });
    // Held until the BYE to the other leg is answered: a shutdown waits for that, not only for the
    // first BYE (a drill's SIGTERM mid-call left the phone's BYE with 481 and the route without one).
    const bye = (other: Srf.Dialog) =>
      void other
        .destroy()
        .catch(() => undefined)
        .finally(held.end);
    uas.on('destroy', () => bye(uac));
    uac.on('destroy', () => bye(uas));
    held.call.hangUp = async () => {
      await Promise.all([uas, uac].map((d) => d.destroy().catch(() => undefined)));
      held.end();
    };
    line({}, 'emergency call: connected');
    return { result: 'connected' };
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status !== undefined) {
      line({ status }, 'emergency call: the emergency route answered');
      return { result: status === 487 ? 'cancelled' : 'route_refused', status };
    }
    log.fatal({ err: (err as Error).message }, 'EMERGENCY CALL FAILED to reach the emergency route');
    if (!res.finalResponseSent) res.send(503, 'Service Unavailable');
    return { result: 'failed' };
  }
}

async function startIvr(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  mode: 'ivr' | 'not_possible',
  id: Identified,
  source: string,
  deps: RouterDeps,
  log: Logger,
): Promise<void> {
  const release = deps.ivr.admit(id.mac, source);
  if (typeof release === 'string') {
    log.debug({ reason: release, source }, 'ivr: call limit reached; 503');
    return refuse(res, release, deps);
  }
  try {
    await runIvr(req, res, mode, id, source, deps, log);
  } finally {
    release();
  }
}

async function runIvr(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  mode: 'ivr' | 'not_possible',
  id: Identified,
  source: string,
  deps: RouterDeps,
  log: Logger,
): Promise<void> {
  let language: Language = deps.config.defaultLanguage;
  if (id.tenant !== null) {
    const tenant = await deps.store.getTenant(id.tenant).catch(() => null);
    language = callLanguage({ language: id.deviceLanguage }, tenant, deps.config.defaultLanguage);
  }
  let cancelled = false;
  req.on('cancel', () => {
    cancelled = true;
  });
  const lease = await openMedia(req, res, deps, log, () => cancelled);
  if (lease === null) return;
  log = log.child({ media: lease.label });
  const line = callerLine(req, deps, log, 'info');
  try {
    const endpoint = lease.value;
    let dialog: Srf.Dialog;
    try {
      if (cancelled) throw new Error('caller cancelled');
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
  deps: RouterDeps,
  log: Logger,
  cancelled: () => boolean,
): Promise<MediaLease<Mrf.Endpoint> | null> {
  const pool = deps.media();
  try {
    const lease =
      pool === null
        ? null
        : await pool.open(
            (ms, server) =>
              ms
                .createEndpoint({
                  remoteSdp: req.body,
                  codecs: ['PCMU', 'PCMA'],
                  headers: {
                    [INVITE_KEY_HEADER]: inviteKey(deps.config.sip.freeswitch.secret),
                    [MEDIA_SOURCE_HEADER]: mediaSource(sdpAudioAddress(req.body), req.source_address),
                  },
                })
                .catch((err: Error) => {
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
