/**
 * Emergency calls: the site record and caller ID they go out with (planEmergency), the B2BUA leg to
 * the emergency route, and their accounting (metrics, audit, held until hung up for shutdown).
 */
import { randomBytes } from 'node:crypto';
import type Srf from 'drachtio-srf';
import type { Logger } from 'pino';
import type { Config } from '../config';
import {
  emergencyIdentity,
  planEmergency,
  type EmergencyIdentity,
  type EmergencyPlan,
  type EmergencyResult,
} from '../domain/emergency';
import type { Mac } from '../domain/mac';
import type { Site } from '../domain/site';
import { strangerText } from '../domain/text';
import type { Sites } from '../store/sites';
import type { Store } from '../store/store';
import type { LogLimit } from '../lib/loglimit';
import type { Metrics } from '../lib/metrics';
import { callerLine, type Identified } from './caller';
import { emergencyLeg, offerSdp, type EmergencyLeg } from './emergency';

/** What an emergency call needs of the router's dependencies (RouterDeps). */
export interface EmergencyDeps {
  readonly config: Config;
  readonly store: Store;
  readonly srf: Srf;
  /** Emergency calls from their INVITE until their hang-up crossed: shutdown waits for them. */
  readonly emergencyCalls: Set<EmergencyCall>;
  /** The tenants' site records (their emergency route, caller ID and location); built once by the service. */
  readonly sites: Pick<Sites, 'get'>;
  /** Refused INVITEs and the lines of each call are logged per client (an address prefix), kind and window. */
  readonly logLimit: LogLimit;
  readonly metrics?: Metrics;
}

/** An emergency call in progress (EmergencyDeps.emergencyCalls). */
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

/**
 * How long an emergency call waits for Redis in all, from its INVITE: the caller's authentication,
 * its site record, the tenant's caller-ID prefixes and the site's networks. Past it the call goes
 * out as it does while the store is down (its caller unidentified, or without its site's record).
 * Each command otherwise waits up to STORE_TIMEOUT_MS (2 s), one after the other, behind whatever
 * the connection carries: a storm of REGISTERs, a paused or swamped Redis. T1 (500 ms) is how long
 * a phone waits before it retransmits; a store slower than that will not be back for this call.
 */
export const EMERGENCY_STORE_WAIT_MS = 500;

/** How the wait is counted: in steps of the event loop's own time (StoreWait). */
const STORE_WAIT_STEP_MS = 20;

/**
 * What one emergency call may still wait for the store, EMERGENCY_STORE_WAIT_MS in all. The time
 * counted is the event loop's, not the clock's: a timer every STORE_WAIT_STEP_MS counts one step
 * however late it fires, and the last step waits one turn more (setImmediate runs after the I/O a
 * turn reads). A loop busy elsewhere is not a slow store: counted by the clock, one stall of 600 ms
 * with Redis answering at once sent a stranger's INVITE with a wrong password out as during an
 * outage, unidentified. One object per call, with its waits one after another or side by side
 * (counted once: one timer).
 */
export class StoreWait {
  private left: number;
  /** One timer for all the call's waits: side by side, they count the time once. */
  private timer: NodeJS.Timeout | undefined;
  /** How each pending wait gives up. */
  private readonly waiting = new Set<(err: Error) => void>();

  constructor(ms = EMERGENCY_STORE_WAIT_MS) {
    this.left = ms;
  }

  /** `p`, or a rejection once the call's wait is used up. */
  within<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (then: () => void) => {
        this.waiting.delete(giveUp);
        if (this.waiting.size === 0 && this.timer !== undefined) {
          clearTimeout(this.timer);
          this.timer = undefined;
        }
        if (settled) return;
        settled = true;
        then();
      };
      const giveUp = (err: Error) => settle(() => reject(err));
      this.waiting.add(giveUp);
      this.step();
      p.then(
        (v) => settle(() => resolve(v)),
        (err: unknown) => settle(() => reject(err as Error)),
      );
    });
  }

  private step(): void {
    if (this.timer !== undefined) return;
    if (this.left <= 0) return this.giveUp();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.left -= STORE_WAIT_STEP_MS;
      if (this.waiting.size > 0) this.step();
    }, STORE_WAIT_STEP_MS);
  }

  /** After the I/O of this turn: an answer that already waits in the socket comes first. */
  private giveUp(): void {
    setImmediate(() => {
      const err = new Error(`store slower than ${EMERGENCY_STORE_WAIT_MS} ms for an emergency call`);
      for (const giveUp of [...this.waiting]) giveUp(err);
    });
  }
}

/** One emergency call as the router hands it over: its INVITE, the dialled number and its caller. */
export interface EmergencyRequest {
  readonly req: Srf.SrfRequest;
  readonly res: Srf.SrfResponse;
  readonly dialled: string;
  readonly id: Identified;
  readonly deps: EmergencyDeps;
  readonly log: Logger;
  /** What the call may still wait for the store (EMERGENCY_STORE_WAIT_MS in all) */
  readonly storeWait: StoreWait;
}

/**
 * Routes an emergency call and accounts for it: counted (papgate_emergency_calls_total, its set-up
 * time in papgate_emergency_call_setup_seconds), audited
 * in its device's tenant (within EMERGENCY_AUDIT per device), and held in deps.emergencyCalls until
 * its hang-up crossed, so that a shutdown neither drops its answer nor its BYE.
 */
export async function routeEmergency(e: EmergencyRequest): Promise<void> {
  const { req, id, deps, log } = e;
  const call: EmergencyCall = {};
  deps.emergencyCalls.add(call);
  const end = () => void deps.emergencyCalls.delete(call);
  const started = performance.now();
  try {
    const placed = await placeEmergency(e, { call, end });
    if (placed.result !== 'connected') end();
    const setupMs = performance.now() - started;
    deps.metrics?.emergencyCall(placed.result, placed.identity, setupMs / 1000);
    if (id.tenant !== null && id.mac !== null)
      void deps.store
        .emergencyCall(id.tenant, id.mac, {
          ip: req.source_address,
          callId: strangerText(req.get('call-id') ?? '', 64),
          // the device's site as the operator named it: whether its record gave the identity is `identity`
          site: id.site ?? '',
          route: placed.route ?? '',
          identity: placed.identity,
          outcome: placed.result,
          setupMs: String(Math.round(setupMs)),
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
  e: EmergencyRequest,
  held: { readonly call: EmergencyCall; readonly end: () => void },
): Promise<Placed> {
  const { req, res, dialled, id, deps, log } = e;
  let cancelled = false;
  req.on('cancel', () => {
    cancelled = true;
  });
  const within = <T>(p: Promise<T>) => e.storeWait.within(p);
  const site = await emergencySite(id, { get: (t, name) => within(deps.sites.get(t, name)) }, log);
  const [prefixes, fromSite] = await Promise.all([
    callerIdPrefixes(id.tenant, site, { getTenant: (t) => within(deps.store.getTenant(t)) }, log),
    isFromSite(
      id,
      site,
      { isSiteNetwork: (t, name, address) => within(deps.store.isSiteNetwork(t, name, address)) },
      log,
    ),
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
  deps: EmergencyDeps,
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
