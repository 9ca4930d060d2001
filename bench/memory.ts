/**
 * Redis bytes per device (`npm run bench:memory`). MEMORY_DEVICES devices (100,000) of one tenant,
 * each with MEMORY_ACCOUNTS SIP accounts (each count in turn: "0,1,2"), are taken through the
 * device's states by the store's own operations, on a throwaway redis-server on 127.0.0.1. After
 * each step it prints, per device:
 * - hash: MEMORY USAGE of the device hash (the largest of 100 devices, SAMPLES 0: exact) and its encoding;
 * - index: the MAC index (all its keys' MEMORY USAGE / devices);
 * - lists: the tenant's device list and lock list (ZSETs, MEMORY USAGE / devices);
 * - used: INFO used_memory grown since the empty tenant / devices: everything, the allocator's
 *   rounding included, but not the audit stream (trimmed by EVENTS_MAX_LEN, deleted before each
 *   measure) nor the temporary whitelist (an entry per network, not per device).
 * The last line is the goal of issue 13 (exit status 1 when missed): a device with one account
 * takes at most 512 B of hash and index in every state.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import pino from 'pino';
import type { AuthPolicy } from '../src/domain/auth';
import { parseNewDevice, type SipAccount } from '../src/domain/device';
import { parseMac, type Mac } from '../src/domain/mac';
import { connectRedis } from '../src/store/connect';
import { startEmbeddedRedis } from '../src/store/embedded';
import { keys } from '../src/store/keys';
import { Store, type RedisClient } from '../src/store/store';

const DEVICES = Number(process.env.MEMORY_DEVICES ?? 100_000);
const ACCOUNT_COUNTS = (process.env.MEMORY_ACCOUNTS ?? '0,1,2').split(',').map(Number);
const TENANT = 'acme';
/** Operations in flight at once. */
const PARALLEL = 200;
const SAMPLE = 100;
/** Issue 13: a Yealink device with one account, hash + MAC index, in any state. */
const GOAL = 512;
const GOAL_ACCOUNTS = 1;

const POLICY: AuthPolicy = {
  maxConsecutiveFailures: 3,
  failedLockSeconds: 60,
  maxTotalFailures: 9,
  suspendSeconds: 3600,
  tempWhitelistSeconds: 3600,
};

/** Realistic sizes: an operator's SIP server, an E.164 number, a generated 16-character password. */
function accounts(n: number, i: number): SipAccount[] {
  return Array.from({ length: n }, (_, a) => ({
    server: 'sip.example-operator.net',
    user: `49301234${String(i * 2 + a).padStart(6, '0')}`,
    password: createHash('sha256').update(`${i}/${a}`).digest('base64url').slice(0, 16),
    displayName: `Phone ${i}`,
  }));
}

const mac = (i: number): Mac => parseMac(`001565${i.toString(16).padStart(6, '0')}`);
/** A full-length IPv6 address (the longest text a provisioning IP takes) per device. */
const ip = (i: number) =>
  `2001:db8:85a3:1319:8a2e:370:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`;

async function forAll(fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < DEVICES; start += PARALLEL) {
    const batch: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(start + PARALLEL, DEVICES); i++) batch.push(fn(i));
    await Promise.all(batch);
  }
}

async function usedMemory(redis: RedisClient): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
}

async function usage(redis: RedisClient, key: string): Promise<number> {
  return Number(await redis.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
}

interface Row {
  readonly step: string;
  readonly hash: number;
  readonly encoding: string;
  readonly index: number;
  readonly lists: number;
  readonly used: number;
}

async function measure(redis: RedisClient, baseline: number, step: string): Promise<Row> {
  const k = keys.tenant(TENANT);
  await redis.del([k.events, k.tempWhitelist]);
  let hash = 0;
  let encoding = '';
  for (let i = 0; i < SAMPLE; i++) {
    const key = k.device(mac(Math.floor((i * DEVICES) / SAMPLE)));
    const bytes = await usage(redis, key);
    if (bytes > hash) [hash, encoding] = [bytes, String(await redis.objectEncoding(key))];
  }
  let index = 0;
  for await (const batch of redis.scanIterator({ MATCH: 'papgate:mac*', COUNT: 1000 }))
    for (const key of batch) index += await usage(redis, key);
  const lists = (await usage(redis, k.devices)) + (await usage(redis, k.locks));
  const used = (await usedMemory(redis)) - baseline;
  const per = (n: number) => Math.round(n / DEVICES);
  return { step, hash, encoding, index: per(index), lists: per(lists), used: per(used) };
}

async function run(redis: RedisClient, accountCount: number): Promise<Row[]> {
  await redis.flushAll();
  let clock = Date.UTC(2026, 0, 1);
  const store = new Store(redis, { auth: POLICY, eventsMaxLen: 1000, now: () => clock });
  await store.putTenant(TENANT, { name: 'Acme', language: null }, 'bench');
  await redis.del(keys.tenant(TENANT).events);
  const baseline = await usedMemory(redis);
  const rows: Row[] = [];
  const step = async (name: string, fn: (i: number) => Promise<unknown>) => {
    await forAll(fn);
    rows.push(await measure(redis, baseline, name));
  };

  const paps: string[] = [];
  const perCall = 500;
  for (let start = 0; start < DEVICES; start += perCall) {
    const batch = Array.from({ length: Math.min(perCall, DEVICES - start) }, (_, j) =>
      parseNewDevice({
        mac: mac(start + j),
        vendor: 'yealink',
        model: 'T54W',
        site: 'Head office',
        accounts: accounts(accountCount, start + j),
      }),
    );
    const res = await store.createDevices(TENANT, batch, 'bench');
    if (res === 'unknown_tenant' || !res.ok) throw new Error(`create failed: ${JSON.stringify(res)}`);
    for (const d of res.devices) paps.push(d.pap);
  }
  rows.push(await measure(redis, baseline, 'needed'));
  const wrong = (i: number) => (paps[i] === '000000' ? '111111' : '000000');
  const attempt = (i: number, pap: string) => store.attemptPap(mac(i), pap, null, 'bench', 'api');
  await step('needed, refused provisioning noted', (i) =>
    store.recordProvisioning(TENANT, mac(i), {
      ip: ip(i),
      outcome: 'refused',
      reason: 'pap_required',
      file: `${mac(i)}.cfg`,
    }),
  );
  await step('needed, 2 wrong PAPs', async (i) => {
    await attempt(i, wrong(i));
    await attempt(i, wrong(i));
  });
  await step('failed (locked)', (i) => attempt(i, wrong(i)));
  clock += POLICY.failedLockSeconds * 1000;
  await step('needed again (lock ran out)', (i) => store.settleLock(TENANT, mac(i)));
  await step('successful (PAP)', (i) => attempt(i, paps[i]!));
  await step('successful, provisioned with a credential', (i) =>
    store.recordFullProvisioning(TENANT, mac(i), {
      generation: 0,
      // A temporary entry would have to be live for full.lua to record it.
      reason: 'whitelist',
      credentialHash: createHash('sha256').update(`credential ${i}`).digest('hex'),
      ip: ip(i),
      file: `${mac(i)}.cfg`,
    }),
  );
  await step('successful, suspended', (i) =>
    store.suspendDevice(TENANT, mac(i), 'bench', '2001:db8:85a3:1319::/64'),
  );
  const fresh: string[] = [];
  await step(
    'needed again (reset)',
    async (i) => (fresh[i] = (await store.resetDevice(TENANT, mac(i), 'bench'))!.pap),
  );
  // Wrong PAPs in rounds until blocked; each round's lock runs out before the next (settled lazily).
  const rounds = POLICY.maxTotalFailures / POLICY.maxConsecutiveFailures;
  for (let round = 0; round < rounds; round++) {
    clock += POLICY.failedLockSeconds * 1000;
    await forAll(async (i) => {
      const bad = fresh[i] === '000000' ? '111111' : '000000';
      for (let n = 0; n < POLICY.maxConsecutiveFailures; n++) await attempt(i, bad);
    });
  }
  rows.push(await measure(redis, baseline, 'blocked'));
  return rows;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-memory-'));
  const server = await startEmbeddedRedis({ bin: 'redis-server', dir, persistent: false });
  const redis = await connectRedis(server.url, pino({ level: 'silent' }), { commandTimeoutMs: 60_000 });
  const largest = new Map<number, number>();
  try {
    console.log(
      `papgate Redis memory per device: ${DEVICES} devices, bytes per device (MEMORY USAGE, INFO used_memory)`,
    );
    for (const n of ACCOUNT_COUNTS) {
      const started = Date.now();
      const rows = await run(redis, n);
      console.log(`\n${n} SIP account(s) per device`);
      console.log(
        `${'state'.padEnd(44)}${'hash'.padStart(6)}  ${'encoding'.padEnd(10)}${'index'.padStart(6)}` +
          `${'hash+index'.padStart(12)}${'lists'.padStart(7)}${'used'.padStart(7)}`,
      );
      for (const r of rows) {
        largest.set(n, Math.max(largest.get(n) ?? 0, r.hash + r.index));
        console.log(
          `${r.step.padEnd(44)}${String(r.hash).padStart(6)}  ${r.encoding.padEnd(10)}${String(r.index).padStart(6)}` +
            `${String(r.hash + r.index).padStart(12)}${String(r.lists).padStart(7)}${String(r.used).padStart(7)}`,
        );
      }
      console.log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    console.log('');
    for (const [n, bytes] of largest)
      console.log(`largest hash+index, ${n} account(s): ${bytes} B per device`);
    const goal = largest.get(GOAL_ACCOUNTS);
    if (goal !== undefined)
      console.log(
        `goal (${GOAL_ACCOUNTS} account, any state): ${goal} B <= ${GOAL} B: ${goal <= GOAL ? 'met' : 'MISSED'}`,
      );
  } finally {
    await redis.close().catch(() => undefined);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if ((largest.get(GOAL_ACCOUNTS) ?? 0) > GOAL) process.exitCode = 1;
}

void main();
