import {
  createClient,
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  ReconnectStrategyError,
  SocketClosedUnexpectedlyError,
} from 'redis';
import type { Logger } from 'pino';
import type { RedisClient } from './store';

/**
 * Commands fail at once while the connection is down (no offline queue): callers answer 503 or
 * refuse the PAP instead of hanging, and the client keeps reconnecting in the background. With
 * `waitForFirst: false` it returns before the first connection, so the service can listen (and
 * answer 503) while an external Redis is still away.
 */
export async function connectRedis(url: string, log: Logger, waitForFirst = true): Promise<RedisClient> {
  const client: RedisClient = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) log.error({ err: err.message }, 'redis connection error');
    down = true;
  });
  client.on('ready', () => {
    if (down) log.info('redis connection restored');
    down = false;
  });
  const connected = client.connect();
  if (waitForFirst) await connected;
  else connected.catch((err: Error) => log.error({ err: err.message }, 'redis connection failed'));
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
