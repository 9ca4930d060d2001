import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/lib/paths';
import { freePort } from '../src/store/embedded';
import { exited, redisServersIn, until } from './support/service';

/** A process that still runs (a zombie has finished: its parent has not collected it yet). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The README's command, `npm start`, in the clone, as an operator's shell starts it. */
async function npmStart(dataDir: string) {
  const [adminPort, provPort] = [await freePort(), await freePort()];
  const child = spawn('npm', ['start'], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.homedir(),
      DATA_DIR: dataDir,
      ADMIN_TOKEN: 'x'.repeat(20),
      ADMIN_PORT: String(adminPort),
      PROVISIONING_PORT: String(provPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', () => undefined);
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  // set-up compiles first when the tree is newer than the last build
  await until(
    'provisioning listening',
    () => lines().find((l) => l.msg === 'provisioning server listening'),
    110_000,
  );
  const papgate = Number(lines().find((l) => l.msg === 'papgate starting')!.pid);
  const [redis] = redisServersIn(path.join(dataDir, 'redis'));
  assert.ok(redis !== undefined && running(papgate) && running(redis));
  return { child, papgate, redis: redis!, lines };
}

describe('npm start: signals reach papgate and its embedded redis-server', function () {
  this.timeout(150_000);
  let dataDir = '';
  const started: number[] = [];
  let npm: ChildProcess | null = null;
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-start-'))));
  afterEach(() => {
    // a failed test must not leave a service or its redis-server behind
    if (npm && npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
    for (const pid of [...started.splice(0), ...redisServersIn(path.join(dataDir, 'redis'))])
      if (running(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
    it(`${signal} to the npm process stops papgate (cleanly) and its redis-server`, async () => {
      const s = await npmStart(dataDir);
      npm = s.child;
      started.push(s.papgate);
      process.kill(s.child.pid!, signal);
      await exited(s.child);
      await until('papgate and redis-server gone', () =>
        running(s.papgate) || running(s.redis) ? undefined : true,
      );
      assert.ok(
        s.lines().some((l) => l.msg === 'stopped'),
        'papgate went through its shutdown (redis flushed and stopped by it)',
      );
    });
  }
});
