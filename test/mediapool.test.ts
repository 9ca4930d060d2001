/**
 * Several FreeSWITCH servers: FREESWITCH_HOSTS as the configuration reads it, and which server the
 * pool gives a new IVR call. The servers here are names and `create` an async function that
 * succeeds or fails as told: the choice is pure logic; test/e2e/mediapool.ts runs it against two
 * real FreeSWITCH processes.
 */
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config';
import { MediaPool, type MediaLease } from '../src/sip/mediapool';

const servers = (env: Record<string, string>) =>
  loadConfig(env).sip.freeswitch.servers.map((s) => [s.host, s.port, s.label]);

const refused = (env: Record<string, string>, variable: string, message: RegExp) =>
  assert.throws(
    () => loadConfig(env),
    (e: unknown) => e instanceof ConfigError && e.variable === variable && message.test(e.message),
  );

describe('FREESWITCH_HOSTS', () => {
  it('FREESWITCH_HOST alone is the one-server case, as before', () => {
    assert.deepEqual(servers({}), [['127.0.0.1', 8021, '127.0.0.1:8021']]);
    assert.deepEqual(servers({ FREESWITCH_HOST: 'fs1.example', FREESWITCH_PORT: '8022' }), [
      ['fs1.example', 8022, 'fs1.example:8022'],
    ]);
  });

  it('reads a comma list of host[:port]; FREESWITCH_PORT is the port of entries without one', () => {
    assert.deepEqual(
      servers({ FREESWITCH_HOSTS: ' 10.0.0.1 , fs2.example:9021,[::1]:8023,[::1]', FREESWITCH_PORT: '8025' }),
      [
        ['10.0.0.1', 8025, '10.0.0.1:8025'],
        ['fs2.example', 9021, 'fs2.example:9021'],
        ['::1', 8023, '[::1]:8023'],
        ['::1', 8025, '[::1]:8025'],
      ],
    );
  });

  it('refuses bad entries, duplicates, and FREESWITCH_HOST beside FREESWITCH_HOSTS, naming the variable', () => {
    refused({ FREESWITCH_HOSTS: '10.0.0.1,,10.0.0.2' }, 'FREESWITCH_HOSTS', /empty entry/);
    refused({ FREESWITCH_HOSTS: '10.0.0.1:0' }, 'FREESWITCH_HOSTS', /between 1 and 65535/);
    refused({ FREESWITCH_HOSTS: '10.0.0.1:70000' }, 'FREESWITCH_HOSTS', /between 1 and 65535/);
    refused({ FREESWITCH_HOSTS: '::1:8021' }, 'FREESWITCH_HOSTS', /IPv6 as \[addr\]/);
    refused({ FREESWITCH_HOSTS: '[12345::1]:8021' }, 'FREESWITCH_HOSTS', /not an IPv6 address/);
    refused({ FREESWITCH_HOSTS: 'fs1 fs2' }, 'FREESWITCH_HOSTS', /expected host\[:port\]/);
    refused({ FREESWITCH_HOSTS: 'FS1.example,fs1.example:8021' }, 'FREESWITCH_HOSTS', /listed twice/);
    refused(
      { FREESWITCH_HOSTS: '[::1]:8021,[0:0::1]:8021' },
      'FREESWITCH_HOSTS',
      /\[::1\]:8021 is listed twice/,
    );
    refused({ FREESWITCH_HOSTS: '10.0.0.1', FREESWITCH_HOST: '10.0.0.2' }, 'FREESWITCH_HOSTS', /not both/);
    refused({ FREESWITCH_HOST: 'fs1:x' }, 'FREESWITCH_HOST', /expected host\[:port\]/);
  });
});

describe('media pool: which FreeSWITCH takes a new IVR call', () => {
  let clock = 0;
  const pool = (n: number) => {
    const p = new MediaPool<string>(
      Array.from({ length: n }, (_, i) => `fs${i}`),
      { errorHoldMs: 5000, now: () => clock },
    );
    for (let i = 0; i < n; i++) p.set(i, `fs${i}`);
    return p;
  };
  /** Opens a call; `refuse`: the servers whose endpoint creation fails. Resolves with the lease (null: none). */
  const call = (p: MediaPool<string>, refuse: readonly string[] = [], tried: string[] = []) =>
    p.open(async (server) => {
      tried.push(server);
      if (refuse.includes(server)) throw new Error(`${server}: 503 max sessions`);
      return server;
    });
  const on = async (p: MediaPool<string>, refuse: readonly string[] = []) => {
    const lease = await call(p, refuse);
    assert.ok(lease);
    return lease;
  };

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('takes turns among equally loaded servers', async () => {
    const p = pool(3);
    const got: string[] = [];
    for (let k = 0; k < 6; k++) {
      const l = await on(p);
      got.push(l.value);
      l.release();
    }
    assert.deepEqual(got, ['fs0', 'fs1', 'fs2', 'fs0', 'fs1', 'fs2']);
  });

  it('gives a new call to the server with the fewest calls in progress, counted from endpoint creation', async () => {
    const p = pool(2);
    const a = await on(p);
    const b = await on(p);
    const c = await on(p);
    assert.deepEqual([a.value, b.value, c.value], ['fs0', 'fs1', 'fs0']);
    a.release();
    c.release();
    // fs0 now has none, fs1 one
    assert.equal((await on(p)).value, 'fs0');
    assert.deepEqual(
      p.status().map((s) => s.calls),
      [1, 1],
    );
    // calls arriving together spread while their endpoints are still being made
    const q = pool(2);
    const leases = await Promise.all([call(q), call(q), call(q), call(q)]);
    assert.deepEqual(
      leases.map((l) => l!.value),
      ['fs0', 'fs1', 'fs0', 'fs1'],
    );
  });

  it('a release counts once, however often it is called', async () => {
    const p = pool(2);
    const a = await on(p);
    await on(p);
    a.release();
    a.release();
    assert.deepEqual(
      p.status().map((s) => s.calls),
      [0, 1],
    );
  });

  it('a server whose connection is gone gets no calls; it gets them again once it is back', async () => {
    const p = pool(2);
    p.set(1, null);
    const got: string[] = [];
    const leases: MediaLease<string>[] = [];
    for (let k = 0; k < 3; k++) leases.push(await on(p));
    got.push(...leases.map((l) => l.value));
    assert.deepEqual(got, ['fs0', 'fs0', 'fs0']);
    assert.deepEqual(p.status(), [
      { server: 'fs0', connected: true, calls: 3 },
      { server: 'fs1', connected: false, calls: 0 },
    ]);
    p.set(1, 'fs1');
    // back, and idle: it takes the next calls until the load is even
    assert.deepEqual(
      [(await on(p)).value, (await on(p)).value, (await on(p)).value, (await on(p)).value],
      ['fs1', 'fs1', 'fs1', 'fs0'],
    );
  });

  it('no server connected: null, and nothing is tried', async () => {
    const p = pool(2);
    p.set(0, null);
    p.set(1, null);
    const tried: string[] = [];
    assert.equal(await call(p, [], tried), null);
    assert.deepEqual(tried, []);
    assert.equal(p.connectedCount(), 0);
  });

  it('endpoint creation fails on one server: the next one is tried once; the failed one goes last for a while', async () => {
    const p = pool(3);
    const tried: string[] = [];
    const lease = await call(p, ['fs0'], tried);
    assert.deepEqual(tried, ['fs0', 'fs1']);
    assert.equal(lease!.value, 'fs1');
    assert.deepEqual(
      p.status().map((s) => s.calls),
      [0, 1, 0],
      'the failed try is not counted',
    );
    lease!.release();
    // fs0 is idle like the others but answered an error: it goes after them while the hold lasts
    const order: string[] = [];
    const held: MediaLease<string>[] = [];
    for (let k = 0; k < 4; k++) held.push(await on(p));
    order.push(...held.map((l) => l.value));
    assert.deepEqual(order, ['fs2', 'fs1', 'fs2', 'fs1']);
    for (const l of held) l.release();
    clock += 5000;
    const again = [await on(p), await on(p), await on(p)].map((l) => l.value).sort();
    assert.deepEqual(again, ['fs0', 'fs1', 'fs2'], 'after the hold it takes its share again');
  });

  it('a server that answered an error is still used when it is the only one left', async () => {
    const p = pool(2);
    await assert.rejects(call(p, ['fs0', 'fs1']), /fs1: 503/);
    p.set(1, null);
    assert.equal((await on(p)).value, 'fs0');
  });

  it('every try fails: rejects with the last error after two servers, not more', async () => {
    const p = pool(3);
    const tried: string[] = [];
    await assert.rejects(call(p, ['fs0', 'fs1', 'fs2'], tried), /fs1: 503 max sessions/);
    assert.deepEqual(tried, ['fs0', 'fs1']);
    assert.deepEqual(
      p.status().map((s) => s.calls),
      [0, 0, 0],
    );
  });

  it('no second try once the caller has gone', async () => {
    const p = pool(2);
    const tried: string[] = [];
    await assert.rejects(
      p.open(
        async (server) => {
          tried.push(server);
          throw new Error('refused');
        },
        () => false,
      ),
      /refused/,
    );
    assert.deepEqual(tried, ['fs0']);
  });
});
