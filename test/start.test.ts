import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
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

/**
 * The README's command, `npm start`, in the clone, as an operator's shell starts it. `spawned` gets
 * the npm process at once, so that a start that never gets ready is still stopped after the test.
 */
async function npmStart(dataDir: string, spawned: (npm: ChildProcess) => void) {
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
  spawned(child);
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
      const s = await npmStart(dataDir, (c) => (npm = c));
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

describe('the shipped service definitions run the compiled service', () => {
  const read = (f: string) => fs.readFileSync(path.join(PROJECT_ROOT, f), 'utf8');
  const units = ['papgate.service', 'papgate-drachtio.service', 'papgate-freeswitch.service'];

  it('config/systemd: every option is one systemd knows (systemd-analyze verify, where installed)', function () {
    const verify = spawnSync('systemd-analyze', ['--version']);
    if (verify.error) this.skip();
    for (const u of units) {
      const r = spawnSync('systemd-analyze', ['verify', path.join(PROJECT_ROOT, 'config', 'systemd', u)], {
        encoding: 'utf8',
      });
      // The servers' binaries are the operator's to install: their absence here is no error of the unit.
      const problems = (r.stdout + r.stderr).split('\n').filter((l) => l && !/is not executable/.test(l));
      assert.deepEqual(problems, [], u);
    }
  });

  it('papgate.service: node on dist/src/main.js (no npm, no compilation), hardened, signals to papgate alone', () => {
    const unit = read('config/systemd/papgate.service');
    const options = new Map(
      unit
        .split('\n')
        .filter((l) => /^[A-Za-z]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(options.get('ExecStart'), '/bin/bash scripts/node.sh dist/src/main.js');
    assert.equal(
      options.get('KillMode'),
      'mixed',
      "a SIGTERM to the group would stop redis-server under papgate's feet",
    );
    for (const [k, v] of [
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['UMask', '0077'],
      ['CapabilityBoundingSet', ''],
      ['EnvironmentFile', '/etc/papgate/papgate.env'],
    ])
      assert.equal(options.get(k!), v, k);
  });

  it('the Dockerfile starts node on dist/src/main.js itself (exec: node is the process signals reach)', () => {
    const cmd = read('Dockerfile')
      .split('\n')
      .filter((l) => l.startsWith('CMD '));
    assert.deepEqual(cmd, ['CMD ["sh", "-c", "umask 077 && exec node dist/src/main.js"]']);
  });
});

describe('the repository', () => {
  it('holds no symbolic link: a link to a working copy elsewhere dangles in every other clone', function () {
    const files = spawnSync('git', ['ls-files', '-s'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    // an unpacked release without its git folder has nothing to look at
    if (files.status !== 0) this.skip();
    const links = files.stdout.split('\n').filter((l) => l.startsWith('120000 '));
    assert.deepEqual(links, []);
  });
});
