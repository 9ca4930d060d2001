import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/lib/paths';
import { freePort } from '../src/store/embedded';
import { exited, until } from './support/service';

/**
 * `npm start` and the CLI on a machine whose own node is older than papgate supports (CI's is 20):
 * both run on the pinned build scripts/setup.sh fetched, not on the node first in PATH.
 */

const runtimePin = (name: string) =>
  new RegExp(`^${name}=(\\S+)`, 'm').exec(
    fs.readFileSync(path.join(PROJECT_ROOT, 'scripts/runtime.sh'), 'utf8'),
  )![1]!;

/** A folder with a `node` older than 24 on this machine, outside the project's .runtime/. */
function olderNodeDir(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/local/bin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir || dir.startsWith(path.join(PROJECT_ROOT, '.runtime'))) continue;
    const node = path.join(dir, 'node');
    if (!fs.existsSync(node)) continue;
    const major = Number(
      execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }),
    );
    if (major < 24) return dir;
  }
  return undefined;
}

/** PATH as a shell on that machine has it: the old node first, none of the project's builds. */
function oldPath(dir: string): string {
  const rest = (process.env.PATH ?? '')
    .split(':')
    .filter((d) => !d.startsWith(path.join(PROJECT_ROOT, '.runtime')));
  return [dir, ...rest].join(':');
}

describe('runtime: npm start and the CLI where the machine has an older node first in PATH', function () {
  this.timeout(60000);
  const old = olderNodeDir();
  const pinned = `v${runtimePin('PAPGATE_NODE')}`;
  let dataDir = '';
  before(function () {
    // Needs such a node (CI's machine has Node.js 20); elsewhere there is nothing to hold this to.
    if (!old) this.skip();
  });
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-runtime-'))));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('npm start runs the service on the pinned Node.js, which answers /readyz and stops on SIGTERM', async () => {
    const [adminPort, provPort] = [await freePort(), await freePort()];
    // the set-up step (prestart) already ran for this test run: only the start script itself
    const npm = spawn('npm', ['start', '--ignore-scripts'], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: oldPath(old!),
        HOME: process.env.HOME ?? os.homedir(),
        DATA_DIR: dataDir,
        ADMIN_TOKEN: 'x'.repeat(20),
        ADMIN_PORT: String(adminPort),
        PROVISIONING_PORT: String(provPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group, so that a failed test can end npm, its shell and the service together
      detached: true,
    });
    let out = '';
    npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const lines = () =>
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      const starting = await until('the start-up line', () =>
        lines().find((l) => l.msg === 'papgate starting'),
      );
      assert.equal(starting.node, pinned, out);
      await until('admin listening', () => lines().find((l) => l.msg === 'admin API listening'));
      // ready once the embedded Redis has loaded its data (503 "redis" until then)
      await until('/readyz 200', async () =>
        (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200 ? true : undefined,
      );
      // as an operator stops it: SIGTERM to the PID it logged (npm does not pass SIGTERM on)
      process.kill(starting.pid as number, 'SIGTERM');
      assert.equal(await exited(npm), 0, out);
      assert.ok(lines().some((l) => l.msg === 'stopped'));
    } finally {
      if (npm.exitCode === null && npm.signalCode === null) process.kill(-npm.pid!, 'SIGKILL');
    }
  });

  it('bin/papgate runs the CLI on the pinned Node.js', () => {
    // A preload tells which node runs the CLI's script (the launcher's own version checks run no script).
    const seen = path.join(dataDir, 'cli-node');
    const preload = path.join(dataDir, 'preload.js');
    fs.writeFileSync(
      preload,
      `if (process.argv[1]) require('fs').writeFileSync(${JSON.stringify(seen)}, process.version);`,
    );
    let status = 0;
    try {
      execFileSync(path.join(PROJECT_ROOT, 'bin', 'papgate'), ['help'], {
        env: { PATH: oldPath(old!), NODE_OPTIONS: `--require ${preload}`, DATA_DIR: dataDir },
        stdio: 'pipe',
      });
    } catch (err) {
      status = (err as { status: number }).status;
    }
    assert.equal(fs.readFileSync(seen, 'utf8'), pinned);
    assert.ok(status === 0 || status === 2, `the CLI ran (exit ${status})`);
  });
});
