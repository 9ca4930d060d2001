import {
  createClient,
  createCluster,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  ErrorReply,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
  type RedisClientOptions,
} from 'redis';
import type { Logger } from 'pino';
import type { Metrics } from '../lib/metrics';

export type RedisClient = ReturnType<typeof createClient>;
type RedisCluster = ReturnType<typeof createCluster>;

const clusters = new WeakSet<object>();

/** Whether `redis` is a Cluster client (scripts may then only touch keys of one slot). */
export function isCluster(redis: RedisClient): boolean {
  return clusters.has(redis);
}

/**
 * Sends a raw command. On a cluster the slot is picked by `firstKey`: node-redis 4 routes EVAL and
 * EVALSHA by the script instead of their first key (redis/node-redis#2811), so scripts go this way.
 */
export function sendRaw(redis: RedisClient, firstKey: string | undefined, args: string[]): Promise<unknown> {
  if (clusters.has(redis)) return (redis as unknown as RedisCluster).sendCommand(firstKey, false, args);
  return redis.sendCommand(args);
}

export interface ConnectOptions {
  /** Return before the first connection, so the service can listen (and answer 503) while an
   * external Redis is still away. */
  readonly waitForFirst?: boolean;
  /** A command unanswered this long fails with StoreTimeoutError (default 2000). */
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
  const client: RedisClient = createClient({
    ...CLIENT_OPTIONS,
    ...clientOptions(url, CLIENT_OPTIONS.socket),
  });
  return connected(client, log, opts);
}

/** How the embedded server's unix socket is named where a URL is expected: `unix:///path/redis.sock`. */
export const UNIX_URL_PREFIX = 'unix://';

/**
 * node-redis's options for `url`: a `redis://` or `rediss://` URL (credentials and database
 * included, node-redis reads them), or UNIX_URL_PREFIX and a socket's path.
 */
export function clientOptions(url: string, socket: SocketOptions): RedisClientOptions {
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
 * hash tag (see README.md here); scripts are routed by their first key through sendRaw, every other
 * command by the cluster client itself, whose command methods are the single client's, so the store
 * takes it as a RedisClient.
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

async function connected(raw: RedisClient, log: Logger, opts: ConnectOptions): Promise<RedisClient> {
  const outage = new OutageLog(log, opts.outageLogIntervalMs ?? 30_000);
  raw.on('error', (err: Error) => outage.failed(err));
  raw.on('ready', () => outage.recovered());
  const client = withTimeouts(raw, opts.commandTimeoutMs ?? 2000, outage, opts.metrics);
  const first = raw.connect();
  if (opts.waitForFirst ?? true) await first;
  else first.catch((err: Error) => outage.failed(err));
  return client;
}

/** Raised for a command Redis did not answer in time; the command may still run later. */
export class StoreTimeoutError extends Error {
  constructor(ms: number) {
    super(`redis did not answer within ${ms} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/**
 * The deadlines of the commands in flight. With one timeout for all, deadlines come in the order
 * commands were sent, so one sweep timer (running only while commands are in flight) replaces a
 * timer per command on the hot path; a deadline is met within a tenth of the timeout.
 */
interface Deadline {
  readonly deadline: number;
  readonly expire: () => void;
}

class DeadlineQueue {
  private readonly pending = new Set<Deadline>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly ms: number) {}

  add(expire: () => void): Deadline {
    const entry = { deadline: performance.now() + this.ms, expire };
    this.pending.add(entry);
    this.timer ??= setInterval(() => this.sweep(), Math.max(5, this.ms / 10)).unref();
    return entry;
  }

  /** False when the deadline has already passed (the command was answered as timed out). */
  settle(entry: Deadline): boolean {
    return this.pending.delete(entry);
  }

  private sweep(): void {
    const now = performance.now();
    for (const entry of this.pending) {
      if (entry.deadline > now) break;
      this.pending.delete(entry);
      entry.expire();
    }
    if (this.pending.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

/** Methods that manage the connection itself rather than send a command. */
const UNTIMED = new Set<PropertyKey>(['connect', 'disconnect', 'quit', 'QUIT', 'on', 'once', 'off']);

/**
 * The client with a deadline on every command (node-redis 4 has none: a paused or stuck server
 * would hold a request, a REGISTER or an IVR call forever) and every outcome reported to the
 * outage log, so edges need not log store failures per request.
 */
function withTimeouts(
  raw: RedisClient,
  ms: number,
  outage: OutageLog,
  metrics?: ConnectOptions['metrics'],
): RedisClient {
  const deadlines = new DeadlineQueue(ms);
  const watch = <T>(p: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const start = metrics ? performance.now() : 0;
      const answered = () => metrics?.storeLatency.observe((performance.now() - start) / 1000);
      const pending = deadlines.add(() => {
        const err = new StoreTimeoutError(ms);
        outage.failed(err);
        metrics?.storeError('timeout');
        reject(err);
      });
      p.then(
        (v) => {
          if (!deadlines.settle(pending)) return;
          answered();
          outage.recovered();
          resolve(v);
        },
        (err: unknown) => {
          // A command that timed out is one failure, however it ends.
          if (!deadlines.settle(pending)) return;
          // Any other error reply is a bug or a bad argument: it says nothing about availability.
          if (isStoreUnavailable(err)) {
            outage.failed(err);
            metrics?.storeError('unavailable');
          } else {
            answered();
            // NOSCRIPT is the expected first answer after a restart: LuaScript.run sends EVAL then.
            if (!(err instanceof ErrorReply && err.message.startsWith('NOSCRIPT')))
              metrics?.storeError('error');
          }
          reject(err);
        },
      );
    });
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(raw, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      let w = wrapped.get(prop);
      if (w === undefined) {
        // Bound to the client itself: its methods use private fields, which a proxy lacks.
        const fn = v as (...args: unknown[]) => unknown;
        w = UNTIMED.has(prop)
          ? fn.bind(target)
          : (...args: unknown[]) => {
              const r = fn.apply(target, args);
              if (r instanceof Promise) return watch(r);
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
  StoreTimeoutError,
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
