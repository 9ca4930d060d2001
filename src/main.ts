import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Alerts } from './http/alert';
import { loadConfig, ConfigError, configWarnings, unknownVariables, type Config } from './config';
import { closeGracefully } from './http/server';
import { createLogger } from './lib/log';
import { Metrics } from './lib/metrics';
import { createMetricsServer, Health } from './http/observability';
import { connectRedis, connectRedisCluster, type ConnectOptions } from './store/connect';
import { startEmbeddedRedis } from './store/embedded';
import { Schema } from './store/schema';
import { Store, type RedisClient, type StoreOptions } from './store/store';
import type { Logger } from 'pino';
import { createAdminServer } from './admin/server';
import { effectiveFile } from './provisioning/effective';
import { FileSettingsSource } from './provisioning/settings';
import { Settings } from './store/settings';
import { createProvisioningServer } from './provisioning/server';
import { loadTemplates } from './provisioning/template-check';
import type { TemplateSet } from './provisioning/templates';
import { reloadTls } from './provisioning/tls';
import type { Mac } from './domain/mac';
import { startSipService, type SipService } from './sip/service';

/** Effective files' setting items kept (per tenant version, site and device): a console's working set. */
const EFFECTIVE_FILE_SETTINGS_KEPT = 1000;

/** ADMIN_TOKEN, or one generated on first start and kept (mode 0600) beside the data. */
function adminToken(cfg: Config): { token: string; file: string | null; generated: boolean } {
  if (cfg.adminToken !== null) return { token: cfg.adminToken, file: null, generated: false };
  const file = path.join(cfg.dataDir, 'admin-token');
  fs.mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const generated = !fs.existsSync(file);
  if (generated) fs.writeFileSync(file, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  return { token: fs.readFileSync(file, 'utf8').trim(), file, generated };
}

/** The variables that chose a listener's address, to name when it cannot listen there. */
interface ListenerVariables {
  readonly host: string;
  readonly port: string;
}

/** listen(), with a port in use (or not ours to take) named by the variable that chose it. */
async function listen(
  server: { listen(o: { host: string; port: number }): Promise<unknown> },
  host: string,
  port: number,
  names: ListenerVariables,
): Promise<void> {
  try {
    await server.listen({ host, port });
  } catch (err) {
    const where = `${host}:${port} (${names.host}, ${names.port})`;
    switch ((err as NodeJS.ErrnoException).code) {
      case 'EADDRINUSE':
        throw new Error(`${where} is in use by another program: set ${names.port} to a free port`);
      case 'EACCES':
        throw new Error(
          `${where}: a port below 1024 needs CAP_NET_BIND_SERVICE: set ${names.port} to 1024 or above, or grant it`,
        );
      case 'EADDRNOTAVAIL':
        throw new Error(`${where}: ${host} is not an address of this machine: set ${names.host}`);
      default:
        throw err;
    }
  }
}

/** Where an operator's browser reaches the console on this machine (a wildcard host: loopback). */
function consoleUrl(host: string, port: number): string {
  const h =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/`;
}

/** Opens one connection (client) to papgate's Redis; `name` labels its log lines. */
type RedisConnector = (name: string) => Promise<RedisClient>;

/**
 * The Redis papgate uses: a cluster, an external server, or its own embedded one (started here).
 * Each connection opened is closed on shutdown, before the embedded server is stopped.
 */
async function redisConnector(
  cfg: Config,
  log: Logger,
  stops: (() => Promise<unknown>)[],
  shutdown: (code: number) => Promise<void>,
  metrics: Metrics,
): Promise<RedisConnector> {
  const opts = {
    commandTimeoutMs: cfg.storeTimeoutMs,
    outageLogIntervalMs: cfg.storeOutageLogIntervalMs,
    metrics,
  };
  let open: (log: Logger, o: ConnectOptions) => Promise<RedisClient>;
  const [nodes, url] = [cfg.redisClusterNodes, cfg.redisUrl];
  // An external Redis that is away at start-up must not keep the HTTP side from answering 503.
  if (nodes.length > 0) open = (l, o) => connectRedisCluster(nodes, l, { ...o, waitForFirst: false });
  else if (url !== null) open = (l, o) => connectRedis(url, l, { ...o, waitForFirst: false });
  else {
    const dir = path.join(cfg.dataDir, 'redis');
    const embedded = await startEmbeddedRedis({
      bin: cfg.redisServerBin,
      dir,
      persistent: true,
      // No TCP port: any local user could read every PAP and SIP password from a loopback port.
      unixSocket: true,
      // A papgate without its store would answer 503 for good: exit so that a supervisor acts.
      supervise: {
        log,
        maxRestarts: cfg.embeddedRedisRestarts,
        onFatal: (err) => {
          log.fatal({ err: err.message }, 'embedded redis-server cannot be restarted');
          void shutdown(1);
        },
      },
    });
    stops.push(() => embedded.stop());
    log.info(
      { dir, socket: embedded.socket },
      'started embedded redis-server (append-only persistence, unix socket only)',
    );
    open = (l, o) => connectRedis(embedded.url, l, o);
  }
  const opened: RedisClient[] = [];
  // close() waits for the replies still due, behind anything Redis is stuck on (a pause, a slow
  // script): bounded, then cut; all connections at once, before the embedded server stops.
  stops.push(() =>
    Promise.all(
      opened.map(async (redis) => {
        const close = redis.isReady ? redis.close().catch(() => undefined) : Promise.resolve();
        await Promise.race([close, new Promise((r) => setTimeout(r, 1000).unref())]);
        redis.destroy();
      }),
    ),
  );
  return async (name) => {
    const redis = await open(log.child({ redis: name }), opts);
    opened.push(redis);
    return redis;
  };
}

async function main(): Promise<void> {
  let cfg: Config;
  try {
    cfg = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`papgate: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Every template, papgate's and the operator's, is checked before anything starts: a broken one
  // stops the start, naming the file and line, as a bad variable does.
  let templates: TemplateSet;
  try {
    templates = loadTemplates(cfg);
  } catch (err) {
    process.stderr.write(`papgate: template error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(cfg.logLevel);
  // Which Node.js runs the service (`npm start` picks it: scripts/node.sh), and its PID.
  log.info({ node: process.version, pid: process.pid }, 'papgate starting');
  if (cfg.provisioningTemplatesDir !== null)
    log.info(
      { dir: cfg.provisioningTemplatesDir, files: [...templates.files('operator')].map((f) => f.path) },
      "operator templates checked: full and common files use them, the minimal file papgate's own",
    );
  const stops: (() => Promise<unknown>)[] = [];
  /** The edges: they finish their requests and calls in progress first, together, within the grace. */
  const drains: (() => Promise<unknown>)[] = [];
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ graceMs: cfg.shutdownGraceMs }, 'shutting down: finishing requests and calls in progress');
    await Promise.all(
      drains.map((drain) => drain().catch((err: Error) => log.warn({ err: err.message }, 'drain failed'))),
    );
    for (const stop of stops.reverse())
      await stop().catch((err: Error) => log.warn({ err: err.message }, 'shutdown step failed'));
    log.info('stopped');
    process.exit(code);
  };
  // `on`, not `once`: a Ctrl-C reaches papgate twice under `npm start` (from the terminal and from npm),
  // and a second signal must not cut the shutdown (emergency calls, Redis flush).
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    const metrics = new Metrics({ processMetrics: true });
    const connect = await redisConnector(cfg, log, stops, shutdown, metrics);
    // Two connections: the admin API's reads of whole tenants (and the start-up migration) queue
    // thousands of commands, which on one connection held the phones' commands past
    // STORE_TIMEOUT_MS (503 for every tenant's phones).
    const redis = await connect('phones');
    const adminRedis = await connect('admin');
    const alerts = new Alerts({ webhookUrl: cfg.alertWebhookUrl, log: log.child({ edge: 'alerts' }) });
    // Device operations wait for the data to be in the current layout (503 after the store timeout).
    const schema = new Schema(adminRedis, cfg.storeTimeoutMs);
    schema.bringUpToDate(log).catch((err: Error) => {
      log.fatal({ err: err.message }, 'redis data cannot be migrated');
      void shutdown(1);
    });
    const storeOptions: StoreOptions = {
      schema,
      auth: cfg.auth,
      eventsMaxLen: cfg.eventsMaxLen,
      traffic: cfg.traffic,
      onSourceLimited: (c) => alerts.sourceLimited(c),
      onTransition: (from, to) => metrics.transition(from, to),
    };
    const store = new Store(redis, storeOptions);
    // Readiness is the phones' connection: a busy admin API must not take papgate out of a balancer.
    const health = new Health(store, cfg.sip.enabled);

    const token = adminToken(cfg);
    if (token.file)
      log.info(
        { file: token.file },
        token.generated
          ? 'ADMIN_TOKEN not set: generated a token and stored it in this file'
          : 'ADMIN_TOKEN not set: using the token stored in this file',
      );
    for (const warning of [...configWarnings(cfg), ...unknownVariables(process.env)]) log.warn(warning);

    /** The setting items of the effective files the console shows (not the phones': no cache shared). */
    const fileSettings = new FileSettingsSource(
      cfg,
      new Settings(adminRedis, { eventsMaxLen: cfg.eventsMaxLen }),
      EFFECTIVE_FILE_SETTINGS_KEPT,
    );
    let sipService: SipService | undefined;
    const admin = createAdminServer({
      config: cfg,
      store: new Store(adminRedis, storeOptions),
      log: log.child({ edge: 'admin' }),
      adminToken: token.token,
      metrics,
      health,
      // The SIP side starts after the admin API: a check-sync asked before it runs is an error.
      ...(cfg.sip.enabled
        ? {
            checkSync: (tenant: string, mac: Mac) =>
              sipService ? sipService.checkSync(tenant, mac) : Promise.resolve('error' as const),
          }
        : {}),
      effectiveFile: (device) => effectiveFile(cfg, templates, fileSettings, device),
    });
    await listen(admin, cfg.adminHost, cfg.adminPort, { host: 'ADMIN_HOST', port: 'ADMIN_PORT' });
    drains.push(() => closeGracefully(admin, cfg.shutdownGraceMs));
    log.info({ host: cfg.adminHost, port: cfg.adminPort }, 'admin API listening');
    // What a first start needs to sign in: where the token is (`token` itself is a redacted key).
    log.info(
      { url: consoleUrl(cfg.adminHost, cfg.adminPort), tokenFrom: token.file ?? 'ADMIN_TOKEN' },
      'operator console: sign in with the admin token',
    );
    if (cfg.metrics.serve === 'own') {
      const m = createMetricsServer(cfg, { metrics, health });
      await listen(m, cfg.metrics.host, cfg.metrics.port, { host: 'METRICS_HOST', port: 'METRICS_PORT' });
      drains.push(() => closeGracefully(m, cfg.shutdownGraceMs));
      log.info({ host: cfg.metrics.host, port: cfg.metrics.port }, 'metrics listening');
    } else if (cfg.metrics.serve === 'off') {
      log.warn('ADMIN_HOST is not loopback: /metrics is off (set METRICS_PORT, or METRICS_PUBLIC=1)');
    }

    const provisioningDeps = {
      config: cfg,
      store,
      log: log.child({ edge: 'provisioning' }),
      metrics,
      templates,
    };
    if (cfg.provisioningHttp) {
      const provisioning = createProvisioningServer(provisioningDeps);
      await listen(provisioning, cfg.provisioningHost, cfg.provisioningPort, {
        host: 'PROVISIONING_HOST',
        port: 'PROVISIONING_PORT',
      });
      drains.push(() => closeGracefully(provisioning, cfg.shutdownGraceMs));
      log.info({ host: cfg.provisioningHost, port: cfg.provisioningPort }, 'provisioning server listening');
    }
    const tls = cfg.provisioningTls;
    if (tls) {
      const secure = createProvisioningServer({ ...provisioningDeps, tls });
      // A renewed certificate (or CA bundle) without a restart; a bad file keeps the old ones.
      process.on('SIGHUP', () => {
        try {
          reloadTls(secure, tls);
          log.info({ cert: tls.certFile }, 'provisioning TLS files reloaded');
        } catch (err) {
          log.error(
            { err: (err as Error).message },
            'provisioning TLS reload failed: still serving the old files',
          );
        }
      });
      await listen(secure, cfg.provisioningHost, tls.port, {
        host: 'PROVISIONING_HOST',
        port: 'PROVISIONING_TLS_PORT',
      });
      drains.push(() => closeGracefully(secure, cfg.shutdownGraceMs));
      log.info(
        { host: cfg.provisioningHost, port: tls.port, deviceCa: tls.deviceCaFile !== null },
        'provisioning HTTPS server listening',
      );
    }

    if (cfg.sip.enabled) {
      const sip = (sipService = await startSipService({
        config: cfg,
        store,
        redis,
        log: log.child({ edge: 'sip' }),
        metrics,
      }));
      metrics.watchSip(sip);
      health.watchSip(sip);
      drains.push(() => sip.stop(cfg.shutdownGraceMs));
    } else {
      log.warn('DRACHTIO_HOST not set: SIP registrar and IVR are off (HTTP side only)');
    }
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'start-up failed');
    await shutdown(1);
  }
}

void main();
