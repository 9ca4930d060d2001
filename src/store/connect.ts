import { createClient } from 'redis';
import type { Logger } from 'pino';
import type { RedisClient } from './store';

/**
 * Commands fail at once while the connection is down (no offline queue): callers answer 503 or
 * refuse the PAP instead of hanging, and the client keeps reconnecting in the background.
 */
export async function connectRedis(url: string, log: Logger): Promise<RedisClient> {
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
  await client.connect();
  return client;
}
