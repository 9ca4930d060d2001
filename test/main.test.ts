import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, isRedisServerIn, PID_FILE, SOCKET_FILE } from '../src/store/embedded';
import { TestRedis } from './support/redis';
import {
  exited,
  killServices,
  redisServersIn,
  startService,
  storeReady,
  until,
  type RunningService,
} from './support/service';

/** Whether something accepts a connection on the unix socket `file`. */
function accepts(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** The TCP ports process `pid` listens on (IPv4 and IPv6), read from /proc. */
function tcpListeners(pid: number): number[] {
  const inodes = new Set(
    fs
      .readdirSync(`/proc/${pid}/fd`)
      .map((fd) => /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1])
      .filter((i) => i !== undefined),
  );
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    fs
      .readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      // local address, state 0A (LISTEN), inode
      .filter((f) => f[3] === '0A' && inodes.has(f[9] ?? ''))
      .map((f) => parseInt(f[1]!.split(':')[1]!, 16)),
  );
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
    const socket = s.lines().find((l) => l.msg?.toString().startsWith('started embedded redis-server'))!
      .socket as string;
    assert.equal(socket, path.join(dataDir, 'redis', 'redis.sock'));
    const token = fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    assert.equal((fs.statSync(path.join(dataDir, 'admin-token')).mode & 0o777).toString(8), '600');
    const signIn = s.lines().find((l) => l.msg === 'operator console: sign in with the admin token');
    assert.equal(signIn?.url, `http://127.0.0.1:${adminPort}/`, 'the start-up log names the console');
    assert.equal(signIn?.tokenFrom, path.join(dataDir, 'admin-token'), 'and the file holding the token');
    assert.ok(!JSON.stringify(s.lines()).includes(token), 'the token is never logged');
    await until('the service to be ready', async () =>
      (await fetch(`http://127.0.0.1:${adminPort}/readyz`).catch(() => null))?.status === 200
        ? true
        : undefined,
    );
    const put = await fetch(`http://127.0.0.1:${adminPort}/api/v1/tenants/acme`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(put.status, 201);
    assert.equal((await fetch(`http://127.0.0.1:${provPort}/001565aabbcc.cfg`)).status, 404);
    s.child.kill('SIGTERM');
    assert.equal(await exited(s.child), 0);
    assert.equal(await accepts(socket), false, 'the embedded redis-server is gone');
    assert.ok(
      fs.readdirSync(path.join(dataDir, 'redis')).some((f) => f.startsWith('appendonly')),
      'append-only persistence under DATA_DIR/redis',
    );
  });

  it('says on the first start that it generated the admin token, and warns of the SIP side without EMERGENCY_ROUTE and of a mistyped variable', async () => {
    const [adminPort, provPort, deadPort] = [await freePort(), await freePort(), await freePort()];
    const env = {
      REDIS_URL: `redis://127.0.0.1:${deadPort}`,
      ADMIN_PORT: String(adminPort),
      PROVISIONING_PORT: String(provPort),
      DATA_DIR: dataDir,
    };
    const first = startService({
      ...env,
      DRACHTIO_HOST: '127.0.0.1',
      DRACHTIO_PORT: String(deadPort),
      DRACHTIO_SECRET: 'd'.repeat(24),
      FREESWITCH_SECRET: 'f'.repeat(24),
      SIP_OVERLOAD_BEHIND_M: '100',
    });
    await until('admin API listening', () => first.lines().find((l) => l.msg === 'admin API listening'));
    const typo = first.lines().find((l) => String(l.msg).startsWith('SIP_OVERLOAD_BEHIND_M '));
    assert.equal(typo?.level, 40, 'a warning');
    assert.match(String(typo?.msg), /is not a papgate variable and is ignored; .*SIP_OVERLOAD_BEHIND_MS/);
    const token = first.lines().find((l) => String(l.msg).startsWith('ADMIN_TOKEN not set'));
    assert.equal(token?.msg, 'ADMIN_TOKEN not set: generated a token and stored it in this file');
    const warning = first.lines().find((l) => String(l.msg).startsWith('EMERGENCY_ROUTE is not set'));
    assert.equal(warning?.level, 40, 'a warning');
    assert.match(String(warning?.msg), /emergency calls are refused \(503/);
    first.child.kill('SIGTERM');
    await exited(first.child);
    const second = startService(env);
    await until('admin API listening', () => second.lines().find((l) => l.msg === 'admin API listening'));
    assert.equal(
      second.lines().find((l) => String(l.msg).startsWith('ADMIN_TOKEN not set'))?.msg,
      'ADMIN_TOKEN not set: using the token stored in this file',
    );
    assert.ok(!second.lines().some((l) => String(l.msg).startsWith('EMERGENCY_ROUTE')), 'SIP side off');
    second.child.kill('SIGTERM');
    assert.equal(await exited(second.child), 0);
  });

  for (const variable of ['ADMIN_PORT', 'PROVISIONING_PORT']) {
    it(`a port in use stops it with a message naming its variable (${variable})`, async () => {
      const taken = net.createServer();
      await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
      const port = (taken.address() as net.AddressInfo).port;
      try {
        const s = startService({
          DATA_DIR: dataDir,
          ADMIN_TOKEN: 'x'.repeat(20),
          ADMIN_PORT: String(await freePort()),
          PROVISIONING_HOST: '127.0.0.1',
          PROVISIONING_PORT: String(await freePort()),
          [variable]: String(port),
        });
        assert.equal(await exited(s.child), 1);
        const failed = s.lines().find((l) => l.msg === 'start-up failed');
        assert.match(
          String(failed?.err),
          new RegExp(
            `127\\.0\\.0\\.1:${port} \\(.*${variable}\\) is in use by another program: set ${variable} to a free port`,
          ),
        );
      } finally {
        taken.close();
      }
    });
  }

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
  describe('an external Redis that requires a password', () => {
    // characters a URL must escape
    const password = 'pass/word+1:x';
    const secret = (pw: string) => [pw, encodeURIComponent(pw)];
    let redis: TestRedis;
    before(async () => {
      redis = await new TestRedis().start();
      await redis.client.configSet('requirepass', password);
    });
    after(() => redis.stop());

    const run = async (env: Record<string, string>) => {
      const [adminPort, provPort] = [await freePort(), await freePort()];
      const s = startService({
        DATA_DIR: dataDir,
        ADMIN_TOKEN: 'x'.repeat(20),
        ADMIN_PORT: String(adminPort),
        PROVISIONING_PORT: String(provPort),
        LOG_LEVEL: 'debug',
        ...env,
      });
      const admin = (init: RequestInit = {}) =>
        fetch(`http://127.0.0.1:${adminPort}/api/v1/tenants/acme`, {
          ...init,
          headers: { authorization: `Bearer ${'x'.repeat(20)}`, 'content-type': 'application/json' },
        });
      return { ...s, admin, ready: () => storeReady(adminPort) };
    };
    const output = (s: RunningService) => JSON.stringify(s.lines()) + s.stderr();
    const url = (pw: string) => `redis://:${encodeURIComponent(pw)}@127.0.0.1:${redis.server.port}`;

    it('is given the password of REDIS_URL, which no log line shows, nor a wrong one', async () => {
      const s = await run({ REDIS_URL: url(password) });
      await s.ready();
      assert.equal((await s.admin({ method: 'PUT', body: '{}' })).status, 201);
      assert.ok(await redis.client.hGet('papgate:{t:acme}:tenant', 'createdAt'), 'written to that server');
      s.child.kill('SIGTERM');
      assert.equal(await exited(s.child), 0);

      const wrong = await run({ REDIS_URL: url(`${password}-wrong`) });
      await until('provisioning listening', () =>
        wrong.lines().find((l) => l.msg === 'provisioning server listening'),
      );
      await until('the refusal logged', () =>
        wrong.lines().find((l) => l.msg === 'redis unavailable: refusing requests until it is back'),
      );
      assert.equal((await wrong.admin()).status, 503);
      wrong.child.kill('SIGTERM');
      assert.equal(await exited(wrong.child), 0);
      for (const pw of [...secret(password), ...secret(`${password}-wrong`)]) {
        assert.ok(!output(s).includes(pw), 'the password is never logged');
        assert.ok(!output(wrong).includes(pw), 'a wrong password is never logged');
      }
    });

    it('a malformed REDIS_CLUSTER_NODES entry is refused without showing its password', async () => {
      const s = await run({ REDIS_CLUSTER_NODES: `redis//:${password}@127.0.0.1:7000` });
      assert.equal(await exited(s.child), 2);
      assert.match(s.stderr(), /configuration error: REDIS_CLUSTER_NODES: node 1 of 1 is not/);
      for (const pw of secret(password)) assert.ok(!output(s).includes(pw), 'the password is never shown');
    });
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

    it('listens on a unix socket of mode 0700 in a folder of mode 0700, on no TCP port: another local user cannot reach it', async () => {
      // folders as an operator's umask 022 leaves them: anyone may look inside
      fs.chmodSync(dataDir, 0o755);
      fs.mkdirSync(redisDir);
      fs.chmodSync(redisDir, 0o755);
      const s = await start();
      assert.equal((await s.tenant('acme', { method: 'PUT', body: '{}' })).status, 201, 'papgate works');
      assert.deepEqual(tcpListeners(onlyServer()), [], 'the embedded redis-server listens on no TCP port');
      const socket = path.join(redisDir, SOCKET_FILE);
      assert.ok(fs.statSync(socket).isSocket());
      assert.equal((fs.statSync(socket).mode & 0o777).toString(8), '700');
      assert.equal((fs.statSync(redisDir).mode & 0o777).toString(8), '700');
      if (process.getuid?.() === 0) {
        // as root, the tests can be another local user: nobody
        const other = spawnSync('redis-cli', ['-s', socket, 'hgetall', 'papgate:{t:acme}:tenant'], {
          uid: 65534,
          gid: 65534,
          cwd: '/',
          encoding: 'utf8',
        });
        assert.match(other.stdout + other.stderr, /Permission denied/);
        assert.doesNotMatch(other.stdout, /createdAt/);
      }
      s.child.kill('SIGTERM');
      assert.equal(await exited(s.child), 0);
    });

    it('is restarted on the same socket after kill -9, the exit logged at error level; data and admin API come back', async () => {
      const s = await start();
      assert.equal((await s.tenant('acme', { method: 'PUT', body: '{}' })).status, 201);
      const { socket } = s
        .lines()
        .find((l) => l.msg?.toString().startsWith('started embedded redis-server'))!;
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
      assert.equal(restarted.socket, socket);
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

    it('dies with papgate when papgate is killed with kill -9 (parent-death signal); the next start works alone', async () => {
      const first = await start();
      assert.equal((await first.tenant('acme', { method: 'PUT', body: '{}' })).status, 201);
      const server = onlyServer();
      first.child.kill('SIGKILL');
      await exited(first.child);
      await until('the redis-server gone', () => (isRedisServerIn(server, redisDir) ? undefined : true));

      const second = await start();
      const now = onlyServer();
      assert.equal(fs.readFileSync(path.join(redisDir, PID_FILE), 'utf8'), `${now} ${second.child.pid}\n`);
      assert.equal((await second.tenant('acme')).status, 200, 'the data survived (append-only file)');
      second.child.kill('SIGTERM');
      assert.equal(await exited(second.child), 0);
    });

    it('a leftover server of a papgate that is gone (no parent-death signal) is stopped at the next start', async () => {
      fs.mkdirSync(redisDir, { recursive: true, mode: 0o700 });
      // as a papgate without setpriv leaves it: its parent gone, the pid file naming that papgate
      const leftover = spawn(
        'redis-server',
        ['--port', '0', '--unixsocket', path.join(redisDir, SOCKET_FILE)],
        {
          cwd: redisDir,
          detached: true,
          stdio: 'ignore',
        },
      );
      const pid = leftover.pid!;
      await until('the leftover up', () => (isRedisServerIn(pid, redisDir) ? true : undefined));
      fs.writeFileSync(path.join(redisDir, PID_FILE), `${pid} ${process.pid + 100000}\n`);

      const s = await start();
      const warn = s
        .lines()
        .find((l) => l.msg === 'stopping the leftover redis-server of a papgate that is gone');
      assert.equal(warn?.level, 40);
      assert.equal(warn?.pid, pid);
      assert.equal(isRedisServerIn(pid, redisDir), false);
      assert.equal(
        onlyServer(),
        Number(fs.readFileSync(path.join(redisDir, PID_FILE), 'utf8').split(' ')[0]),
      );
      s.child.kill('SIGTERM');
      assert.equal(await exited(s.child), 0);
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
