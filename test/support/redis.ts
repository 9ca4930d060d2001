import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { freePort, startEmbeddedRedis, type EmbeddedRedis } from '../../src/store/embedded';
import { connectRedis, connectRedisCluster } from '../../src/store/connect';
import { Store, type RedisClient } from '../../src/store/store';
import { Settings } from '../../src/store/settings';
import { FileSettingsSource } from '../../src/provisioning/settings';
import type { Config } from '../../src/config';
import type { AuthPolicy } from '../../src/domain/auth';
import pino from 'pino';
import { parseNewDevice } from '../../src/domain/device';

export const silentLog = pino({ level: 'silent' });

/** A logger whose lines land, parsed, in `lines` (pino writes to it synchronously). */
export function capturedLog(level = 'info') {
  const lines: { msg: string; [field: string]: unknown }[] = [];
  const log = pino({ level }, { write: (l: string) => lines.push(JSON.parse(l)) });
  return { log, lines, count: (msg: string) => lines.filter((l) => l.msg.startsWith(msg)).length };
}

export const FAST_POLICY: AuthPolicy = {
  maxConsecutiveFailures: 3,
  failedLockSeconds: 1,
  maxTotalFailures: 9,
  suspendSeconds: 1,
  tempWhitelistSeconds: 2,
};

/** Tenant `acme` with one Yealink device, the state most edge tests start from. */
export async function seedDevice(store: Store, mac: string, tenant = 'acme'): Promise<void> {
  await store.putTenant(tenant, { name: 'Acme', language: null }, 'test');
  const res = await store.createDevices(
    tenant,
    [parseNewDevice({ mac, vendor: 'yealink', model: 'T54W', site: 'HQ' })],
    'test',
  );
  if (res === 'unknown_tenant' || !res.ok) throw new Error(`cannot create device: ${JSON.stringify(res)}`);
}

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
    await this.client.close().catch(() => undefined);
    await this.server.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A throwaway three-master Redis Cluster on loopback (redis-server in cluster mode, joined with
 * `redis-cli --cluster create`), for proving the store's key layout and commands on a cluster.
 */
export class TestCluster {
  client!: RedisClient;
  private nodes: EmbeddedRedis[] = [];
  private dir = '';

  /** `password`: every node requires it (requirepass, and masterauth between nodes). */
  constructor(private readonly password?: string) {}

  async start(): Promise<this> {
    const auth =
      this.password === undefined ? [] : ['--requirepass', this.password, '--masterauth', this.password];
    // redis-cli takes the password from its environment, never from its command line
    const cli = {
      env: { ...process.env, ...(this.password === undefined ? {} : { REDISCLI_AUTH: this.password }) },
    };
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-cluster-'));
    for (let i = 0; i < 3; i++) {
      let port = await freePort();
      // the cluster bus listens on port + 10000
      while (port > 55000) port = await freePort();
      const dir = path.join(this.dir, String(i));
      this.nodes.push(
        await startEmbeddedRedis({
          bin: 'redis-server',
          dir,
          persistent: false,
          port,
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            path.join(dir, 'nodes.conf'),
            ...auth,
          ],
        }),
      );
    }
    const addrs = this.nodes.map((n) => `127.0.0.1:${n.port}`);
    execFileSync('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], {
      ...cli,
      stdio: 'ignore',
    });
    // Every node must agree before clients route by slot (right after `create` they may not yet).
    for (const n of this.nodes) {
      for (let i = 0; ; i++) {
        const info = execFileSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], cli).toString();
        if (/cluster_state:ok/.test(info)) break;
        if (i > 100) throw new Error(`cluster node ${n.port} not ok`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.client = await connectRedisCluster(this.urls, silentLog);
    return this;
  }

  /** The nodes' URLs, with the password when there is one. */
  get urls(): string[] {
    const userinfo = this.password === undefined ? '' : `:${encodeURIComponent(this.password)}@`;
    return this.nodes.map((n) => `redis://${userinfo}127.0.0.1:${n.port}`);
  }

  get ports(): number[] {
    return this.nodes.map((n) => n.port);
  }

  store(policy: AuthPolicy = FAST_POLICY): Store {
    return new Store(this.client, { auth: policy, eventsMaxLen: 10000 });
  }

  async stop(): Promise<void> {
    await this.client?.close().catch(() => undefined);
    await Promise.all(this.nodes.map((n) => n.stop()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The setting items of effective files (src/provisioning/effective.ts), read from `client`. */
export function fileSettingsFor(config: Config, client: RedisClient): FileSettingsSource {
  return new FileSettingsSource(config, new Settings(client, { eventsMaxLen: 10000 }), 100);
}
