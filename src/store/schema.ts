import type { Logger } from 'pino';
import type { BypassReason } from '../domain/auth';
import { isAuthState, type Device, type Language, type SipAccount, type Vendor } from '../domain/device';
import { isCluster, isStoreUnavailable, StoreNotReadyError, type RedisClient } from './connect';
import { deviceRecord, toNum } from './device-record';
import { keys } from './keys';
import { scripts } from './scripts';

/**
 * The layout of the data in Redis, kept in `papgate:schema` (absent: 1).
 * 1: a STRING `papgate:mac:{<mac>}` per MAC; device hashes with long field names, the accounts as
 *    JSON, the MAC and empty fields stored.
 * 2: the MAC index in 4096 bucket hashes; device hashes as device-record.ts writes them.
 */
export const SCHEMA_VERSION = 2;

interface MigrationReport {
  readonly from: number;
  readonly macs: number;
  readonly devices: number;
}

/** Never JSON.parse's own message: it quotes the text, and that holds SIP passwords. */
function layout1Accounts(text: string | undefined): SipAccount[] {
  try {
    return JSON.parse(text ?? '[]') as SipAccount[];
  } catch {
    throw new Error('corrupt device record (its accounts are not JSON)');
  }
}

/** A device hash of layout 1, as papgate wrote it then. */
function deviceOfLayout1(h: Record<string, string>): Omit<Device, 'tenant' | 'mac'> {
  if (!isAuthState(h.state)) throw new Error(`corrupt device record (state "${h.state}")`);
  const lastAt = toNum(h.lastProvAt);
  return {
    vendor: h.vendor as Vendor,
    model: h.model ?? '',
    site: h.site ?? '',
    language: (h.language || null) as Language | null,
    accounts: layout1Accounts(h.accounts),
    createdAt: Number(h.createdAt),
    pap: h.pap ?? '',
    generation: Number(h.gen ?? 0),
    state: h.state,
    consecutiveFailures: Number(h.consec ?? 0),
    totalFailures: Number(h.total ?? 0),
    failedUntil: toNum(h.failedUntil),
    suspendedUntil: toNum(h.suspendedUntil),
    suspensionNetwork: null,
    credentialHash: h.credHash || null,
    digestCredential: null,
    challenged: null,
    needsReset: null,
    userAgentMismatch: null,
    disabledAt: null,
    sipPassword: h.sipPassword ?? '',
    authenticatedAt: toNum(h.authAt),
    authenticatedVia: (h.authVia || null) as BypassReason | null,
    lastProvisioning:
      lastAt === null ? null : { at: lastAt, ip: h.lastProvIp ?? '', outcome: h.lastProvOutcome ?? '' },
  };
}

/**
 * Runs `each` over `keys`, BATCH at a time: the client pipelines a batch's commands, so a large
 * database migrates in round trips per batch, not per key (every device waits for the migration).
 */
async function inBatches(
  keys: AsyncIterable<string>,
  each: (key: string) => Promise<boolean>,
): Promise<number> {
  const BATCH = 200;
  let done = 0;
  let batch: string[] = [];
  const flush = async () => {
    done += (await Promise.all(batch.map(each))).filter(Boolean).length;
    batch = [];
  };
  for await (const key of keys) {
    batch.push(key);
    if (batch.length === BATCH) await flush();
  }
  await flush();
  return done;
}

/** Keys matching `match` on every master (SCAN sees one server only). */
async function* scanAll(redis: RedisClient, match: string, type: string): AsyncGenerator<string> {
  const cluster = redis as unknown as {
    masters: unknown[];
    nodeClient(node: unknown): RedisClient | Promise<RedisClient>;
  };
  const nodes = isCluster(redis)
    ? await Promise.all(cluster.masters.map((m) => cluster.nodeClient(m)))
    : [redis];
  for (const node of nodes)
    for await (const batch of node.scanIterator({ MATCH: match, TYPE: type, COUNT: 1000 })) yield* batch;
}

async function migrateDevice(redis: RedisClient, key: string): Promise<boolean> {
  // Only papgate processes still waiting for this migration could write meanwhile (the gate
  // refuses them), and only by migrating the same device: a changed hash is read again.
  for (let tries = 0; tries < 3; tries++) {
    const old = await redis.hGetAll(key);
    if (old.state === undefined) return false;
    let fresh: Record<string, string>;
    try {
      fresh = deviceRecord(deviceOfLayout1(old));
    } catch (err) {
      throw new Error(`${key}: ${(err as Error).message}`);
    }
    const n = await scripts.migrate.run(redis, [key], [JSON.stringify(old), JSON.stringify(fresh)]);
    if (n === 1) return true;
  }
  throw new Error(`device record ${key} keeps changing during the migration`);
}

/**
 * Brings a database of an older layout to SCHEMA_VERSION; idempotent, so an interrupted run (or
 * two processes starting at once) is simply run again. Null: it was up to date.
 */
export async function migrate(redis: RedisClient): Promise<MigrationReport | null> {
  const stored = await redis.get(keys.schema());
  const from = stored === null ? 1 : Number(stored);
  if (from === SCHEMA_VERSION) return null;
  if (!Number.isInteger(from) || from < 1 || from > SCHEMA_VERSION)
    throw new Error(`the database has layout ${stored}; this papgate knows up to ${SCHEMA_VERSION}`);
  const macs = await inBatches(scanAll(redis, 'papgate:mac:{*}', 'string'), async (key) => {
    const mac = key.slice('papgate:mac:{'.length, -1);
    const tenant = await redis.get(key);
    if (tenant === null) return false;
    // Bucket first, then the old key: a run interrupted in between does it again. NX: a claim made
    // under the new layout (by a process that finished migrating first) is newer than this one.
    await redis.hSetNX(keys.macIndex(mac), mac, tenant);
    await redis.del(key);
    return true;
  });
  const devices = await inBatches(scanAll(redis, 'papgate:{t:*}:dev:*', 'hash'), (key) =>
    migrateDevice(redis, key),
  );
  await redis.set(keys.schema(), String(SCHEMA_VERSION));
  return { from, macs, devices };
}

/**
 * Whether the device data may be used: not before migrate() has run to its end in this process
 * (a device of the old layout would read as unknown, and a script would write the new fields
 * beside the old ones). Until then a store operation waits for it, and after `waitMs` fails as
 * if Redis were away (503).
 */
export class Schema {
  private current = false;
  private migrated!: () => void;
  private readonly done = new Promise<void>((resolve) => (this.migrated = resolve));

  constructor(
    private readonly redis: RedisClient,
    private readonly waitMs: number,
  ) {}

  /** Whether migrate() has run to its end in this process (readiness reports it). */
  get isCurrent(): boolean {
    return this.current;
  }

  /**
   * Nothing to wait for once the data is current (the store's every call asks). `connection`: the
   * one the caller's commands go through (papgate's phones and its admin API have one each).
   */
  ready(connection: RedisClient): Promise<void> | undefined {
    if (this.current) return undefined;
    // While the connection is down every command fails at once (and counts in the outage log):
    // waiting here would only hold the refusal back. (A cluster client has no isReady: it waits.)
    if ((connection as { isReady?: boolean }).isReady === false) return undefined;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new StoreNotReadyError()), this.waitMs);
      void this.done.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Runs migrate(), again every `retryMs` while Redis is unavailable; throws on anything else. */
  async bringUpToDate(log: Logger, retryMs = 100): Promise<void> {
    for (;;) {
      try {
        const report = await migrate(this.redis);
        if (report && report.macs + report.devices > 0)
          log.info(report, `redis data migrated to layout ${SCHEMA_VERSION}`);
        else if (report) log.info(`redis data layout ${SCHEMA_VERSION} recorded (nothing to migrate)`);
        this.current = true;
        this.migrated();
        return;
      } catch (err) {
        if (!isStoreUnavailable(err)) throw err;
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
  }
}
