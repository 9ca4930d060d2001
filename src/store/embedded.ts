import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { createClient } from 'redis';

export interface EmbeddedRedis {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the child to bind). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a private redis-server bound to 127.0.0.1. With `dir` and `persistent`, data survives
 * restarts (append-only file); otherwise it is a throwaway (tests).
 */
export async function startEmbeddedRedis(opts: {
  bin: string;
  dir: string;
  persistent: boolean;
  /** more redis-server options (tests: cluster mode) */
  extraArgs?: readonly string[];
  port?: number;
}): Promise<EmbeddedRedis> {
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const port = opts.port ?? (await freePort());
  const args = [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    opts.dir,
    '--protected-mode',
    'yes',
    '--save',
    '',
    '--appendonly',
    opts.persistent ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--daemonize',
    'no',
    ...(opts.extraArgs ?? []),
  ];
  let child: ChildProcess;
  let stderr = '';
  try {
    child = spawn(opts.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new Error(`cannot start ${opts.bin}: ${(err as Error).message}`);
  }
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(new Error(`cannot start ${opts.bin}: ${err.message} (is redis-server installed?)`)),
    );
    child.once('exit', (code) => reject(new Error(`${opts.bin} exited with code ${code}: ${stderr.trim()}`)));
  });
  const url = `redis://127.0.0.1:${port}`;
  await Promise.race([exited, waitForRedis(url, 10_000)]);
  exited.catch(() => undefined);
  return {
    url,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function waitForRedis(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 500 } });
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      await c.quit();
      return;
    } catch {
      await c.disconnect().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`redis at ${url} did not come up within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
