import net from 'node:net';
import type { RedisClient } from '../../src/store/store';

/** mulberry32: tiny and fast; a 32-bit seed replays a whole fuzz run. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** uniform in [0, 1) */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** Draws a string of `length` characters out of `alphabet`. */
  chars(alphabet: string, length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
}

/** One generator among several, with its name (kept for the failure report) and weight. */
export interface Choice<T> {
  readonly name: string;
  readonly weight: number;
  readonly gen: (rng: Rng) => T;
}

/** Runs one entry of a weighted table; answers its name and value. */
export function choose<T>(rng: Rng, table: readonly Choice<T>[]): { name: string; value: T } {
  const total = table.reduce((s, c) => s + c.weight, 0);
  let x = rng.next() * total;
  for (const c of table) {
    x -= c.weight;
    if (x < 0) return { name: c.name, value: c.gen(rng) };
  }
  const last = table[table.length - 1]!;
  return { name: last.name, value: last.gen(rng) };
}

/** A fixed seed (the same run everywhere) and FUZZ_SEED from the environment, else a fresh one. */
export function fuzzSeeds(fixed: number, fromEnv: string | undefined): number[] {
  if (fromEnv === undefined || fromEnv === '') return [fixed, Math.floor(Math.random() * 2 ** 32)];
  const n = Number(fromEnv);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32)
    throw new Error(`FUZZ_SEED must be 0..2^32-1, got ${fromEnv}`);
  return [fixed, n];
}

export interface RawRequest {
  readonly method: string;
  /** the request target exactly as sent */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Buffer;
  /** loopback source address */
  readonly from?: string;
  /** Stop sending part-way, as a slow or stalled client would: the server must time out. */
  readonly stall?: 'headers' | 'body';
}

export interface RawReply {
  /** null: the connection ended (or the deadline passed) before a final status line */
  readonly status: number | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly ms: number;
  /** the deadline passed with the connection still open */
  readonly hung: boolean;
}

/** The bytes of a request: Host and `Connection: close` added, Content-Length unless framed by the case. */
export function encodeRequest(r: RawRequest): Buffer {
  const lines = [`${r.method} ${r.target} HTTP/1.1`, 'Host: 127.0.0.1'];
  for (const [k, v] of r.headers) lines.push(`${k}: ${v}`);
  lines.push('Connection: close');
  const framed = r.headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k));
  const body = r.body ?? Buffer.alloc(0);
  if (r.stall === 'body') lines.push(`Content-Length: ${body.length + 93}`);
  else if (body.length > 0 && !framed) lines.push(`Content-Length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8');
  // A stalled head stops in the middle of the header lines, before the blank line.
  if (r.stall === 'headers') return head.subarray(0, head.length - 3);
  return Buffer.concat([head, body]);
}

/** Final status, headers and body of a raw HTTP/1.1 answer (1xx interim answers skipped). */
function parseReply(raw: Buffer): Pick<RawReply, 'status' | 'headers' | 'body'> {
  let text = raw.toString('latin1');
  for (;;) {
    const end = text.indexOf('\r\n\r\n');
    const m = /^HTTP\/1\.[01] ([0-9]{3})/.exec(text);
    if (end === -1 || !m) return { status: null, headers: {}, body: text };
    const status = Number(m[1]);
    if (status >= 100 && status < 200) {
      text = text.slice(end + 4);
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of text.slice(0, end).split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status, headers, body: Buffer.from(text.slice(end + 4), 'latin1').toString('utf8') };
  }
}

/**
 * Sends one request over its own connection and reads until the server closes it, or until
 * `deadlineMs` has passed (then `hung`). Never rejects: a reset connection is an answer too.
 */
export function sendRaw(port: number, r: RawRequest, deadlineMs: number): Promise<RawReply> {
  return new Promise((resolve) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const sock = net.connect({ host: '127.0.0.1', port, ...(r.from ? { localAddress: r.from } : {}) });
    let done = false;
    const finish = (hung: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ ...parseReply(Buffer.concat(chunks)), ms: Date.now() - started, hung });
    };
    const timer = setTimeout(() => finish(true), deadlineMs);
    sock.on('connect', () => sock.write(encodeRequest(r)));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => finish(false));
    sock.on('close', () => finish(false));
    sock.on('error', () => finish(false));
  });
}

/**
 * Every value in the store as `key` (or `key#field` for hash fields) -> text, so two snapshots
 * can say exactly what a request changed. Streams are summed up by length and last id.
 */
export async function storeSnapshot(client: RedisClient): Promise<Map<string, string>> {
  const keys: string[] = [];
  for await (const batch of client.scanIterator({ COUNT: 1000 })) keys.push(...batch);
  const entries = new Map<string, string>();
  await Promise.all(
    keys.map(async (k) => {
      const type = await client.type(k);
      switch (type) {
        case 'hash':
          for (const [f, v] of Object.entries(await client.hGetAll(k))) entries.set(`${k}#${f}`, v);
          return;
        case 'string':
          entries.set(k, (await client.get(k)) ?? '');
          return;
        case 'set':
          entries.set(k, (await client.sMembers(k)).sort().join('\n'));
          return;
        case 'zset':
          entries.set(k, JSON.stringify(await client.zRangeWithScores(k, 0, -1)));
          return;
        case 'stream': {
          const last = await client.xRevRange(k, '+', '-', { COUNT: 1 });
          entries.set(k, `${await client.xLen(k)} ${last?.[0]?.id ?? ''}`);
          return;
        }
        default:
          entries.set(k, `<${type}>`);
      }
    }),
  );
  return entries;
}

/** Commands the Redis server has run so far (the INFO asking counts once, afterwards). */
export async function commandsProcessed(client: RedisClient): Promise<number> {
  return Number(/total_commands_processed:([0-9]+)/.exec(await client.info('stats'))![1]);
}

/** Entries added, removed or changed between two snapshots. */
export function changedEntries(before: Map<string, string>, after: Map<string, string>): string[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names].filter((n) => before.get(n) !== after.get(n)).sort();
}
