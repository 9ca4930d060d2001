import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AUTH_STATES, type AuthState, type PapCheckOutcome } from '../domain/auth';
import { VENDORS, type Vendor } from '../domain/device';
import type { EmergencyIdentity, EmergencyResult } from '../domain/emergency';
import { GATED_FAMILIES, UPSTREAM_OUTCOMES, type GatedFamily, type UpstreamOutcome } from '../domain/gate';
import type { ProvisioningRefusal } from '../domain/provisioning';
import type { IvrOutcome, NotifyResult } from '../domain/outcomes';

/*
 * Every label value below comes from a closed set written in the code (vendor names from VENDORS,
 * states, outcomes, SIP and HTTP status codes) or in the configuration (FreeSWITCH host:port), never
 * from a request or a tenant: no MAC, IP, PAP, tenant id or free text can reach a series, so the
 * number of series is bounded.
 */

/** The configuration a provisioning reply carried: `none` for everything else (refusals, misses, pointers, HEAD). */
/**
 * `challenge`: 401, the device holds a credential the request did not carry; `reset`: a reply that
 * marks an authenticated device as needing reset (docs/phones.md, The challenge): a 401 to an
 * address whose challenge went unanswered (a phone that lost its credential, or a stranger behind
 * its address), or the minimal "reset needed" file of a device authenticated without a credential
 * (status 200); `none`: no configuration (refused, unknown, a miss).
 */
export type ProvisioningDecision = 'full' | 'minimal' | 'reset' | 'challenge' | 'none';
/** `none`: the request named no known device. */
export type ProvisioningVendor = Vendor | 'none';
/** Why a reply refused (403); `none` for every other reply. */
export type ProvisioningReason = ProvisioningRefusal | 'none';
export type PapChannel = 'ivr' | 'pbx' | 'api';
/** `store_error`: the store did not answer, so nothing was decided (fail closed). */
type PapOutcome = PapCheckOutcome | 'store_error';
/**
 * `media_unavailable`: refused with 503 before the IVR (FreeSWITCH not connected, no endpoint);
 * `media_refused`: 488, the caller's offer refused (papgate's checks of the offer or of FreeSWITCH's
 * answer, or FreeSWITCH's own refusal): a rise is phones papgate cannot serve, or a FreeSWITCH that
 * refuses them all.
 */
type IvrCallOutcome = IvrOutcome | 'media_unavailable' | 'media_refused';
type StoreErrorKind = 'timeout' | 'unavailable' | 'error';
/**
 * Why a new call got 503 before the IVR: IVR_MAX_CALLS reached, the caller's device or source
 * network at its share (IVR_MAX_CALLS_PER_DEVICE, _PER_SOURCE), or the instance shutting down.
 */
export type InviteShedReason = 'ivr_capacity' | 'ivr_per_device' | 'ivr_per_source' | 'draining';
/**
 * Why a REGISTER got 503 before any store work: a reading past its bound (the request's age, the
 * event loop's delay, the oldest REGISTER's wait for Redis), SIP_REGISTER_MAX_PENDING or the
 * opt-in SIP_REGISTER_RATE_LIMIT.
 */
export type RegisterShedReason = 'request_age' | 'loop_delay' | 'store_wait' | 'max_pending' | 'rate';
/** A tenant token's device addition naming other tenants' MACs: answered with them, or refused (429). */
type MacProbeAnswer = 'listed' | 'limited';

/** Each list is checked against its type: a new outcome in the code that is missing here fails to compile. */
const keysOf = <K extends string>(o: Record<K, true>): K[] => Object.keys(o) as K[];
const PAP_CHANNELS = keysOf<PapChannel>({ ivr: true, pbx: true, api: true });
const PAP_OUTCOMES = keysOf<PapOutcome>({
  successful: true,
  wrong_pap: true,
  failed: true,
  blocked: true,
  not_required: true,
  source_limited: true,
  pap_expired: true,
  unknown_device: true,
  store_error: true,
});
const IVR_OUTCOMES = keysOf<IvrCallOutcome>({
  successful: true,
  failed: true,
  blocked: true,
  not_possible: true,
  source_limited: true,
  pap_expired: true,
  no_input: true,
  invalid_input: true,
  caller_hangup: true,
  store_error: true,
  media_error: true,
  foreign_media: true,
  media_unavailable: true,
  media_refused: true,
});
const NOTIFY_RESULTS = keysOf<NotifyResult>({
  sent: true,
  not_registered: true,
  no_answer: true,
  rejected: true,
  error: true,
});
const STORE_ERRORS = keysOf<StoreErrorKind>({ timeout: true, unavailable: true, error: true });
const SHED_REASONS = keysOf<InviteShedReason>({
  ivr_capacity: true,
  ivr_per_device: true,
  ivr_per_source: true,
  draining: true,
});
const REGISTER_SHED_REASONS = keysOf<RegisterShedReason>({
  request_age: true,
  loop_delay: true,
  store_wait: true,
  max_pending: true,
  rate: true,
});
const MAC_PROBE_ANSWERS = keysOf<MacProbeAnswer>({ listed: true, limited: true });
const EMERGENCY_RESULTS = keysOf<EmergencyResult>({
  connected: true,
  route_refused: true,
  cancelled: true,
  failed: true,
  no_route: true,
});
const EMERGENCY_IDENTITIES = keysOf<EmergencyIdentity>({
  site: true,
  operator: true,
  device: true,
  anonymous: true,
});
const DECISIONS = keysOf<ProvisioningDecision>({
  full: true,
  minimal: true,
  reset: true,
  challenge: true,
  none: true,
});

/** Up to the default STORE_TIMEOUT_MS (2 s): Redis answers in well under a millisecond on a LAN. */
const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

type Inc = { inc(value?: number): void };

/** What the SIP side reports when scraped (src/sip/service.ts). */
export interface SipGauges {
  activeCalls(): number;
  connected(): { readonly freeswitch: boolean; readonly drachtio: boolean };
  mediaServers(): readonly { readonly server: string; readonly connected: boolean; readonly calls: number }[];
  /** REGISTER admission's highest readings of the last 15 to 30 s, in ms (request age null: none read). */
  registerLateness(): {
    readonly requestAgeMs: number | null;
    readonly loopDelayMs: number;
    readonly storeWaitMs: number;
  };
  /** SIP_OVERLOAD_BEHIND_MS */
  overloadBehindMs(): number;
}

/**
 * papgate's Prometheus metrics: one registry and its metric objects, made once in main.ts and
 * handed to the edges and the store connection (tests make their own). Label children are bound
 * once, here, so that counting on the hot paths is a map lookup and an add.
 */
export class Metrics {
  readonly registry = new Registry();

  /** By vendor, decision, then status and reason (`<status> <reason>`). */
  private readonly provisioning: Map<string, Map<ProvisioningDecision, Map<string, Inc>>>;
  private readonly provisioningCounter: Counter<'vendor' | 'decision' | 'status' | 'reason'>;
  private readonly pap: Record<PapChannel, Record<PapOutcome, Inc>>;
  private readonly transitions: Record<AuthState, Record<AuthState, Inc>>;
  private readonly ivrEnded: Record<IvrCallOutcome, Inc>;
  private readonly shed: Record<InviteShedReason, Inc>;
  private readonly registerCounter: Counter<'status'>;
  private readonly registersShed: Record<RegisterShedReason, Inc>;
  private readonly registerReplies = new Map<number, Inc>();
  private readonly checkSyncs: Record<NotifyResult, Inc>;
  private readonly storeErrors: Record<StoreErrorKind, Inc>;
  private readonly macProbes: Record<MacProbeAnswer, Inc>;
  private readonly emergencies: Record<EmergencyResult, Record<EmergencyIdentity, Inc>>;
  private readonly emergencySetup: Record<EmergencyResult, { observe(seconds: number): void }>;
  /** Seconds from sending a store command to Redis's answer (error replies included). */
  readonly storeLatency: Histogram;
  private readonly upstreamRequests: Record<GatedFamily, Record<UpstreamOutcome, Inc>>;
  private readonly upstreamLatency: Histogram<'family'>;
  private sip: SipGauges | null = null;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });

    this.provisioningCounter = new Counter({
      name: 'papgate_provisioning_replies_total',
      help: 'Provisioning HTTP replies by vendor, configuration served (full, minimal, challenge: 401 for its credential, reset: a 401 or minimal file that marks an authenticated device as needing reset, none), status and reason of a refusal (none for other replies)',
      labelNames: ['vendor', 'decision', 'status', 'reason'],
      registers,
    });
    this.provisioning = new Map(
      (['none', ...VENDORS] as const).map((v) => [
        v,
        new Map(DECISIONS.map((d) => [d, new Map<string, Inc>()])),
      ]),
    );
    // The common answers exist from the start, so that rates are defined before the first request.
    for (const v of VENDORS)
      for (const d of ['full', 'minimal'] as const) this.provisioningChild(v, d, 200, 'none').inc(0);

    const pap = new Counter({
      name: 'papgate_pap_attempts_total',
      help: 'PAP attempts by channel (ivr: the phone called; pbx: a trusted PBX sent the call; api) and outcome',
      labelNames: ['channel', 'outcome'],
      registers,
    });
    this.pap = table(PAP_CHANNELS, (c) => table(PAP_OUTCOMES, (o) => started(pap.labels(c, o))));

    const transitions = new Counter({
      name: 'papgate_state_transitions_total',
      help: 'Device authentication state transitions (docs/security.md, States and transitions), by state before and after',
      labelNames: ['from', 'to'],
      registers,
    });
    this.transitions = table(AUTH_STATES, (f) =>
      table(AUTH_STATES, (t) => started(transitions.labels(f, t))),
    );

    const sip = () => this.sip;
    new Gauge({
      name: 'papgate_ivr_calls_active',
      help: 'IVR calls in progress',
      registers,
      collect() {
        this.set(sip()?.activeCalls() ?? 0);
      },
    });
    new Gauge({
      name: 'papgate_sip_connected',
      help: 'Whether the SIP side is connected to its peer (freeswitch, drachtio): 1 yes, 0 no; absent when the SIP side is off',
      labelNames: ['peer'],
      registers,
      collect() {
        const s = sip();
        if (s === null) return;
        const c = s.connected();
        this.labels('freeswitch').set(c.freeswitch ? 1 : 0);
        this.labels('drachtio').set(c.drachtio ? 1 : 0);
      },
    });
    // Labelled by FREESWITCH_HOSTS entry (host:port of a media server, bounded by the configuration).
    new Gauge({
      name: 'papgate_sip_register_lateness_seconds',
      help: "How far behind REGISTER admission found papgate, the highest reading over the last 15 to 30 s, by measure (request_age: a REGISTER waited before papgate started on it; loop_delay: the event loop's mean delay over its last 100 ms; store_wait: the oldest REGISTER waiting for Redis); new registrations are shed past papgate_sip_overload_behind_seconds",
      labelNames: ['measure'],
      registers,
      collect() {
        const s = sip();
        if (s === null) return;
        const l = s.registerLateness();
        // No REGISTER read in the window: nothing waited.
        this.labels('request_age').set((l.requestAgeMs ?? 0) / 1000);
        this.labels('loop_delay').set(l.loopDelayMs / 1000);
        this.labels('store_wait').set(l.storeWaitMs / 1000);
      },
    });
    new Gauge({
      name: 'papgate_sip_overload_behind_seconds',
      help: 'SIP_OVERLOAD_BEHIND_MS: new registrations are shed when papgate is this far behind (papgate_sip_register_lateness_seconds)',
      registers,
      collect() {
        const s = sip();
        if (s !== null) this.set(s.overloadBehindMs() / 1000);
      },
    });
    new Gauge({
      name: 'papgate_media_server_connected',
      help: 'Whether papgate is connected to each configured FreeSWITCH (server: host:port): 1 yes, 0 no',
      labelNames: ['server'],
      registers,
      collect() {
        for (const m of sip()?.mediaServers() ?? []) this.labels(m.server).set(m.connected ? 1 : 0);
      },
    });
    new Gauge({
      name: 'papgate_media_server_calls',
      help: 'IVR calls of this papgate in progress on each configured FreeSWITCH (server: host:port)',
      labelNames: ['server'],
      registers,
      collect() {
        for (const m of sip()?.mediaServers() ?? []) this.labels(m.server).set(m.calls);
      },
    });
    const ended = new Counter({
      name: 'papgate_ivr_calls_ended_total',
      help: 'IVR calls ended, by outcome (media_unavailable: refused with 503 before the IVR; media_refused: the offer refused with 488)',
      labelNames: ['outcome'],
      registers,
    });
    this.ivrEnded = table(IVR_OUTCOMES, (o) => started(ended.labels(o)));
    const shed = new Counter({
      name: 'papgate_sip_invites_shed_total',
      help: 'New calls answered 503 before the IVR, by reason (ivr_capacity: IVR_MAX_CALLS reached; ivr_per_device, ivr_per_source: the calling device or source network holds IVR_MAX_CALLS_PER_DEVICE or _PER_SOURCE calls; draining: shutting down, reached papgate before drachtio-server stopped routing calls to it)',
      labelNames: ['reason'],
      registers,
    });
    this.shed = table(SHED_REASONS, (r) => started(shed.labels(r)));

    this.registerCounter = new Counter({
      name: 'papgate_sip_register_replies_total',
      help: 'Final replies to REGISTER by status (200 registered, 401 challenged, 403 refused, 503 shed or store down)',
      labelNames: ['status'],
      registers,
    });
    const registersShed = new Counter({
      name: 'papgate_sip_registers_shed_total',
      help: 'REGISTERs answered 503 before any store work, by reason (request_age, loop_delay, store_wait: papgate behind by SIP_OVERLOAD_BEHIND_MS, or _FAR_BEHIND_MS for an answer to a challenge; max_pending: SIP_REGISTER_MAX_PENDING; rate: SIP_REGISTER_RATE_LIMIT)',
      labelNames: ['reason'],
      registers,
    });
    this.registersShed = table(REGISTER_SHED_REASONS, (r) => started(registersShed.labels(r)));
    const notifies = new Counter({
      name: 'papgate_check_sync_notifies_total',
      help: 'check-sync NOTIFYs by result (sent: the phone answered 2xx; rejected: >= 300; no_answer; not_registered and error: nothing sent)',
      labelNames: ['result'],
      registers,
    });
    this.checkSyncs = table(NOTIFY_RESULTS, (r) => started(notifies.labels(r)));

    this.storeLatency = new Histogram({
      name: 'papgate_store_command_duration_seconds',
      help: 'Time from sending a store (Redis) command to its answer',
      buckets: STORE_BUCKETS,
      registers,
    });
    const storeErrors = new Counter({
      name: 'papgate_store_errors_total',
      help: 'Store commands that failed: timeout (STORE_TIMEOUT_MS), unavailable (connection down, failover), error (any other error reply)',
      labelNames: ['kind'],
      registers,
    });
    this.storeErrors = table(STORE_ERRORS, (k) => started(storeErrors.labels(k)));
    const probes = new Counter({
      name: 'papgate_mac_probe_requests_total',
      help: 'Device additions by tenant tokens that named MACs of other tenants: listed (answered 409 with them, within MAC_PROBE_LIMIT) or limited (refused 429)',
      labelNames: ['answer'],
      registers,
    });
    this.macProbes = table(MAC_PROBE_ANSWERS, (a) => started(probes.labels(a)));
    const emergencies = new Counter({
      name: 'papgate_emergency_calls_total',
      help: "Emergency calls by result (connected; route_refused: the route answered >= 300; cancelled by the caller; failed: the route not reached; no_route: none configured) and the identity sent (site: the site record's caller ID; operator: EMERGENCY_CALLER_ID; device: the MAC; anonymous)",
      labelNames: ['result', 'identity'],
      registers,
    });
    this.emergencies = table(EMERGENCY_RESULTS, (r) =>
      table(EMERGENCY_IDENTITIES, (i) => started(emergencies.labels(r, i))),
    );
    const upstream = new Counter({
      name: 'papgate_upstream_requests_total',
      help: 'Gate mode: full configurations asked of the upstream by family and outcome (ok, cached: answered from the cache, status: not 200, timeout, too_large, format: not a file papgate can merge, error: no answer)',
      labelNames: ['family', 'outcome'],
      registers,
    });
    this.upstreamRequests = table(GATED_FAMILIES, (f) =>
      table(UPSTREAM_OUTCOMES, (o) => started(upstream.labels(f, o))),
    );
    this.upstreamLatency = new Histogram({
      name: 'papgate_upstream_duration_seconds',
      help: 'Gate mode: time from asking the upstream for a file to its whole body (or the failure), cache hits not included',
      labelNames: ['family'],
      // Up to PROVISIONING_UPSTREAM_TIMEOUT_MS's 30 s.
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const setup = new Histogram({
      name: 'papgate_emergency_call_setup_seconds',
      help: "Time from an emergency call's INVITE to its result (the route's answer, its refusal, the caller's cancel, or papgate giving up), by result as papgate_emergency_calls_total",
      labelNames: ['result'],
      // a PSAP may ring for a while before it answers: up to a minute
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60],
      registers,
    });
    this.emergencySetup = table(EMERGENCY_RESULTS, (r) => setup.labels(r));
  }

  /** One provisioning reply; `vendor`, `decision` and `reason` as far as the request got. */
  provisioningReply(
    vendor: ProvisioningVendor,
    decision: ProvisioningDecision,
    status: number,
    reason: ProvisioningReason,
  ): void {
    this.provisioningChild(vendor, decision, status, reason).inc();
  }

  private provisioningChild(
    vendor: ProvisioningVendor,
    decision: ProvisioningDecision,
    status: number,
    reason: ProvisioningReason,
  ): Inc {
    const byStatus = this.provisioning.get(vendor)!.get(decision)!;
    const key = `${status} ${reason}`;
    let c = byStatus.get(key);
    if (c === undefined) {
      c = this.provisioningCounter.labels(vendor, decision, String(status), reason);
      byStatus.set(key, c);
    }
    return c;
  }

  papAttempt(channel: PapChannel, outcome: PapOutcome): void {
    this.pap[channel][outcome].inc();
  }

  /** Counts the attempt `reply` answers, a store failure as `store_error`; passes the reply on. */
  async countPap<R extends { readonly outcome: PapCheckOutcome }>(
    channel: PapChannel,
    reply: Promise<R>,
  ): Promise<R> {
    try {
      const r = await reply;
      this.papAttempt(channel, r.outcome);
      return r;
    } catch (err) {
      this.papAttempt(channel, 'store_error');
      throw err;
    }
  }

  transition(from: AuthState, to: AuthState): void {
    this.transitions[from][to].inc();
  }

  ivrCallEnded(outcome: IvrCallOutcome): void {
    this.ivrEnded[outcome].inc();
  }

  inviteShed(reason: InviteShedReason): void {
    this.shed[reason].inc();
  }

  registerShed(reason: RegisterShedReason): void {
    this.registersShed[reason].inc();
  }

  registerReply(status: number): void {
    let c = this.registerReplies.get(status);
    if (c === undefined) {
      c = this.registerCounter.labels(String(status));
      this.registerReplies.set(status, c);
    }
    c.inc();
  }

  checkSync(result: NotifyResult): void {
    this.checkSyncs[result].inc();
  }

  /** One upstream request of gate mode; `seconds` null: answered from the cache. */
  upstreamRequest(family: GatedFamily, outcome: UpstreamOutcome, seconds: number | null): void {
    this.upstreamRequests[family][outcome].inc();
    if (seconds !== null) this.upstreamLatency.labels(family).observe(seconds);
  }

  storeError(kind: StoreErrorKind): void {
    this.storeErrors[kind].inc();
  }

  macProbe(answer: MacProbeAnswer): void {
    this.macProbes[answer].inc();
  }

  /** One emergency call's result, the identity it went out with, and its set-up time in seconds. */
  emergencyCall(result: EmergencyResult, identity: EmergencyIdentity, seconds: number): void {
    this.emergencies[result][identity].inc();
    this.emergencySetup[result].observe(seconds);
  }

  /** The SIP side is on: its gauges are read from `sip` at each scrape. */
  watchSip(sip: SipGauges): void {
    this.sip = sip;
  }

  /** The exposition text and its content type. */
  async expose(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** A series that exists (at 0) from the start: rate() and absent() need no first event. */
function started(c: Inc): Inc {
  c.inc(0);
  return c;
}

function table<K extends string, V>(keys: readonly K[], f: (k: K) => V): Record<K, V> {
  return Object.fromEntries(keys.map((k) => [k, f(k)])) as Record<K, V>;
}
