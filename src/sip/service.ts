import { monitorEventLoopDelay } from 'node:perf_hooks';
import Srf from 'drachtio-srf';
import Mrf from 'drachtio-fsmrf';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Mac } from '../domain/mac';
import { SipStore } from '../store/sip';
import { Sites } from '../store/sites';
import type { RedisClient, Store } from '../store/store';
import type { IvrSession } from '../ivr/session';
import { LogLimit } from '../lib/loglimit';
import { Metrics } from '../lib/metrics';
import { LockWatcher } from './lockwatch';
import { closeMediaServer, mediaConnector, RETRY_MAX_MS } from './media-connect';
import { MediaPool, type MediaServerStatus } from './mediapool';
import type { NotifyResult } from '../domain/outcomes';
import { sendCheckSync, type KnownPlace } from './notify';
import { IvrAdmission, RegisterAdmission, type Lateness } from './overload';
import { handleRegister, type SipReply } from './registrar';
import type { EmergencyCall } from './emergency-call';
import { handleInvite } from './router';

interface SipServiceDeps {
  config: Config;
  store: Store;
  redis: RedisClient;
  log: Logger;
  /** Default: a registry of its own. */
  metrics?: Metrics;
}

export interface SipService {
  /**
   * Stops taking new calls: drachtio-server is told to route them to another papgate connected to
   * it (it answers 503 itself when there is none); those already on their way get 503 here, except
   * emergency calls, which are still proxied. Lets the calls in progress finish for at most
   * `graceMs`, then ends the rest and disconnects.
   */
  stop(graceMs?: number): Promise<void>;
  /** Resolves once a FreeSWITCH and drachtio-server are connected (rejects after timeoutMs). */
  ready(timeoutMs?: number): Promise<void>;
  /** IVR calls in progress (session objects alive). */
  activeCalls(): number;
  /** Whether a FreeSWITCH and drachtio-server are connected now (readiness and metrics). */
  connected(): { freeswitch: boolean; drachtio: boolean };
  /** Each configured FreeSWITCH (FREESWITCH_HOSTS): connected, and our IVR calls on it. */
  mediaServers(): MediaServerStatus[];
  /** REGISTER admission's highest readings of the last 15 to 30 s (RegisterAdmission.recentPeak). */
  registerLateness(): Lateness;
  /** SIP_OVERLOAD_BEHIND_MS */
  overloadBehindMs(): number;
  /** False once stop() has begun: new IVR calls are refused while the calls in progress finish. */
  accepting(): boolean;
  /** FreeSWITCH channels as `show channels count` reports them, summed over the connected servers (null: none). */
  mediaChannels(): Promise<number | null>;
  /**
   * Sends the phone its check-sync NOTIFY now: at `place` (after a PAP success), else at every live
   * binding (the lock watcher).
   */
  checkSync(tenant: string, mac: Mac, place?: KnownPlace): Promise<NotifyResult>;
  readonly lockWatcher: LockWatcher;
}

/**
 * How long a shutdown waits for emergency calls past its grace: they are never cut for a restart,
 * but a call still up after an hour is more likely one whose BYE was lost than a real one; it then
 * gets a BYE on both legs. See docs/operations.md, "Shutdown".
 */
const EMERGENCY_HOLD_MS = 3600_000;
/** While a shutdown waits for emergency calls, a line this often says so. */
const EMERGENCY_WAIT_LOG_MS = 30_000;
/**
 * A FreeSWITCH that refused an endpoint (max-sessions, sessions-per-second) is tried after the
 * others for this long: about the time such a peak takes to pass, short enough not to idle it.
 */
const MEDIA_ERROR_HOLD_MS = 5000;
/**
 * The event loop's delay is sampled every LOOP_SAMPLE_MS, and RegisterAdmission sees the mean of
 * the last LOOP_WINDOW_MS: short enough that shedding ends within a tenth of a second of the storm.
 * The mean, not the largest: one garbage collection of 50 ms is no overload, and shed new
 * registrations for the whole window (each phone then waits its Retry-After); a loop that is
 * really behind is late on every sample, or takes so few that the one it takes decides.
 */
const LOOP_SAMPLE_MS = 10;
const LOOP_WINDOW_MS = 100;

/**
 * The SIP side of papgate: registrar, call router, IVR, check-sync NOTIFYs and the lock watcher.
 * FreeSWITCH (media) is connected first; drachtio-server only once FreeSWITCH answered, and both
 * are retried for ever with a capped backoff, each outage logged once.
 */
export async function startSipService(deps: SipServiceDeps): Promise<SipService> {
  const { config, store, log: root } = deps;
  const log = root.child({ component: 'sip' });
  const sip = config.sip;
  const sipStore = new SipStore(deps.redis, {
    nonceSeconds: sip.nonceSeconds,
    // A phone refreshes within the expiry it was granted: its login is still remembered then.
    loginSeconds: 2 * sip.registerExpiresSeconds,
    schema: store.schema,
  });
  const sessions = new Set<IvrSession>();
  const emergencyCalls = new Set<EmergencyCall>();
  const sites = new Sites(store.redis, { eventsMaxLen: config.eventsMaxLen });
  const metrics = deps.metrics ?? new Metrics();
  const srf = new Srf();
  const mrf = new Mrf(srf);
  const fsServers = sip.freeswitch.servers;
  const media = new MediaPool<Mrf.MediaServer>(
    fsServers.map((s) => s.label),
    { errorHoldMs: MEDIA_ERROR_HOLD_MS },
  );
  let stopped = false;
  let draining = false;
  let drachtioStarted = false;
  let drachtioUp = false;
  let drachtioDown = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const readyWaiters = new Set<() => void>();

  const checkReady = () => {
    if (media.connectedCount() > 0 && drachtioUp) for (const w of [...readyWaiters]) w();
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /**
   * Waits for the emergency calls in progress, ringing or connected, past the grace: drachtio-server
   * sends their answers and BYEs only to this connection, and a drill's SIGTERM 2 s into a ringing
   * call left the phone without the route's answer (papgate had disconnected after 106 ms).
   */
  const emergencyCallsEnded = async () => {
    if (emergencyCalls.size === 0) return;
    const until = Date.now() + EMERGENCY_HOLD_MS;
    let say = 0;
    while (emergencyCalls.size > 0 && Date.now() < until) {
      if (Date.now() >= say) {
        log.warn(
          { calls: emergencyCalls.size, maxMs: until - Date.now() },
          'waiting for emergency calls to end before stopping',
        );
        say = Date.now() + EMERGENCY_WAIT_LOG_MS;
      }
      await pause(100);
    }
    if (emergencyCalls.size === 0) return;
    log.error({ calls: emergencyCalls.size }, 'emergency calls still up after an hour: ending them');
    await Promise.all([...emergencyCalls].map((c) => c.hangUp?.()));
  };

  const checkSync = async (tenant: string, mac: Mac, place?: KnownPlace) => {
    const result = await sendCheckSync(
      {
        srf: () => (drachtioUp ? srf : null),
        sipStore,
        getDevice: (t, m) => store.getDevice(t, m),
        log,
      },
      tenant,
      mac,
      place,
    );
    metrics.checkSync(result);
    return result;
  };

  // ---- drachtio ----------------------------------------------------------------------------------
  srf.on('connect', (err: Error | null, hostport: string) => {
    if (stopped) {
      try {
        srf.disconnect();
      } catch {
        // A connection that completes after stop() is dropped; a half-open socket may throw, and
        // nothing is left to close.
      }
      return;
    }
    if (err) {
      if (!drachtioDown) log.error({ err: err.message }, 'drachtio-server refused the connection');
      drachtioDown = true;
      return;
    }
    drachtioUp = true;
    if (drachtioDown) log.info({ hostport }, 'drachtio-server connection restored');
    else log.info({ hostport }, 'connected to drachtio-server');
    drachtioDown = false;
    checkReady();
  });
  srf.on('error', (err: Error) => {
    drachtioUp = false;
    if (!drachtioDown && !stopped)
      log.error(
        { err: err.message, host: sip.drachtio.host, port: sip.drachtio.port },
        'drachtio-server unreachable; retrying',
      );
    drachtioDown = true;
  });
  srf.on('close', () => {
    if (drachtioUp && !stopped) log.error('drachtio-server connection lost; retrying');
    if (drachtioUp) drachtioDown = true;
    drachtioUp = false;
  });

  const ivr = new IvrAdmission(sip.ivr);
  /** Refused REGISTERs and INVITEs: a few log lines per client and window. */
  const logLimit = new LogLimit({
    perClient: config.traffic.perClient,
    windowMs: config.traffic.windowSeconds * 1000,
  });
  // The histogram counts each sample's whole interval: its delay is what exceeds LOOP_SAMPLE_MS.
  const loop = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loop.enable();
  let loopDelayMs = 0;
  const loopWindow = setInterval(() => {
    // no sample in the window: the request's age tells how late papgate is
    loopDelayMs = loop.count > 0 ? Math.max(0, loop.mean / 1e6 - LOOP_SAMPLE_MS) : 0;
    loop.reset();
  }, LOOP_WINDOW_MS);
  loopWindow.unref();
  const registerAdmission = new RegisterAdmission({
    ratePerSecond: sip.registerRateLimit,
    maxPending: sip.registerMaxPending,
    behindMs: sip.overloadBehindMs,
    farBehindMs: sip.overloadFarBehindMs,
    loopDelayMs: () => loopDelayMs,
  });
  srf.register((req, res) => {
    // Counted as it is sent: every path of the registrar ends in exactly one final reply.
    const counted: SipReply = {
      send: (status, reason, opts) => {
        metrics.registerReply(status);
        res.send(status, reason, opts);
      },
    };
    handleRegister(req, counted, {
      realm: sip.realm,
      bindToSourceAddress: sip.bindToProvisioningIp,
      sipStore,
      findDevice: (mac) => sipStore.login(mac),
      knownDevice: (mac) => sipStore.knownLogin(mac),
      traffic: (tenant, source, type, fields) => store.appendTraffic(tenant, source, type, fields),
      logLimit,
      clientPrefix: config.traffic.clientPrefix,
      maxExpiresSeconds: sip.registerExpiresSeconds,
      admission: registerAdmission,
      overloadRetryAfterSeconds: sip.overloadRetryAfterSeconds,
      requireTls: sip.requireTls,
      metrics,
      log,
    }).catch((err: Error) => {
      log.error({ err: err.message }, 'register handler failed');
      if (!res.finalResponseSent) counted.send(500);
    });
  });
  srf.invite((req, res) => {
    handleInvite(req, res, {
      config,
      store,
      sipStore,
      srf,
      media: () => (draining ? null : media),
      sessions,
      emergencyCalls,
      sites,
      ivr,
      draining: () => draining,
      metrics,
      logLimit,
      onAuthenticated: async (tenant, mac, place) => {
        await checkSync(tenant, mac, place);
      },
      log,
    }).catch((err: Error) => {
      log.error({ err: err.message }, 'invite handler failed');
      if (!res.finalResponseSent) res.send(500);
    });
  });
  srf.options((_req, res) => res.send(200));

  const startDrachtio = () => {
    if (drachtioStarted || stopped) return;
    drachtioStarted = true;
    log.info({ host: sip.drachtio.host, port: sip.drachtio.port }, 'connecting to drachtio-server');
    srf.connect({
      host: sip.drachtio.host,
      port: sip.drachtio.port,
      secret: sip.drachtio.secret,
      reconnect: { retryMaxDelay: RETRY_MAX_MS },
    });
  };

  // ---- FreeSWITCH --------------------------------------------------------------------------------
  const connectMedia = mediaConnector({
    mrf,
    freeswitch: sip.freeswitch,
    media,
    log,
    stopped: () => stopped,
    sleep,
    onConnected: () => {
      startDrachtio();
      checkReady();
    },
  });
  fsServers.forEach((_, i) => void connectMedia(i));

  const lockWatcher = new LockWatcher(store, (t, m) => checkSync(t, m), sip.lockWatchIntervalMs, log);
  lockWatcher.start();

  return {
    lockWatcher,
    checkSync,
    activeCalls: () => sessions.size,
    accepting: () => !draining && !stopped,
    connected: () => ({ freeswitch: media.connectedCount() > 0, drachtio: drachtioUp }),
    mediaServers: () => media.status(),
    registerLateness: () => registerAdmission.recentPeak(),
    overloadBehindMs: () => sip.overloadBehindMs,
    async mediaChannels() {
      const servers = media.connectedServers();
      if (servers.length === 0) return null;
      const counts = await Promise.all(
        servers.map(async ([, m]) => {
          const n = /(\d+)\s+total/.exec(await m.api('show channels count'));
          return n ? Number(n[1]) : null;
        }),
      );
      return counts.includes(null) ? null : counts.reduce((a, b) => a! + b!, 0);
    },
    ready(timeoutMs = 30000) {
      if (media.connectedCount() > 0 && drachtioUp) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const done = () => {
          clearTimeout(t);
          readyWaiters.delete(done);
          resolve();
        };
        const t = setTimeout(() => {
          readyWaiters.delete(done);
          reject(
            new Error(
              `SIP service not ready after ${timeoutMs} ms (FreeSWITCH ${media.connectedCount()}/${media.size} up, drachtio ${drachtioUp ? 'up' : 'down'})`,
            ),
          );
        }, timeoutMs);
        readyWaiters.add(done);
      });
    },
    async stop(graceMs = 0) {
      if (stopped || draining) return;
      draining = true;
      const deadline = Date.now() + graceMs;
      // drachtio-server drops every route of this connection (REGISTER and OPTIONS too) and sends
      // new requests to the other papgate instances connected to it, or answers 503 when none is;
      // requests inside this instance's dialogs (ACK, INFO, BYE) keep coming here.
      if (drachtioUp) {
        try {
          srf.unregisterForMessages('invite');
          log.info('drachtio-server told to route new requests to other papgate instances');
        } catch (err) {
          log.warn(
            { err: (err as Error).message },
            'cannot remove the drachtio route; new calls get 503 here',
          );
        }
      }
      if (sessions.size > 0) log.info({ calls: sessions.size, graceMs }, 'waiting for IVR calls to finish');
      while (sessions.size > 0 && Date.now() < deadline) await pause(100);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      clearInterval(loopWindow);
      loop.disable();
      await lockWatcher.stop();
      await Promise.all([...sessions].map((s) => s.teardown()));
      await emergencyCallsEnded();
      stopped = true;
      try {
        srf.disconnect();
      } catch {
        // disconnect() throws when drachtio-server was never reached; stopping goes on regardless.
      }
      const wp = (
        srf as unknown as {
          app?: {
            wp?: { closing?: boolean; reconnectVars?: { retryTimer?: ReturnType<typeof setTimeout> | null } };
          };
        }
      ).app?.wp;
      if (wp) {
        wp.closing = true;
        if (wp.reconnectVars?.retryTimer) clearTimeout(wp.reconnectVars.retryTimer);
      }
      for (const [i, m] of media.connectedServers()) {
        closeMediaServer(m);
        media.set(i, null);
      }
      drachtioUp = false;
    },
  };
}
