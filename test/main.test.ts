import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, isRedisServerIn, PID_FILE } from '../src/store/embedded';
import { exited, killServices, startService, until } from './support/service';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** Every live redis-server working on `dir`, found through /proc, not through papgate's pid file. */
function redisServersIn(dir: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => isRedisServerIn(pid, dir));
}

describe('main: the service process', () => {
  let dataDir = '';
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-main-'));
  });
  afterEach(() => {
    // a failed test must not leave a service or its redis-server behind
    killServices();
    for (const pid of redisServersIn(path.join(dataDir, 'redis'))) process.kill(pid, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops with exit code 2 and a message naming the variable on a bad value', async () => {
    const s = startService({ DATA_DIR: dataDir, AUTH_FAILED_LOCK_SECONDS: 'soon' });
    assert.equal(await exited(s.child), 2);
    assert.match(s.stderr(), /configuration error: AUTH_FAILED_LOCK_SECONDS: expected a whole number/);
  });

  it('refuses to start the SIP side without its secrets: there is no default', async () => {
    const s = startService({
      DATA_DIR: dataDir,
      DRACHTIO_HOST: '127.0.0.1',
      DRACHTIO_SECRET: 'd'.repeat(24),
    });
    assert.equal(await exited(s.child), 2);
    assert.match(s.stderr(), /configuration error: FREESWITCH_SECRET: is required for the SIP side/);
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
  describe('its embedded redis-server', () => {
    const token = 'x'.repeat(20);
    let redisDir = '';
    beforeEach(() => (redisDir = path.join(dataDir, 'redis')));

    async function start(env: Record<string, string> = {}) {
      const [adminPort, provPort] = [await freePort(), await freePort()];
      const s = startService({
        DATA_DIR: dataDir,
        ADMIN_TOKEN: token,
        ADMIN_PORT: String(adminPort),
        PROVISIONING_PORT: String(provPort),
        ...env,
      });
      await until('provisioning listening', () =>
        s.lines().find((l) => l.msg === 'provisioning server listening'),
      );
      const tenant = (t: string, init: RequestInit = {}) =>
        fetch(`http://127.0.0.1:${adminPort}/api/v1/tenants/${t}`, {
          ...init,
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        });
      return { ...s, tenant };
    }

    function onlyServer(): number {
      const pids = redisServersIn(redisDir);
      assert.equal(pids.length, 1, `one redis-server works on ${redisDir}: ${pids.join(', ')}`);
      return pids[0]!;
    }

    it('is restarted on the same port after kill -9, the exit logged at error level; data and admin API come back', async () => {
      const s = await start();
      assert.equal((await s.tenant('acme', { method: 'PUT', body: '{}' })).status, 201);
      const { port } = s.lines().find((l) => l.msg?.toString().startsWith('started embedded redis-server'))!;
      const killed = onlyServer();
      process.kill(killed, 'SIGKILL');
      const exit = await until('the exit logged', () =>
        s.lines().find((l) => l.msg === 'embedded redis-server exited unexpectedly'),
      );
      assert.equal(exit.level, 50);
      assert.equal(exit.signal, 'SIGKILL');
      const restarted = await until('the restart logged', () =>
        s.lines().find((l) => l.msg === 'embedded redis-server restarted'),
      );
      assert.equal(restarted.port, port);
      assert.notEqual(onlyServer(), killed);
      // the client reconnects by itself: 503 only until it has
      const status = await until('the store back', async () => {
        const r = await s.tenant('unknown');
        return r.status === 503 ? undefined : r.status;
      });
      assert.equal(status, 404);
      assert.equal((await s.tenant('acme')).status, 200, 'written before the kill, still there');
      s.child.kill('SIGTERM');
      assert.equal(await exited(s.child), 0);
      assert.deepEqual(redisServersIn(redisDir), []);
      assert.equal(fs.existsSync(path.join(redisDir, PID_FILE)), false);
    });

    it('exits 1 after a clean shutdown when it cannot be restarted', async () => {
      const bin = path.join(dataDir, 'redis-once.sh');
      fs.writeFileSync(
        bin,
        '#!/bin/sh\n# the real server the first time, a failing start every later time\n' +
          'if [ -e "$0.used" ]; then echo "no second start" >&2; exit 1; fi\n' +
          ': > "$0.used"\nexec redis-server "$@"\n',
        { mode: 0o755 },
      );
      const s = await start({ REDIS_SERVER_BIN: bin, EMBEDDED_REDIS_RESTARTS: '2' });
      process.kill(onlyServer(), 'SIGKILL');
      assert.equal(await exited(s.child), 1);
      const failed = s.lines().filter((l) => l.msg === 'embedded redis-server failed to restart');
      assert.deepEqual(
        failed.map((l) => [l.level, l.attempt]),
        [
          [50, 1],
          [50, 2],
        ],
      );
      assert.match(String(failed[0]!.err), /no second start/);
      const msgs = s.lines().map((l) => l.msg);
      const fatal = msgs.indexOf('embedded redis-server cannot be restarted');
      assert.ok(fatal >= 0 && msgs.indexOf('stopped') > fatal, 'then the shutdown path ran');
    });

    it('after papgate was killed with kill -9, the next start stops the leftover server and works alone', async () => {
      const first = await start();
      assert.equal((await first.tenant('acme', { method: 'PUT', body: '{}' })).status, 201);
      const leftover = onlyServer();
      first.child.kill('SIGKILL');
      await exited(first.child);
      assert.ok(isRedisServerIn(leftover, redisDir), 'kill -9 leaves the redis-server running');

      const second = await start();
      const warn = second
        .lines()
        .find((l) => l.msg === 'stopping the leftover redis-server of a papgate that is gone');
      assert.equal(warn?.level, 40);
      assert.equal(warn?.pid, leftover);
      assert.equal(isRedisServerIn(leftover, redisDir), false);
      const now = onlyServer();
      assert.equal(fs.readFileSync(path.join(redisDir, PID_FILE), 'utf8'), `${now} ${second.child.pid}\n`);
      assert.equal((await second.tenant('acme')).status, 200);
      second.child.kill('SIGTERM');
      assert.equal(await exited(second.child), 0);
    });

    it('a second papgate on the same DATA_DIR refuses to start and leaves the running one alone', async () => {
      const first = await start();
      const server = onlyServer();
      const [adminPort, provPort] = [await freePort(), await freePort()];
      const second = startService({
        DATA_DIR: dataDir,
        ADMIN_TOKEN: token,
        ADMIN_PORT: String(adminPort),
        PROVISIONING_PORT: String(provPort),
      });
      assert.equal(await exited(second.child), 1);
      const fatal = second.lines().find((l) => l.msg === 'start-up failed');
      assert.match(
        String(fatal?.err),
        new RegExp(`in use by redis-server pid ${server} of the running papgate pid ${first.child.pid}`),
      );
      assert.equal(onlyServer(), server);
      assert.equal((await first.tenant('unknown')).status, 404);
      first.child.kill('SIGTERM');
      assert.equal(await exited(first.child), 0);
    });
  });
});
