import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { startEmbeddedRedis, type EmbeddedRedis } from '../../src/store/embedded';
import { connectRedis } from '../../src/store/connect';
import { Store, type RedisClient } from '../../src/store/store';
import type { AuthPolicy } from '../../src/domain/auth';
import pino from 'pino';

export const silentLog = pino({ level: 'silent' });

export const FAST_POLICY: AuthPolicy = {
  maxConsecutiveFailures: 3,
  failedLockSeconds: 1,
  maxTotalFailures: 9,
  suspendSeconds: 1,
  tempWhitelistSeconds: 2,
};

/** One throwaway redis-server on a free loopback port per test file. */
export class TestRedis {
  server!: EmbeddedRedis;
  client!: RedisClient;
  private dir = '';

  async start(): Promise<this> {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-redis-'));
    this.server = await startEmbeddedRedis({ bin: 'redis-server', dir: this.dir, persistent: false });
    this.client = await connectRedis(this.server.url, silentLog);
    return this;
  }

  store(policy: AuthPolicy = FAST_POLICY, now?: () => number): Store {
    return new Store(this.client, { auth: policy, eventsMaxLen: 10000, ...(now ? { now } : {}) });
  }

  async flush(): Promise<void> {
    await this.client.flushAll();
  }

  async stop(): Promise<void> {
    await this.client.quit().catch(() => undefined);
    await this.server.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
