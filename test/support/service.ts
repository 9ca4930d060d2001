import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/lib/paths';
import { isRedisServerIn } from '../../src/store/embedded';

const MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');

export interface RunningService {
  readonly child: ChildProcess;
  /** The JSON log lines written so far. */
  lines(): Record<string, unknown>[];
  stderr(): string;
}

const services: ChildProcess[] = [];

/** Starts the service as `npm start` does (without the set-up step) and collects its log lines. */
export function startService(env: Record<string, string>): RunningService {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  services.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return {
    child,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    stderr: () => err,
  };
}

/** Kills every service a test started and left running (for an `after` hook). */
export function killServices(): void {
  for (const c of services.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** Polls `f` until it gives a value; a bounded wait for an event, not a measurement. */
export async function until<T>(
  what: string,
  f: () => T | undefined | Promise<T | undefined>,
  ms = 15000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const exited = (c: ChildProcess): Promise<number | null> =>
  new Promise((r) =>
    c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

/** Every live redis-server working on `dir`, found through /proc, not through papgate's pid file. */
export function redisServersIn(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => isRedisServerIn(pid, dir));
}

/**
 * Until the service on `adminPort` is connected to its store (/readyz 200). It listens before:
 * on a busy CI host a first request could meet a store not connected yet and get 503.
 */
export const storeReady = (adminPort: number): Promise<true> =>
  until('the service to be ready', async () =>
    (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => null))?.status === 200
      ? true
      : undefined,
  );
