import {
  createClient,
  createCluster,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
} from 'redis';
import type { Logger } from 'pino';

export type RedisClient = ReturnType<typeof createClient>;
type RedisCluster = ReturnType<typeof createCluster>;

const clusters = new WeakSet<object>();

/**
 * Sends a raw command. On a cluster the slot is picked by `firstKey`: node-redis 4 routes EVAL and
 * EVALSHA by the script instead of their first key (redis/node-redis#2811), so scripts go this way.
 */
export function sendRaw(redis: RedisClient, firstKey: string | undefined, args: string[]): Promise<unknown> {
  if (clusters.has(redis)) return (redis as unknown as RedisCluster).sendCommand(firstKey, false, args);
  return redis.sendCommand(args);
}

/**
 * Commands fail at once while the connection is down (no offline queue): callers answer 503 or
 * refuse the PAP instead of hanging, and the client keeps reconnecting in the background. With
 * `waitForFirst: false` it returns before the first connection, so the service can listen (and
 * answer 503) while an external Redis is still away.
 */
export async function connectRedis(url: string, log: Logger, waitForFirst = true): Promise<RedisClient> {
  const client: RedisClient = createClient({ url, ...CLIENT_OPTIONS });
  return connected(client, log, waitForFirst);
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
  waitForFirst = true,
): Promise<RedisClient> {
  const cluster = createCluster({ rootNodes: nodes.map((url) => ({ url })), defaults: CLIENT_OPTIONS });
  clusters.add(cluster);
  return connected(cluster as unknown as RedisClient, log, waitForFirst);
}

const CLIENT_OPTIONS = {
  disableOfflineQueue: true,
  socket: {
    connectTimeout: 2000,
    reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000),
  },
};

async function connected(client: RedisClient, log: Logger, waitForFirst: boolean): Promise<RedisClient> {
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) log.error({ err: err.message }, 'redis connection error');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info('redis connection restored');
    down = false;
  });
  const first = client.connect();
  if (waitForFirst) await first;
  else first.catch((err: Error) => log.error({ err: err.message }, 'redis connection failed'));
  return client;
}

const UNAVAILABLE = [
  ClientOfflineError,
  ClientClosedError,
  ConnectionTimeoutError,
  SocketClosedUnexpectedlyError,
  ReconnectStrategyError,
];

/** True for errors meaning "Redis is not there right now" (edges answer 503), not for bugs. */
export function isStoreUnavailable(err: unknown): boolean {
  if (UNAVAILABLE.some((cls) => err instanceof cls)) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code)
  );
}
