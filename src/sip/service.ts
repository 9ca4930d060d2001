import net from 'node:net';
import Srf from 'drachtio-srf';
import Mrf from 'drachtio-fsmrf';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { Mac } from '../domain/mac';
import { SipStore } from '../store/sip';
import type { RedisClient, Store } from '../store/store';
import type { IvrSession } from '../ivr/session';
import { Metrics } from '../metrics';
import { LockWatcher } from './lockwatch';
import { sendCheckSync, type NotifyResult } from './notify';
import { RegisterAdmission, Slots } from './overload';
import { handleRegister, type SipReply } from './registrar';
import { handleInvite } from './router';

export interface SipServiceDeps {
  config: Config;
  store: Store;
  redis: RedisClient;
  log: Logger;
  /** Default: a registry of its own. */
  metrics?: Metrics;
}

export interface SipService {
  /**
   * Stops taking new IVR calls (503; emergency calls are still proxied), lets the calls in progress
   * finish for at most `graceMs`, then ends the rest and disconnects.
   */
  stop(graceMs?: number): Promise<void>;
  /** Resolves once FreeSWITCH and drachtio-server are both connected (rejects after timeoutMs). */
  ready(timeoutMs?: number): Promise<void>;
  /** IVR calls in progress (session objects alive). */
  activeCalls(): number;
  /** Whether FreeSWITCH and drachtio-server are connected now (readiness and metrics). */
  connected(): { freeswitch: boolean; drachtio: boolean };
  /** False once stop() has begun: new IVR calls are refused while the calls in progress finish. */
  accepting(): boolean;
  /** FreeSWITCH channels as `show channels count` reports them (null: not connected). */
  mediaChannels(): Promise<number | null>;
  /** Sends the phone its check-sync NOTIFY now (also used after a successful PAP and by the lock watcher). */
  checkSync(tenant: string, mac: Mac): Promise<NotifyResult>;
  readonly lockWatcher: LockWatcher;
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 5000;

function probe(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const done = (err?: Error) => {
      s.removeAllListeners();
      s.destroy();
      if (err) reject(err);
      else resolve();
    };
    s.setTimeout(timeoutMs, () => done(new Error(`timeout connecting to ${host}:${port}`)));
    s.once('connect', () => done());
    s.once('error', (err) => done(err));
  });
}

/** Closes a MediaServer for good: drachtio-modesl would otherwise keep reconnecting on its own. */
function closeMediaServer(ms: Mrf.MediaServer): void {
  const conn = ms.conn;
  try {
    if (conn) {
      conn.closing = true;
      if (conn.reconnectVars?.retryTimer) clearTimeout(conn.reconnectVars.retryTimer);
    }
    ms.disconnect();
  } catch {
    // already gone
  }
}

/**
 * The SIP side of papgate: registrar, call router, IVR, check-sync NOTIFYs and the lock watcher.
 * FreeSWITCH (media) is connected first; drachtio-server only once FreeSWITCH answered, and both
 * are retried for ever with a capped backoff, each outage logged once.
 */
export async function startSipService(deps: SipServiceDeps): Promise<SipService> {
  const { config, store, log: root } = deps;
  const log = root.child({ component: 'sip' });
  const sip = config.sip;
  const sipStore = new SipStore(deps.redis, { nonceSeconds: sip.nonceSeconds });
  const sessions = new Set<IvrSession>();
  const metrics = deps.metrics ?? new Metrics();
  const srf = new Srf();
  const mrf = new Mrf(srf);
  let ms: Mrf.MediaServer | null = null;
  let stopped = false;
  let draining = false;
  let drachtioStarted = false;
  let drachtioUp = false;
  let drachtioDown = false;
  let mediaDown = false;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const readyWaiters = new Set<() => void>();

  const checkReady = () => {
    if (ms !== null && drachtioUp) for (const w of [...readyWaiters]) w();
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const checkSync = async (tenant: string, mac: Mac) => {
    const result = await sendCheckSync(
      {
        srf: () => (drachtioUp ? srf : null),
        sipStore,
        getDevice: (t, m) => store.getDevice(t, m),
        log,
      },
      tenant,
      mac,
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
        // ignore
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

  const ivrSlots = new Slots(sip.ivr.maxCalls);
  const registerAdmission = new RegisterAdmission({
    ratePerSecond: sip.registerRateLimit,
    maxPending: sip.registerMaxPending,
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
      audit: (tenant, type, fields) => store.appendEvent(tenant, type, fields),
      maxExpiresSeconds: sip.registerExpiresSeconds,
      admission: registerAdmission,
      overloadRetryAfterSeconds: sip.overloadRetryAfterSeconds,
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
      mediaServer: () => (draining ? null : ms),
      sessions,
      ivrSlots,
      metrics,
      onAuthenticated: async (tenant, mac) => {
        await checkSync(tenant, mac);
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
  const connectMedia = async (): Promise<void> => {
    let delay = RETRY_MIN_MS;
    while (!stopped) {
      const fs = sip.freeswitch;
      try {
        await probe(fs.host, fs.port, 2000);
        const m = await mrf.connect({
          address: fs.host,
          port: fs.port,
          secret: fs.secret,
          listenAddress: fs.listenAddress,
        });
        if (stopped) {
          closeMediaServer(m);
          return;
        }
        m.on('error', (err: Error) => log.debug({ err: err.message }, 'media server error'));
        m.once('end', () => {
          if (ms !== m) return;
          ms = null;
          mediaDown = true;
          closeMediaServer(m);
          if (!stopped) {
            log.error('FreeSWITCH connection lost; IVR calls answered 503 until it is back');
            void connectMedia();
          }
        });
        ms = m;
        if (mediaDown) log.info({ host: fs.host, port: fs.port }, 'FreeSWITCH connection restored');
        else log.info({ host: fs.host, port: fs.port }, 'connected to FreeSWITCH');
        mediaDown = false;
        startDrachtio();
        checkReady();
        return;
      } catch (err) {
        if (!mediaDown)
          log.error(
            { err: (err as Error).message, host: fs.host, port: fs.port },
            'FreeSWITCH unreachable; retrying',
          );
        mediaDown = true;
        await sleep(delay);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  };
  void connectMedia();

  const lockWatcher = new LockWatcher(store, checkSync, sip.lockWatchIntervalMs, log);
  lockWatcher.start();

  return {
    lockWatcher,
    checkSync,
    activeCalls: () => sessions.size,
    accepting: () => !draining && !stopped,
    connected: () => ({ freeswitch: ms !== null, drachtio: drachtioUp }),
    async mediaChannels() {
      const m = ms;
      if (m === null) return null;
      const out = await m.api('show channels count');
      const n = /(\d+)\s+total/.exec(out);
      return n ? Number(n[1]) : null;
    },
    ready(timeoutMs = 30000) {
      if (ms !== null && drachtioUp) return Promise.resolve();
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
              `SIP service not ready after ${timeoutMs} ms (FreeSWITCH ${ms ? 'up' : 'down'}, drachtio ${drachtioUp ? 'up' : 'down'})`,
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
      if (sessions.size > 0) log.info({ calls: sessions.size, graceMs }, 'waiting for IVR calls to finish');
      while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await lockWatcher.stop();
      await Promise.all([...sessions].map((s) => s.teardown()));
      try {
        srf.disconnect();
      } catch {
        // never connected
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
      if (ms !== null) closeMediaServer(ms);
      ms = null;
      drachtioUp = false;
    },
  };
}
