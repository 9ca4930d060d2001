import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config';
import { parseNewDevice, type SipAccount, type Vendor } from '../../src/domain/device';
import type { Mac } from '../../src/domain/mac';
import { createProvisioningServer } from '../../src/provisioning/server';
import type { Store } from '../../src/store/store';
import { FAST_POLICY, silentLog, TestRedis } from './redis';
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * One HTTP request over loopback. `from` is the source address (127.0.0.2, 127.0.0.3, ...), so a
 * test can stand in for different customer networks. `path` is sent exactly as given.
 */
export function request(
  port: number,
  path: string,
  opts: {
    from?: string;
    method?: string;
    headers?: http.OutgoingHttpHeaders;
    body?: string;
    host?: string;
  } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: opts.host ?? '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        agent: false,
        ...(opts.from ? { localAddress: opts.from } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/**
 * A phone fetching its file again and again over one kept-alive connection from `from`, its
 * answers' statuses: a new connection per GET from one address soon meets its own TIME_WAIT
 * leftovers, and the kernel's 1 s SYN retry would be timed instead of papgate.
 */
export class KeptAlivePhone {
  private readonly agent: http.Agent;

  constructor(from = '127.0.0.2') {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: from });
  }

  get(port: number, path: string): Promise<number> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path, agent: this.agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        })
        .on('error', reject);
    });
  }

  /** Fetches `path` one GET after the other while `work` runs: its answer, their statuses, the slowest. */
  async during<T>(
    port: number,
    path: string,
    work: () => Promise<T>,
  ): Promise<{ result: T; statuses: number[]; worstMs: number }> {
    let done = false;
    let worstMs = 0;
    const statuses: number[] = [];
    const timing = (async () => {
      while (!done) {
        const t0 = performance.now();
        statuses.push(await this.get(port, path));
        worstMs = Math.max(worstMs, performance.now() - t0);
      }
    })();
    try {
      return { result: await work(), statuses, worstMs };
    } finally {
      done = true;
      await timing;
    }
  }

  destroy(): void {
    this.agent.destroy();
  }
}

export const ACCOUNT: SipAccount = {
  server: 'sip.acme.example:5080',
  user: 'acme-4711',
  authUser: 'acme-auth-4711',
  password: 'S3cret-acme-pw',
  displayName: 'Alice Acme',
};
/** Strings of the tenant's that must never appear in a minimal configuration. */
export const TENANT_SECRETS = ['S3cret-acme-pw', 'acme-4711', 'Alice Acme', 'sip.acme.example'];

/** A provisioning server on 127.0.0.1 over a TestRedis, with a clock the test moves. */
export class ProvisioningFixture {
  readonly redis = new TestRedis();
  clock = Date.now();
  config!: Config;
  store!: Store;
  app!: FastifyInstance;
  port = 0;

  constructor(private readonly env: Record<string, string> = {}) {}

  async start(): Promise<this> {
    await this.redis.start();
    this.config = loadConfig({
      PROVISIONING_BASE_URL: 'http://prov.papgate.test:8081',
      SIP_REGISTRAR: 'auth.papgate.test:5070',
      SIP_REALM: 'papgate',
      PROVISIONING_MISS_LIMIT: '5',
      PROVISIONING_MISS_WINDOW_SECONDS: '60',
      ...this.env,
    });
    this.store = this.redis.store(FAST_POLICY, () => this.clock);
    this.app = createProvisioningServer({
      config: this.config,
      store: this.store,
      log: silentLog,
      now: () => this.clock,
    });
    await this.app.listen({ host: '127.0.0.1', port: 0 });
    this.port = (this.app.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await this.app.close();
    await this.redis.stop();
  }

  /** Runs `fn` with a second papgate process's provisioning port: its own memory, the same Redis. */
  async withOtherProcess<T>(fn: (port: number) => Promise<T>): Promise<T> {
    const other = createProvisioningServer({
      config: this.config,
      store: this.store,
      log: silentLog,
      now: () => this.clock,
    });
    await other.listen({ host: '127.0.0.1', port: 0 });
    try {
      return await fn((other.server.address() as AddressInfo).port);
    } finally {
      await other.close();
    }
  }

  async device(
    vendor: Vendor,
    model: string,
    mac: string,
    opts: { tenant?: string; accounts?: SipAccount[]; site?: string } = {},
  ): Promise<{ mac: Mac; pap: string; sipPassword: string }> {
    const tenant = opts.tenant ?? 'acme';
    await this.store.putTenant(tenant, { name: tenant, language: null }, 'test');
    const res = await this.store.createDevices(
      tenant,
      [parseNewDevice({ mac, vendor, model, site: opts.site ?? 'HQ', accounts: opts.accounts ?? [ACCOUNT] })],
      'test',
    );
    if (res === 'unknown_tenant' || !res.ok) throw new Error(`cannot create device: ${JSON.stringify(res)}`);
    const d = (await this.store.findDevice(res.devices[0]!.mac))!;
    return { mac: d.mac, pap: res.devices[0]!.pap, sipPassword: d.sipPassword };
  }
}

/** The credential a full configuration carries in its provisioning URL. */
export function credentialIn(body: string): string | null {
  return /\/d\/([0-9a-f]{32})\//.exec(body)?.[1] ?? null;
}
