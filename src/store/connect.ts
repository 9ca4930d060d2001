import {
  createClient,
  createCluster,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  ErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  TimeoutError,
  TimeoutReadError,
} from 'redis';
import type { Logger } from 'pino';
import type { Metrics } from '../lib/metrics';

/**
 * RESP2, the protocol node-redis 4 spoke; node-redis 6 speaks RESP3 unless told. For the commands
 * and scripts papgate sends it gives the same values under both, but RESP3 needs HELLO (Redis 6 and
 * later) and turns on its Redis Enterprise maintenance handling, which relaxes the command timeout
 * during a maintenance window. RESP2 keeps what papgate asks of an external Redis, and its
 * deadlines, as they were.
 */
const PROTOCOL = 2;

/** The client papgate uses: a single server's, or a cluster's taken as one (connectRedisCluster). */
export type RedisClient = ReturnType<typeof newClient>;

function newClient(url: string, opts: ConnectOptions) {
  return createClient({
    ...CLIENT_OPTIONS,
    ...clientOptions(url, CLIENT_OPTIONS.socket),
    RESP: PROTOCOL,
    commandOptions: commandOptions(opts),
  });
}

const clusters = new WeakSet<object>();

/** Whether `redis` is a Cluster client (scripts may then only touch keys of one slot). */
export function isCluster(redis: RedisClient): boolean {
  return clusters.has(redis);
}

export interface ConnectOptions {
  /** Return before the first connection, so the service can listen (and answer 503) while an
   * external Redis is still away. */
  readonly waitForFirst?: boolean;
  /** A command unanswered this long fails with a timeout (isStoreTimeout; default 2000). */
  readonly commandTimeoutMs?: number;
  /** At most one outage log line per this interval (default 30 s). */
  readonly outageLogIntervalMs?: number;
  /** Every command's latency and every failure is counted here. */
  readonly metrics?: Pick<Metrics, 'storeLatency' | 'storeError'>;
}

/**
 * Commands fail at once while the connection is down (no offline queue) and after
 * `commandTimeoutMs` when the server does not answer (paused, overloaded): callers answer 503 or
 * refuse the PAP instead of hanging, and the client keeps reconnecting in the background.
 */
export async function connectRedis(
  url: string,
  log: Logger,
  opts: ConnectOptions = {},
): Promise<RedisClient> {
  return connected(newClient(url, opts), log, opts);
}

/** How the embedded server's unix socket is named where a URL is expected: `unix:///path/redis.sock`. */
export const UNIX_URL_PREFIX = 'unix://';

/**
 * node-redis's options for `url`: a `redis://` or `rediss://` URL (credentials and database
 * included, node-redis reads them), or UNIX_URL_PREFIX and a socket's path. node-redis 6 reads
 * `unix://` URLs too, but as URIs: it percent-decodes the path and ends it at `?` or `#`, which a
 * DATA_DIR may hold; the socket's path is passed as it is.
 */
export function clientOptions(
  url: string,
  socket: SocketOptions,
): { url?: string; socket: SocketOptions & { path?: string } } {
  if (url.startsWith(UNIX_URL_PREFIX))
    return { socket: { ...socket, path: url.slice(UNIX_URL_PREFIX.length) } };
  return { url, socket };
}

interface SocketOptions {
  readonly connectTimeout: number;
  readonly reconnectStrategy: false | ((retries: number) => number);
}

/**
 * A Redis Cluster client. The store only issues single-key commands and scripts whose keys share a
 * hash tag (see README.md here); the cluster client routes each by its first key (scripts too: the
 * keys of `evalSha`), and its command methods are the single client's, so the store takes it as a
 * RedisClient.
 * test/cluster.test.ts runs the store against a real three-node cluster.
 */
export async function connectRedisCluster(
  nodes: readonly string[],
  log: Logger,
  opts: ConnectOptions = {},
): Promise<RedisClient> {
  const cluster = createCluster({
    rootNodes: nodes.map((url) => ({ url })),
    // node-redis connects to the nodes it discovers with `defaults` alone, not a seed's URL: without
    // the seeds' credentials here every command would meet NOAUTH.
    defaults: { ...CLIENT_OPTIONS, ...credentials(nodes[0] ?? '') },
    RESP: PROTOCOL,
    commandOptions: commandOptions(opts),
  });
  const client = await connected(cluster as unknown as RedisClient, log, opts);
  clusters.add(client);
  return client;
}

/** The user name and password of a `redis://user:password@host` URL, as node-redis reads them. */
function credentials(url: string): { username?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return {};
  }
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

const CLIENT_OPTIONS = {
  disableOfflineQueue: true,
  socket: {
    connectTimeout: 2000,
    reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
  },
};

/**
 * Every command's deadline, kept by node-redis. Its `timeout` alone only covers a command still
 * waiting to be written; `rejectInFlight` extends it to a written command whose reply does not
 * come (a paused or stuck server would otherwise hold a request, a REGISTER or an IVR call
 * forever). That command may still run later; its late reply is dropped. `rejectInFlight` is
 * marked experimental in node-redis 6.4: test/edges.test.ts (CLIENT PAUSE) holds it to this.
 */
function commandOptions(opts: ConnectOptions) {
  return { timeout: opts.commandTimeoutMs ?? 2000, rejectInFlight: true };
}

async function connected(raw: RedisClient, log: Logger, opts: ConnectOptions): Promise<RedisClient> {
  const outage = new OutageLog(log, opts.outageLogIntervalMs ?? 30_000);
  raw.on('error', (err: Error) => outage.failed(err));
  raw.on('ready', () => outage.recovered());
  const client = observed(raw, outage, opts.metrics);
  const first = raw.connect();
  if (opts.waitForFirst ?? true) await first;
  else first.catch((err: Error) => outage.failed(err));
  return client;
}

/** A command Redis did not answer in time (node-redis's deadline); it may still run later. */
export function isStoreTimeout(err: unknown): boolean {
  return err instanceof TimeoutError || err instanceof TimeoutReadError;
}

/** Methods that manage the connection itself rather than send a command. */
const UNOBSERVED = new Set<PropertyKey>([
  'connect',
  'close',
  'destroy',
  'quit',
  'QUIT',
  'disconnect',
  'on',
  'once',
  'off',
]);

/**
 * The client with every command's outcome reported to the outage log and the metrics, so edges
 * need not log store failures per request. node-redis 6 has no hook per client for this: its
 * diagnostics_channel events are process-wide and name each node connection, not this client.
 */
function observed(raw: RedisClient, outage: OutageLog, metrics?: ConnectOptions['metrics']): RedisClient {
  const watch = <T>(p: Promise<T>): Promise<T> => {
    const start = metrics ? performance.now() : 0;
    const answered = () => metrics?.storeLatency.observe((performance.now() - start) / 1000);
    return p.then(
      (v) => {
        answered();
        outage.recovered();
        return v;
      },
      (err: unknown) => {
        if (isStoreTimeout(err)) {
          outage.failed(err);
          metrics?.storeError('timeout');
        } else if (isStoreUnavailable(err)) {
          outage.failed(err);
          metrics?.storeError('unavailable');
        } else {
          // Any other error reply is a bug or a bad argument: it says nothing about availability.
          answered();
          // NOSCRIPT is the expected first answer after a restart: LuaScript.run sends EVAL then.
          if (!(err instanceof ErrorReply && err.message.startsWith('NOSCRIPT')))
            metrics?.storeError('error');
        }
        throw err;
      },
    );
  };
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(raw, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      let w = wrapped.get(prop);
      if (w === undefined) {
        // Bound to the client itself: its methods use private fields, which a proxy lacks.
        const fn = v as (...args: unknown[]) => unknown;
        w = UNOBSERVED.has(prop)
          ? fn.bind(target)
          : (...args: unknown[]) => {
              const r = fn.apply(target, args);
              if (r instanceof Promise) return watch(r);
              // The same client answering in other types (sites.ts): its commands are observed too.
              if (prop === 'withTypeMapping') return observed(r as RedisClient, outage, metrics);
              // MULTI builders return themselves until exec() sends the transaction.
              if ((prop === 'multi' || prop === 'MULTI') && r !== null && typeof r === 'object') {
                const m = r as { exec: (...a: unknown[]) => Promise<unknown> };
                const exec = m.exec.bind(m);
                m.exec = (...a: unknown[]) => watch(exec(...a));
              }
              return r;
            };
        wrapped.set(prop, w);
      }
      return w;
    },
  });
}

/**
 * One line when the store becomes unavailable, at most one per interval while it lasts (with the
 * count of failed commands, each a refused request or call), one when it is back: a 15 s outage
 * under load used to write one line per refused request. A store that flaps between answering and
 * failing still writes at most two lines per interval; failures not yet written are counted in the
 * next line.
 */
export class OutageLog {
  private since: number | null = null;
  private failures = 0;
  /** What the last line said: nothing yet, Redis loading its data, or unavailable. */
  private announced: 'no' | 'loading' | 'unavailable' = 'no';
  /**
   * Until the connection is first up (or its first attempt fails), a command meets "the client is
   * offline" (papgate starts its work while an external Redis is still being connected to): a
   * start, not an outage. A failed attempt is reported by the connection itself.
   */
  private starting = true;
  private lastLine = -Infinity;

  constructor(
    private readonly log: Logger,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A server reading its data after a start answers LOADING until it is done: every start of
   * papgate with a persistent store sees it, so it is logged at info, not as an outage. Anything
   * else after it is an outage and logged at once.
   */
  failed(err: unknown): void {
    if (this.starting && err instanceof ClientOfflineError) return;
    this.starting = false;
    const t = this.now();
    this.failures++;
    this.since ??= t;
    const loading = err instanceof ErrorReply && err.message.startsWith('LOADING');
    const worse = !loading && this.announced === 'loading';
    if (t - this.lastLine < this.intervalMs && !worse) return;
    this.lastLine = t;
    const fields = {
      err: err instanceof Error ? err.message : String(err),
      failures: this.failures,
      sinceMs: t - this.since,
    };
    if (loading && this.announced !== 'unavailable')
      this.log.info(
        fields,
        this.announced === 'loading'
          ? 'redis still loading its data'
          : 'redis loading its data: refusing requests until it is done',
      );
    else
      this.log.error(
        fields,
        this.announced === 'unavailable'
          ? 'redis still unavailable'
          : 'redis unavailable: refusing requests until it is back',
      );
    this.announced = loading && this.announced !== 'unavailable' ? 'loading' : 'unavailable';
  }

  recovered(): void {
    this.starting = false;
    if (this.announced === 'no') return;
    const t = this.now();
    this.log.info({ failures: this.failures, durationMs: t - (this.since ?? t) }, 'redis available again');
    this.lastLine = t;
    this.announced = 'no';
    this.since = null;
    this.failures = 0;
  }
}

/** Raised while the database is still being brought to the current layout (schema.ts). */
export class StoreNotReadyError extends Error {
  constructor() {
    super('redis data is being migrated to the current layout');
    this.name = 'StoreNotReadyError';
  }
}

const UNAVAILABLE = [
  StoreNotReadyError,
  ClientOfflineError,
  ClientClosedError,
  ConnectionTimeoutError,
  SocketClosedUnexpectedlyError,
  ReconnectStrategyError,
  TimeoutError,
  TimeoutReadError,
];

/** Replies of a server that is there but cannot serve yet: loading its data, failing over. */
const UNAVAILABLE_REPLIES = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|READONLY|NOREPLICAS)\b/;

/** True for errors meaning "Redis is not there right now" (edges answer 503), not for bugs. */
export function isStoreUnavailable(err: unknown): boolean {
  if (UNAVAILABLE.some((cls) => err instanceof cls)) return true;
  if (err instanceof ErrorReply) return UNAVAILABLE_REPLIES.test(err.message);
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code)
  );
}
