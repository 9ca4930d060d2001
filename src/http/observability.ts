import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Config } from '../config';
import { httpServerOptions, installEdgeLifecycle, RETRY_AFTER_SECONDS } from './server';
import type { Metrics, SipGauges } from '../lib/metrics';
import { isStoreTimeout, StoreNotReadyError } from '../store/connect';
import type { Store } from '../store/store';

/** `n/m connected`: n of m FreeSWITCH servers (FREESWITCH_HOSTS) are connected; ready when n > 0. */
type CheckResult =
  | 'ok'
  | 'unreachable'
  | 'timeout'
  | 'migrating'
  | 'not_connected'
  | 'draining'
  | `${number}/${number} connected`;

interface ReadyReport {
  readonly ready: boolean;
  /** Fixed words only: the body may be read from outside, so no address or error text. */
  readonly checks: Readonly<Record<string, CheckResult>>;
}

/** What readiness reads of the SIP side. */
type SipHealth = Pick<SipGauges, 'activeCalls' | 'connected' | 'mediaServers'> & { accepting(): boolean };

/** What /readyz asks: Redis answers a PING within STORE_TIMEOUT_MS; a FreeSWITCH and drachtio are connected when the SIP side is on. */
export class Health {
  private sip: SipHealth | null = null;

  constructor(
    private readonly store: Pick<Store, 'ping'>,
    private readonly sipEnabled: boolean,
  ) {}

  /** The SIP side has started; until then, with SIP on, both of its peers count as not connected. */
  watchSip(sip: SipHealth): void {
    this.sip = sip;
  }

  async ready(): Promise<ReadyReport> {
    const checks: Record<string, CheckResult> = {};
    try {
      // The store connection's own deadline (STORE_TIMEOUT_MS) bounds the PING.
      await this.store.ping();
      checks.redis = 'ok';
    } catch (err) {
      checks.redis = isStoreTimeout(err)
        ? 'timeout'
        : err instanceof StoreNotReadyError
          ? 'migrating'
          : 'unreachable';
    }
    // Several FreeSWITCH: one connected is enough to take calls; the body says how many are.
    let mediaReady = true;
    if (this.sipEnabled) {
      const c = this.sip?.connected() ?? { freeswitch: false, drachtio: false };
      const servers = this.sip?.mediaServers() ?? [];
      mediaReady = c.freeswitch;
      checks.freeswitch =
        servers.length > 1
          ? `${servers.filter((s) => s.connected).length}/${servers.length} connected`
          : c.freeswitch
            ? 'ok'
            : 'not_connected';
      checks.drachtio = c.drachtio ? 'ok' : 'not_connected';
      // Shutting down: the calls in progress finish here, new ones belong on another instance.
      if (this.sip && !this.sip.accepting()) checks.calls = 'draining';
    }
    return {
      ready: mediaReady && Object.entries(checks).every(([k, v]) => k === 'freeswitch' || v === 'ok'),
      checks,
    };
  }
}

interface ObservabilityDeps {
  readonly metrics: Metrics;
  readonly health: Health;
  /** false: GET /metrics answers 404 here (served on the metrics listener, or off: see config.ts). */
  readonly serveMetrics: boolean;
}

/** GET /healthz, /readyz and /metrics: no token, nothing under /api. */
export function observabilityRoutes(app: FastifyInstance, deps: ObservabilityDeps): void {
  app.get('/healthz', async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ status: 'alive' }),
  );
  app.get('/readyz', async (_req, reply) => {
    const r = await deps.health.ready();
    if (!r.ready) reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return reply
      .header('cache-control', 'no-store')
      .send({ status: r.ready ? 'ready' : 'not_ready', checks: r.checks });
  });
  app.get('/metrics', async (_req, reply) => {
    if (!deps.serveMetrics)
      return reply.code(404).send({
        error: 'not_found',
        message: 'metrics are not served on this listener (see METRICS_PORT and METRICS_PUBLIC)',
      });
    const m = await deps.metrics.expose();
    return reply.header('content-type', m.contentType).header('cache-control', 'no-store').send(m.body);
  });
}

/** The listener of METRICS_HOST:METRICS_PORT: the three routes above and nothing else. Not yet listening. */
export function createMetricsServer(
  config: Config,
  deps: Omit<ObservabilityDeps, 'serveMetrics'>,
): FastifyInstance {
  const app = Fastify({
    ...httpServerOptions(config),
    bodyLimit: 1024,
    exposeHeadRoutes: false,
    frameworkErrors: (err, _req, reply) =>
      (reply as FastifyReply).code(400).send({ error: 'bad_request', message: err.message }),
  });
  const refuse = (reply: FastifyReply, status: 405 | 503, headers: Record<string, string>) =>
    reply
      .code(status)
      .headers(headers)
      .send({ error: status === 503 ? 'shutting_down' : 'method_not_allowed' });
  installEdgeLifecycle(app, refuse, {
    allow: 'GET',
    contentType: 'application/json',
    body: JSON.stringify({ error: 'method_not_allowed' }),
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );
  observabilityRoutes(app, { ...deps, serveMetrics: true });
  return app;
}
