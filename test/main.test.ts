import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/paths';
import { freePort } from '../src/store/embedded';

const MAIN = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');

/** Starts the service as `npm start` does (without the set-up step) and collects its log lines. */
function startService(env: Record<string, string>): {
  child: ChildProcess;
  lines: () => Record<string, unknown>[];
  stderr: () => string;
} {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

async function until<T>(what: string, f: () => T | undefined, ms = 15000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) =>
    c.exitCode !== null ? r(c.exitCode) : c.once('exit', (code) => r(code)),
  );

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('main: the service process', () => {
  let dataDir = '';
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-main-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('stops with exit code 2 and a message naming the variable on a bad value', async () => {
    const s = startService({ DATA_DIR: dataDir, AUTH_FAILED_LOCK_SECONDS: 'soon' });
    assert.equal(await exited(s.child), 2);
    assert.match(s.stderr(), /configuration error: AUTH_FAILED_LOCK_SECONDS: expected a whole number/);
  });

  it('without REDIS_URL runs its own persistent redis-server, keeps a generated admin token, stops it all on SIGTERM', async () => {
    const [adminPort, provPort] = [await freePort(), await freePort()];
    const s = startService({
      DATA_DIR: dataDir,
      ADMIN_PORT: String(adminPort),
      PROVISIONING_PORT: String(provPort),
    });
    await until('provisioning listening', () =>
      s.lines().find((l) => l.msg === 'provisioning server listening'),
    );
    const redisPort = s.lines().find((l) => l.msg?.toString().startsWith('started embedded redis-server'))!
      .port as number;
    const token = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    assert.equal((fs.statSync(path.join(dataDir, 'admin-token')).mode & 0o777).toString(8), '600');
    assert.ok(!JSON.stringify(s.lines()).includes(token), 'the token is never logged');
    const put = await fetch(`http://127.0.0.1:${adminPort}/api/v1/tenants/acme`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(put.status, 201);
    assert.equal((await fetch(`http://127.0.0.1:${provPort}/001565aabbcc.cfg`)).status, 404);
    s.child.kill('SIGTERM');
    assert.equal(await exited(s.child), 0);
    assert.equal(await accepts(redisPort), false, 'the embedded redis-server is gone');
    assert.ok(
      fs.readdirSync(path.join(dataDir, 'redis')).some((f) => f.startsWith('appendonly')),
      'append-only persistence under DATA_DIR/redis',
    );
  });

  it('with an unreachable REDIS_URL it still listens, and answers 503', async () => {
    const [adminPort, provPort, deadPort] = [await freePort(), await freePort(), await freePort()];
    const s = startService({
      REDIS_URL: `redis://127.0.0.1:${deadPort}`,
      ADMIN_TOKEN: 'x'.repeat(20),
      ADMIN_PORT: String(adminPort),
      PROVISIONING_PORT: String(provPort),
      DATA_DIR: dataDir,
    });
    await until('provisioning listening', () =>
      s.lines().find((l) => l.msg === 'provisioning server listening'),
    );
    const prov = await fetch(`http://127.0.0.1:${provPort}/001565aabbcc.cfg`);
    assert.equal(prov.status, 503);
    assert.ok(prov.headers.get('retry-after'));
    const admin = await fetch(`http://127.0.0.1:${adminPort}/api/v1/tenants/acme/devices`, {
      headers: { authorization: `Bearer ${'x'.repeat(20)}` },
    });
    assert.equal(admin.status, 503);
    s.child.kill('SIGTERM');
    assert.equal(await exited(s.child), 0);
  });
});
