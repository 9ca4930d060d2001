import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { createClient } from 'redis';
import { clientOptions, UNIX_URL_PREFIX } from './connect';

export interface EmbeddedRedis {
  /** What clients connect to (connectRedis): `redis://127.0.0.1:<port>` or `unix://<socket>`. */
  readonly url: string;
  /** 0: no TCP port, the unix socket only. */
  readonly port: number;
  /** The unix socket's path, or null. */
  readonly socket: string | null;
  stop(): Promise<void>;
}

/** Restarting a server that exits on its own (`npm start`); throwaway test servers go without. */
interface Supervision {
  readonly log: Logger;
  /** Consecutive failed (re)starts before giving up; a run of STABLE_MS clears the count. */
  readonly maxRestarts: number;
  /** Called once when the server cannot be brought back: the owner shuts down and exits non-zero. */
  readonly onFatal: (err: Error) => void;
}

/** "<redis-server pid> <papgate pid>" of the server working on the folder. */
export const PID_FILE = 'redis.pid';
/** The unix socket in the folder (see `unixSocket`). */
export const SOCKET_FILE = 'redis.sock';
/** Linux's sun_path holds 108 bytes, the final NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;
// A server that dies sooner after a restart counts as a failed restart: a crash loop gives up.
const STABLE_MS = 30_000;
const TERM_GRACE_MS = 10_000;
const OUTPUT_TAIL_CHARS = 2000;
/**
 * util-linux's setpriv (Essential on Debian): `--pdeathsig TERM` makes the kernel send the server
 * SIGTERM when papgate dies, however it dies (kill -9, OOM killer), so no server outlives it.
 */
const SETPRIV = '/usr/bin/setpriv';

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
 * Starts a private redis-server bound to 127.0.0.1, or with `unixSocket` listening on
 * `<dir>/redis.sock` only (mode 0700 in the folder of mode 0700): a TCP port on loopback is open to
 * every local user, and the server has no password. With `dir` and `persistent`, data survives
 * restarts (append-only file); otherwise it is a throwaway (tests). A leftover server of a killed
 * papgate in `dir` is stopped first; one that a running papgate still owns makes this fail.
 * With `supervise`, a server that exits unexpectedly is restarted on the same port or socket and
 * folder.
 */
export async function startEmbeddedRedis(opts: {
  bin: string;
  dir: string;
  persistent: boolean;
  /** more redis-server options (tests: cluster mode) */
  extraArgs?: readonly string[];
  /** the unix socket only, no TCP port (`port` must not be given) */
  unixSocket?: boolean;
  port?: number;
  supervise?: Supervision;
}): Promise<EmbeddedRedis> {
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  // mkdir leaves the mode of a folder that was there already (made by hand, or an older papgate).
  fs.chmodSync(opts.dir, 0o700);
  const sup = opts.supervise;
  const socket = opts.unixSocket ? path.resolve(opts.dir, SOCKET_FILE) : null;
  if (socket !== null && Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES)
    throw new Error(
      `the embedded redis-server's socket ${socket} is longer than ${MAX_SOCKET_PATH_BYTES} bytes: choose a shorter DATA_DIR`,
    );
  const port = socket !== null ? 0 : (opts.port ?? (await freePort()));
  const listen =
    socket !== null
      ? ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700']
      : ['--bind', '127.0.0.1', '--port', String(port)];
  const args = [
    ...listen,
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
  const url = socket !== null ? `${UNIX_URL_PREFIX}${socket}` : `redis://127.0.0.1:${port}`;
  const pidFile = path.join(opts.dir, PID_FILE);
  let child: ChildProcess | null = null;
  let stopping = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const address = socket !== null ? { socket } : { port };
  const dieWithParent = fs.existsSync(SETPRIV);
  if (!dieWithParent)
    sup?.log.warn(
      { setpriv: SETPRIV },
      'no setpriv: a papgate killed with kill -9 leaves its redis-server running until the next start',
    );
  const [command, argv] = dieWithParent
    ? [SETPRIV, ['--pdeathsig', 'TERM', '--', opts.bin, ...args]]
    : [opts.bin, args];

  /** One server, resolved once it answers PING; on failure it is stopped and the error names why. */
  const launch = async (): Promise<void> => {
    await claimDir(opts.dir, sup?.log);
    if (stopping) throw new Error('embedded redis-server stopped');
    let c: ChildProcess;
    let output = '';
    try {
      // Supervised: its own process group, so a Ctrl-C meant for papgate does not kill it behind the
      // supervisor's back (papgate stops it on the way out). Test servers die with the test run.
      c = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: sup !== undefined });
    } catch (err) {
      throw new Error(`cannot start ${opts.bin}: ${(err as Error).message}`);
    }
    child = c;
    // redis-server logs to stdout: its last lines say why it stopped.
    const keep = (d: Buffer) => (output = (output + d.toString()).slice(-OUTPUT_TAIL_CHARS));
    c.stdout?.on('data', keep);
    c.stderr?.on('data', keep);
    const exited = new Promise<never>((_, reject) => {
      c.once('error', (err) =>
        reject(new Error(`cannot start ${opts.bin}: ${err.message} (is redis-server installed?)`)),
      );
      c.once('exit', (code, signal) =>
        reject(new Error(`${opts.bin} exited with ${signal ?? `code ${code}`}: ${output.trim()}`)),
      );
    });
    exited.catch(() => undefined);
    if (c.pid !== undefined) writePidFile(pidFile, c.pid);
    try {
      await Promise.race([exited, waitForRedis(url, 10_000)]);
    } catch (err) {
      await stopChild(c);
      throw err;
    }
    if (!sup) return;
    const startedAt = Date.now();
    c.once('exit', (code, signal) => {
      if (stopping) return;
      if (Date.now() - startedAt >= STABLE_MS) failures = 0;
      sup.log.error(
        { pid: c.pid, code, signal, output: output.trim() },
        'embedded redis-server exited unexpectedly',
      );
      retry(sup);
    });
  };

  /** Exponential back-off on the same port or socket and folder, until maxRestarts failures in a row. */
  const retry = (s: Supervision): void => {
    failures += 1;
    if (failures > s.maxRestarts) {
      s.onFatal(new Error(`embedded redis-server did not come back after ${s.maxRestarts} restarts`));
      return;
    }
    const delayMs = Math.min(FIRST_DELAY_MS * 2 ** (failures - 1), MAX_DELAY_MS);
    s.log.info({ delayMs, attempt: failures }, 'restarting embedded redis-server');
    retryTimer = setTimeout(() => {
      launch().then(
        () => {
          if (!stopping) s.log.info({ ...address, attempt: failures }, 'embedded redis-server restarted');
        },
        (err: Error) => {
          if (stopping) return;
          s.log.error({ err: err.message, attempt: failures }, 'embedded redis-server failed to restart');
          retry(s);
        },
      );
    }, delayMs);
  };

  await launch();
  return {
    url,
    port,
    socket,
    stop: async () => {
      stopping = true;
      clearTimeout(retryTimer);
      if (child) await stopChild(child);
      fs.rmSync(pidFile, { force: true });
    },
  };
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.pid !== undefined) await terminate(c.pid, () => c.exitCode !== null || c.signalCode !== null);
}

/** SIGTERM (redis-server flushes its append-only file), then SIGKILL if it is still there. */
async function terminate(pid: number, gone: () => boolean): Promise<void> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (gone()) return;
    try {
      process.kill(pid, signal);
    } catch {
      return; // already gone
    }
    for (const deadline = Date.now() + TERM_GRACE_MS; Date.now() < deadline;) {
      if (gone()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`redis-server pid ${pid} does not stop`);
}

function writePidFile(file: string, pid: number): void {
  // Written whole or not at all: a reader never sees half a pid.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${pid} ${process.pid}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * Makes sure no other redis-server works on `dir`. A server named by the pid file whose parent is
 * still the papgate that started it belongs to a running papgate: refuse. One whose papgate is gone
 * (killed with kill -9 where there is no setpriv; the server lives on under init) is stopped. A pid that is no longer a
 * redis-server in `dir` is a stale file and is overwritten.
 */
async function claimDir(dir: string, log: Logger | undefined): Promise<void> {
  const file = path.join(dir, PID_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const m = /^(\d+) (\d+)\n$/.exec(text);
  if (!m) throw new Error(`${file} is not a papgate pid file: remove it if no redis-server works on ${dir}`);
  const [pid, owner] = [Number(m[1]), Number(m[2])];
  if (!isRedisServerIn(pid, dir)) return;
  if (parentOf(pid) === owner) {
    throw new Error(`${dir} is in use by redis-server pid ${pid} of the running papgate pid ${owner}`);
  }
  log?.warn({ pid, dir }, 'stopping the leftover redis-server of a papgate that is gone');
  await terminate(pid, () => !isRedisServerIn(pid, dir));
}

/** Linux /proc: redis-server rewrites its argv (process title), so its --dir is its working directory. */
export function isRedisServerIn(pid: number, dir: string): boolean {
  try {
    return (
      fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server') &&
      fs.readlinkSync(`/proc/${pid}/cwd`) === fs.realpathSync(dir)
    );
  } catch {
    return false; // gone, a zombie, or not ours to see
  }
}

function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

async function waitForRedis(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = createClient(clientOptions(url, { reconnectStrategy: false, connectTimeout: 500 }));
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.ping();
      await c.close();
      return;
    } catch (err) {
      c.destroy();
      // Up, still reading a large data file: the edges answer 503 until it is done (a restart
      // that waited for it would be counted as failed, and the server killed mid-load). Up, and
      // wanting a password (a test server given --requirepass): its clients bring it.
      if (err instanceof Error && /^(LOADING|NOAUTH)\b/.test(err.message)) return;
      if (Date.now() > deadline) throw new Error(`redis at ${url} did not come up within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
