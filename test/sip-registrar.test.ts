import assert from 'node:assert/strict';
import { TestRedis, capturedLog, silentLog } from './support/redis';
import { authorization, nonceOf, REALM, registerRequest, reply, type Reply } from './support/register';
import { parseNewDevice } from '../src/domain/device';
import { parseMac, type Mac } from '../src/domain/mac';
import { DEVICE, keys } from '../src/store/keys';
import { MAX_BINDINGS, SipStore } from '../src/store/sip';
import type { Store } from '../src/store/store';
import { signedNonce } from '../src/domain/nonce';
import { digestResponse, ha1 } from '../src/domain/digest';
import { handleRegister, type RegisterRequest, type RegistrarDeps } from '../src/sip/registrar';
import { authenticate, digestUriMatches } from '../src/sip/authenticate';
import { restrictedSipPassword } from '../src/domain/pap';
import { LockWatcher } from '../src/sip/lockwatch';
import { LogLimit } from '../src/lib/loglimit';
import { SOURCE_PREFIX } from '../src/domain/prefix';
import { loadConfig } from '../src/config';
import { Metrics } from '../src/lib/metrics';
import {
  behind,
  parseStackTime,
  RateLimiter,
  RegisterAdmission,
  RequestAge,
  Slots,
} from '../src/sip/overload';

const MAC = parseMac('001565aabbcc');
/** Where the fake phone sends from, and the address its minimal configuration went to. */
const SRC = '198.51.100.20';

/** RegisterAdmission with papgate's default bounds, no ceiling and an idle event loop unless told. */
const admission = (over: Partial<ConstructorParameters<typeof RegisterAdmission>[0]> = {}) =>
  new RegisterAdmission({
    ratePerSecond: 0,
    maxPending: 1e6,
    behindMs: 40,
    farBehindMs: 250,
    loopDelayMs: () => 0,
    ...over,
  });

/** A REGISTER from SRC unless it says otherwise. */
const request = (over: Partial<Parameters<typeof registerRequest>[0]>) =>
  registerRequest({ ...over, source: over.source ?? SRC });

describe('sip: registrar with digest authentication', () => {
  const r = new TestRedis();
  let store: Store;
  let sipStore: SipStore;
  /** the device's secret (the store's sipPassword) and the password its minimal configuration carries for SRC */
  let secret: string;
  let password: string;
  before(() => r.start());
  after(() => r.stop());
  beforeEach(async () => {
    await r.flush();
    store = r.store();
    sipStore = new SipStore(r.client, { nonceSeconds: 30 });
    await store.putTenant('acme', { name: 'Acme', language: null }, 'test');
    const res = await store.createDevices(
      'acme',
      [parseNewDevice({ mac: MAC, vendor: 'yealink', model: 'T54W', site: 'HQ' })],
      'test',
    );
    assert.ok(res !== 'unknown_tenant' && res.ok);
    secret = (await store.findDevice(MAC))!.sipPassword;
    password = restrictedSipPassword(secret, SRC, true);
    assert.ok(secret.length >= 16);
  });

  const deps = (over: Partial<RegistrarDeps> = {}): RegistrarDeps => ({
    realm: REALM,
    bindToSourceAddress: true,
    sipStore,
    findDevice: (m: Mac) => sipStore.login(m),
    traffic: (tenant, source, type, fields) => store.appendTraffic(tenant, source, type, fields),
    logLimit: new LogLimit({ perClient: 20, windowMs: 60_000 }),
    clientPrefix: SOURCE_PREFIX,
    maxExpiresSeconds: 300,
    admission: admission(),
    overloadRetryAfterSeconds: 7,
    log: silentLog,
    ...over,
  });

  async function register(req: RegisterRequest, d = deps()): Promise<Reply> {
    const { res, got } = reply();
    await handleRegister(req, res, d);
    return got;
  }

  /** REGISTER carrying only a digest Authorization built from `a`. */
  function registerWith(a: Parameters<typeof authorization>[0]): Promise<Reply> {
    return register(request({ headers: { Authorization: authorization(a) } }));
  }

  /** A 401's nonce: one of `d`'s admission, whose first answer is the second half of a registration. */
  async function challenge(d?: Parameters<typeof register>[1]): Promise<string> {
    const c = await register(request({}), d);
    assert.equal(c.status, 401);
    return nonceOf(c.headers['WWW-Authenticate']!);
  }

  it('challenges, then registers with the right password and stores the binding with its expiry', async () => {
    const first = await register(request({}));
    assert.equal(first.status, 401);
    assert.match(
      first.headers['WWW-Authenticate']!,
      /^Digest realm="papgate", nonce="[0-9a-f]{60}", algorithm=MD5, qop="auth"$/,
    );
    const nonce = nonceOf(first.headers['WWW-Authenticate']!);
    assert.deepEqual(await r.client.keys('*nonce*'), [keys.nonceSecret()], 'the challenge wrote no nonce');
    const ok = await register(
      request({
        headers: {
          Authorization: authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 1 }),
          Expires: '3600',
        },
      }),
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.Expires, '300', 'granted expiry capped');
    const reg = (await sipStore.registrations('acme', MAC))[0];
    assert.ok(reg);
    assert.equal(reg.contact, 'sip:001565aabbcc@192.0.2.10:5062');
    assert.equal(reg.address, '198.51.100.20');
    assert.equal(reg.port, 40000);
    assert.equal(reg.callId, 'call-1', 'the Call-ID header (drachtio-srf has no callId property)');
    const ttl = await r.client.ttl(keys.tenant('acme').registrations(MAC));
    assert.ok(ttl > 290 && ttl <= 300, `ttl ${ttl}`);
    // the nonce-count, in the tenant's slot, kept while the nonce lives plus SIP_NONCE_SECONDS
    const record = keys.tenant('acme').nonce(nonce);
    assert.equal(await r.client.get(record), '1');
    const recordTtl = await r.client.pTTL(record);
    assert.ok(recordTtl > 58_000 && recordTtl <= 60_000, `record ttl ${recordTtl}`);
  });

  it('a nonce without qop is single use: its second use gets stale=true', async () => {
    const nonce = await challenge();
    const response = digestResponse({
      ha1: ha1(MAC, REALM, password),
      nonce,
      method: 'REGISTER',
      uri: 'sip:127.0.0.1',
      qop: null,
      nc: null,
      cnonce: null,
    });
    const auth = `Digest username="${MAC}", realm="${REALM}", nonce="${nonce}", uri="sip:127.0.0.1", response="${response}"`;
    assert.equal((await register(request({ headers: { Authorization: auth } }))).status, 200);
    const again = await register(request({ headers: { Authorization: auth } }));
    assert.equal(again.status, 401);
    assert.match(again.headers['WWW-Authenticate']!, /stale=true/);
  });

  it('refuses a replayed Authorization, accepts the next nonce-count', async () => {
    const nonce = await challenge();
    const auth = authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 1 });
    assert.equal((await register(request({ headers: { Authorization: auth } }))).status, 200);
    assert.equal((await register(request({ headers: { Authorization: auth } }))).status, 403, 'replay');
    const next = authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 2, cnonce: 'other' });
    assert.equal((await register(request({ headers: { Authorization: next } }))).status, 200);
    assert.equal((await register(request({ headers: { Authorization: next } }))).status, 403);
  });

  it('answers stale=true for an expired, foreign or unknown nonce with the right password', async () => {
    let now = Date.now();
    const d = deps({ sipStore: new SipStore(r.client, { nonceSeconds: 30, now: () => now }) });
    const { res, got } = reply();
    await handleRegister(request({}), res, d);
    const old = nonceOf((await got).headers['WWW-Authenticate']!);
    now += 30_001;
    // the same shape and secret as papgate's, but another secret: not papgate's
    const foreign = signedNonce(Buffer.alloc(32, 7), Date.now());
    for (const nonce of [old, foreign, 'ab'.repeat(16)]) {
      const { res: res2, got: got2 } = reply();
      await handleRegister(
        request({
          headers: {
            Authorization: authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 1 }),
          },
        }),
        res2,
        d,
      );
      const answer = await got2;
      assert.equal(answer.status, 401, nonce);
      assert.match(answer.headers['WWW-Authenticate']!, /stale=true/);
    }
    assert.deepEqual(await sipStore.registrations('acme', MAC), []);
  });

  it('decides on the device as Redis holds it now: deleted between two REGISTERs, or during one', async () => {
    const nonce = await challenge();
    assert.equal(
      (await registerWith({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 1 })).status,
      200,
    );
    // deleted while the REGISTER was between its device read and its store step: no binding
    const racing = deps({
      findDevice: async (m: Mac) => {
        const dev = await store.findDevice(m);
        await r.client.hSet(keys.tenant('acme').device(MAC), DEVICE.sipPassword, 'changed-meanwhile');
        return dev;
      },
    });
    const { res, got } = reply();
    await handleRegister(
      request({
        headers: {
          Authorization: authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 2 }),
        },
      }),
      res,
      racing,
    );
    assert.equal((await got).status, 403, 'SIP password changed during the REGISTER');
    assert.equal(await store.deleteDevice('acme', MAC, 'test'), true);
    assert.equal(
      (await registerWith({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 3 })).status,
      403,
      'deleted device',
    );
  });

  it('refuses a wrong password, an unknown MAC, a foreign digest uri', async () => {
    const cases: { name: string; user: string; password: string; uri: string }[] = [
      { name: 'wrong password', user: MAC, password: 'wrong', uri: 'sip:127.0.0.1' },
      { name: 'unknown MAC', user: '001565aabbcd', password, uri: 'sip:127.0.0.1' },
      { name: 'not a MAC', user: 'alice', password, uri: 'sip:127.0.0.1' },
      { name: 'foreign digest uri', user: MAC, password, uri: 'sip:evil' },
    ];
    for (const c of cases) {
      const nonce = await challenge();
      const res = await registerWith({ user: c.user, password: c.password, nonce, uri: c.uri, nc: 1 });
      assert.equal(res.status, 403, c.name);
    }
  });

  it('bound: takes the password only from the address it was derived for, records the others', async () => {
    let written: Promise<void> | undefined;
    const d = deps({
      traffic: (t, source, type, fields) => (written = store.appendTraffic(t, source, type, fields)),
    });
    const from = async (source: string, pw: string, nc: number) => {
      const nonce = nonceOf((await register(request({ source }), d)).headers['WWW-Authenticate']!);
      const auth = authorization({ user: MAC, password: pw, nonce, uri: 'sip:127.0.0.1', nc });
      return (await register(request({ source, headers: { Authorization: auth } }), d)).status;
    };
    // SRC's file used from another address: refused and audited, nothing registered
    assert.equal(await from('203.0.113.9', password, 1), 403);
    assert.ok(written, 'a traffic event is written');
    await written;
    const [ev] = await store.events('acme', 1, undefined, 'traffic');
    assert.equal(ev?.type, 'sip_register_refused');
    assert.equal(ev?.mac, MAC);
    assert.equal(ev?.src, '203.0.113.9');
    assert.deepEqual(await sipStore.registrations('acme', MAC), []);
    // the secret itself is no password when bound
    assert.equal(await from(SRC, secret, 1), 403);
    // the other address's own password works there, and SRC's still works at SRC (nothing rotated)
    assert.equal(await from('203.0.113.9', restrictedSipPassword(secret, '203.0.113.9', true), 1), 200);
    assert.equal(await from(SRC, password, 1), 200);
    // IPv4-mapped IPv6 is the same address
    assert.equal(await from(`::ffff:${SRC}`, password, 1), 200);
  });

  it('unbound (SIP_BIND_TO_PROVISIONING_IP=0): one password per device from any address', async () => {
    const d = deps({ bindToSourceAddress: false });
    for (const source of [SRC, '203.0.113.9']) {
      const nonce = nonceOf((await register(request({ source }), d)).headers['WWW-Authenticate']!);
      const ok = authorization({ user: MAC, password: secret, nonce, uri: 'sip:127.0.0.1', nc: 1 });
      assert.equal(
        (await register(request({ source, headers: { Authorization: ok } }), d)).status,
        200,
        source,
      );
      const bound = authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 2 });
      assert.equal((await register(request({ source, headers: { Authorization: bound } }), d)).status, 403);
    }
  });

  it('digest uri: the Request-URI, or the Request-URI without its user part', () => {
    assert.ok(digestUriMatches('sip:*89@127.0.0.1:5060', 'sip:*89@127.0.0.1:5060'));
    assert.ok(digestUriMatches('sip:127.0.0.1:5060', 'sip:*89@127.0.0.1:5060'));
    assert.ok(!digestUriMatches('sip:other:5060', 'sip:*89@127.0.0.1:5060'));
    assert.ok(!digestUriMatches('sip:110@127.0.0.1:5060', 'sip:*89@127.0.0.1:5060'));
  });

  it('accepts the MAC in upper case as username', async () => {
    const nonce = await challenge();
    const res = await registerWith({
      user: MAC.toUpperCase(),
      password,
      nonce,
      uri: 'sip:127.0.0.1',
      nc: 1,
    });
    assert.equal(res.status, 200);
    assert.equal((await sipStore.registrations('acme', MAC)).length, 1);
  });

  it('registers a device that is already successful: a phone with "reset needed" still reaches the emergency route', async () => {
    const pap = (await store.getDevice('acme', MAC))!.pap;
    assert.equal((await store.attemptPap(MAC, pap, null, 'test', 'api')).outcome, 'successful');
    const nonce = await challenge();
    assert.equal(
      (await registerWith({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 1 })).status,
      200,
    );
    assert.equal((await sipStore.registrations('acme', MAC)).length, 1);
  });

  it('Expires: 0 removes the binding', async () => {
    const nonce = await challenge();
    assert.equal(
      (await registerWith({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 1 })).status,
      200,
    );
    assert.equal((await sipStore.registrations('acme', MAC)).length, 1);
    const res = await register(
      request({
        headers: {
          Authorization: authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 2 }),
          Expires: '0',
        },
      }),
    );
    assert.equal(res.status, 200);
    assert.deepEqual(await sipStore.registrations('acme', MAC), []);
  });

  it('above an opt-in SIP_REGISTER_RATE_LIMIT: new registrations get 503 + Retry-After before any store work; challenged ones finish', async () => {
    let now = 1_000_000;
    const d = deps({
      admission: admission({ ratePerSecond: 2, maxPending: 100, now: () => now }),
    });
    // the challenge of a registration admitted earlier, kept for its second half
    const nonce = await challenge(d);
    assert.equal((await register(request({}), d)).status, 401);
    const shed = await register(request({}), d);
    assert.equal(shed.status, 503);
    assert.equal(shed.headers['Retry-After'], '7');
    const auth = authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 1 });
    assert.equal((await register(request({ headers: { Authorization: auth } }), d)).status, 200);
    now += 500; // one token back
    assert.equal((await register(request({}), d)).status, 401);
    assert.equal((await register(request({}), d)).status, 503);
  });

  it('above SIP_REGISTER_MAX_PENDING: 503 while the store is slow, admitted again once it answered', async () => {
    const slow: (() => void)[] = [];
    const d = deps({
      admission: admission({ maxPending: 1 }),
      findDevice: (m: Mac) => new Promise((resolve) => slow.push(() => resolve(store.findDevice(m)))),
    });
    const nonce = await challenge();
    const auth = (nc: number) => ({
      headers: { Authorization: authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc }) },
    });
    const first = register(request(auth(1)), d);
    const second = await register(request(auth(2)), d);
    assert.equal(second.status, 503);
    assert.equal(second.headers['Retry-After'], '7');
    assert.equal(slow.length, 1, 'the shed REGISTER never reached the store');
    slow.shift()!();
    assert.equal((await first).status, 200);
    const third = register(request(auth(3)), d);
    const waiting = () => slow.length;
    while (waiting() === 0) await new Promise((resolve) => setImmediate(resolve));
    slow.shift()!();
    assert.equal((await third).status, 200);
  });

  it("only an answer to a fresh challenge of papgate's skips SIP_REGISTER_RATE_LIMIT: a made-up Digest header is a new registration", async () => {
    const now = 1_000_000;
    const d = deps({
      admission: admission({ ratePerSecond: 50, now: () => now }),
    });
    // a challenge of this process's, answered below with the bucket empty
    const nonce = await challenge(d);
    // The drill: 2,400 REGISTERs with any `Authorization: Digest ...`, none of which got 503.
    const madeUp = [
      'Digest username="x", realm="papgate", nonce="x", uri="sip:127.0.0.1", response="0"',
      authorization({ user: MAC, password, nonce: 'ab'.repeat(30), uri: 'sip:127.0.0.1', nc: 1 }),
      authorization({
        user: MAC,
        password,
        nonce: signedNonce(Buffer.alloc(32, 7), Date.now()),
        uri: 'sip:127.0.0.1',
        nc: 1,
      }),
    ];
    let shed = 0;
    for (let i = 0; i < 2400; i++) {
      const res = await register(request({ headers: { Authorization: madeUp[i % madeUp.length]! } }), d);
      if (res.status === 503) shed += 1;
    }
    assert.equal(shed, 2400 - 49, 'one second of the rate (one token went to the challenge), then 503');
    // an answer to papgate's own challenge still goes through with the bucket empty
    const auth = authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc: 1 });
    assert.equal((await register(request({ headers: { Authorization: auth } }), d)).status, 200);
  });

  it('SIP_REQUIRE_TLS: a REGISTER over UDP or TCP gets 403 before any challenge or store work; over TLS it is challenged', async () => {
    const logins: Mac[] = [];
    const d = deps({
      requireTls: true,
      findDevice: (m: Mac) => {
        logins.push(m);
        return sipStore.login(m);
      },
    });
    for (const protocol of ['udp', 'tcp'])
      assert.equal((await register(request({ protocol }), d)).status, 403, protocol);
    assert.equal((await register(request({ protocol: 'tls' }), d)).status, 401);
    assert.deepEqual(logins, []);
  });

  it("papgate behind (the event loop): a new registration gets 503 before any store work, a challenge's answer is finished; far behind, both get 503", async () => {
    let loopDelayMs = 0;
    const logins: Mac[] = [];
    const metrics = new Metrics();
    const d = deps({
      metrics,
      admission: admission({ loopDelayMs: () => loopDelayMs }),
      findDevice: (m: Mac) => {
        logins.push(m);
        return sipStore.login(m);
      },
    });
    const nonce = await challenge(d);
    const auth = (nc: number) => ({
      headers: { Authorization: authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc }) },
    });
    loopDelayMs = 41;
    const shed = await register(request({}), d);
    assert.equal(shed.status, 503);
    assert.equal(shed.headers['Retry-After'], '7');
    assert.equal((await register(request(auth(1)), d)).status, 200, 'its first half was answered: finished');
    loopDelayMs = 251;
    assert.equal((await register(request(auth(2)), d)).status, 503);
    assert.equal(logins.length, 1, 'only the admitted REGISTER reached the store');
    loopDelayMs = 0;
    assert.equal((await register(request({}), d)).status, 401, 'caught up: admitted again');
    const { body } = await metrics.expose();
    assert.match(body, /^papgate_sip_registers_shed_total\{reason="loop_delay"\} 2$/m);
    assert.match(body, /^papgate_sip_registers_shed_total\{reason="request_age"\} 0$/m);
  });

  it('papgate behind: a 401 to a second half opens no challenge (a chain of made-up answers), and a challenge older than 10 s counts no more', async () => {
    let loopDelayMs = 0;
    let now = 1_000_000;
    const d = deps({ admission: admission({ loopDelayMs: () => loopDelayMs, now: () => now }) });
    const nonce = await challenge(d);
    const stale = await challenge(d);
    loopDelayMs = 100; // past SIP_OVERLOAD_BEHIND_MS (40 here), not far behind (250)
    // a made-up answer in another realm: admitted once (the challenge's first answer), then a 401
    const madeUp = (n: string) => ({
      headers: {
        Authorization: `Digest username="${MAC}", realm="elsewhere", nonce="${n}", uri="sip:127.0.0.1", response="${'0'.repeat(32)}"`,
      },
    });
    const first = await register(request(madeUp(nonce)), d);
    assert.equal(first.status, 401);
    const next = nonceOf(first.headers['WWW-Authenticate']!);
    assert.equal((await register(request(madeUp(next)), d)).status, 503, 'the chain ends at the first link');
    now += 10_001;
    const late = {
      headers: {
        Authorization: authorization({ user: MAC, password, nonce: stale, uri: 'sip:127.0.0.1', nc: 1 }),
      },
    };
    assert.equal((await register(request(late), d)).status, 503, 'a challenge kept 10 s is spent');
  });

  it("papgate behind: only the first answer to this process's own REGISTER challenge is a second half; a nonce used again, or one of another 401 or 407, is a new registration", async () => {
    let loopDelayMs = 0;
    const d = deps({ admission: admission({ loopDelayMs: () => loopDelayMs }) });
    const nonce = await challenge(d);
    const auth = (n: string, nc: number) => ({
      headers: { Authorization: authorization({ user: MAC, password, nonce: n, uri: 'sip:127.0.0.1', nc }) },
    });
    loopDelayMs = 100; // past SIP_OVERLOAD_BEHIND_MS (40 here), not far behind (250)
    assert.equal((await register(request(auth(nonce, 1)), d)).status, 200, 'its first answer: finished');
    // The drill: one real nonce carried 500 made-up REGISTERs past the bound while phones got 503.
    for (let nc = 2; nc < 12; nc++) assert.equal((await register(request(auth(nonce, nc)), d)).status, 503);
    // a nonce papgate signed for something else (an INVITE's 407, the provisioning challenge)
    const other = await sipStore.issueNonce();
    assert.equal((await register(request(auth(other, 1)), d)).status, 503);
    loopDelayMs = 0;
    assert.equal((await register(request(auth(nonce, 12)), d)).status, 200, 'caught up: checked as always');
  });

  it('papgate behind (the request waited): a REGISTER drachtio-server received long ago gets 503, one just received is served', async () => {
    let now = Date.UTC(2026, 0, 5, 8, 0, 0);
    // drachtio-server's clock: another host's, an hour and a bit ahead (another time zone, drifted)
    const stack = (waitedMs: number) => {
      const t = new Date(now + 3_600_000 + 1234 - waitedMs);
      const pad = (n: number, w = 2) => String(n).padStart(w, '0');
      return `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${pad(t.getUTCMilliseconds(), 3)}000`;
    };
    const d = deps({ admission: admission({ now: () => now, wallNow: () => now }) });
    const at = (waitedMs: number) => register({ ...request({}), stackTime: stack(waitedMs) }, d);
    assert.equal((await at(2)).status, 401, 'the first request sets the baseline');
    now += 5;
    assert.equal((await at(0)).status, 401);
    now += 5;
    assert.equal((await at(30)).status, 401, 'within SIP_OVERLOAD_BEHIND_MS');
    now += 5;
    assert.equal((await at(45)).status, 503);
    assert.equal(
      (await register({ ...request({}), stackTime: 'garbage' }, d)).status,
      401,
      'no age: other readings',
    );
  });

  it("SipStore.isFreshNonce: papgate's own nonces while fresh, decided without Redis once the secret is read", async () => {
    let now = Date.now();
    const s = new SipStore(r.client, { nonceSeconds: 30, now: () => now });
    const early = await sipStore.issueNonce();
    assert.equal(s.isFreshNonce(early), false, 'before this process read the secret');
    const nonce = await s.issueNonce();
    assert.equal(s.isFreshNonce(nonce), true);
    assert.equal(s.isFreshNonce(early), true, "another process's, with the shared secret");
    assert.equal(s.isFreshNonce(signedNonce(Buffer.alloc(32, 7), now)), false, 'another secret');
    assert.equal(s.isFreshNonce(nonce.slice(0, -1) + (nonce.endsWith('0') ? '1' : '0')), false, 'altered');
    assert.equal(s.isFreshNonce('x'), false);
    now += 30_001;
    assert.equal(s.isFreshNonce(nonce), false, 'expired');
  });

  it('a binding keeps at most a 256-character Contact (longer: 400) and a 128-character User-Agent and Call-ID', async () => {
    const nonce = await challenge();
    let nc = 0;
    const from = (source: string, o: { contact: string; headers?: Record<string, string> }) => {
      const auth = authorization({
        user: MAC,
        password: restrictedSipPassword(secret, source, true),
        nonce,
        uri: 'sip:127.0.0.1',
        nc: ++nc,
      });
      return register(
        registerRequest({ source, contact: o.contact, headers: { Authorization: auth, ...o.headers } }),
      );
    };
    const contact = (n: number) =>
      `sip:${MAC}@192.0.2.10:5062;x=${'a'.repeat(n - 'sip:001565aabbcc@192.0.2.10:5062;x='.length)}`;
    assert.equal(contact(256).length, 256);
    const tooLong = await from(SRC, { contact: contact(257) });
    assert.equal(tooLong.status, 400);
    assert.deepEqual(await sipStore.registrations('acme', MAC), [], 'nothing stored');
    // The drill: four addresses, each with a 3.5 KB Contact and a 4 KB User-Agent, grew the key to 33 KB.
    for (const source of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) {
      assert.equal((await from(source, { contact: contact(3500) })).status, 400, source);
      const ok = await from(source, {
        contact: contact(256),
        headers: { 'User-Agent': `Yealink SIP-T54W ${'9'.repeat(4000)}`, 'Call-ID': 'c'.repeat(8000) },
      });
      assert.equal(ok.status, 200, source);
    }
    const bindings = await sipStore.registrations('acme', MAC);
    assert.equal(bindings.length, 4);
    for (const b of bindings) {
      assert.equal(b.contact, contact(256));
      assert.equal(b.userAgent, `Yealink SIP-T54W ${'9'.repeat(128 - 20)}...`);
      assert.equal(b.callId.length, 128);
    }
    const bytes = Number(
      await r.client.sendCommand(['MEMORY', 'USAGE', keys.tenant('acme').registrations(MAC)]),
    );
    assert.ok(bytes < 3000, `the registrations key holds ${bytes} bytes`);
    // what phones send is kept as it is
    const phone = await from(SRC, {
      contact: `sip:${MAC}@192.0.2.10:5062;transport=udp`,
      headers: { 'User-Agent': 'Yealink SIP-T54W 96.86.0.70' },
    });
    assert.equal(phone.status, 200);
    const own = (await sipStore.registrations('acme', MAC)).find((b) => b.address === SRC)!;
    assert.equal(own.userAgent, 'Yealink SIP-T54W 96.86.0.70');
    assert.equal(own.contact, `sip:${MAC}@192.0.2.10:5062;transport=udp`);
  });

  it('a flood of REGISTERs moving a binding, with 8 KB Call-IDs: a few short "registered" lines per client and window', async () => {
    const out = capturedLog();
    const d = deps({ log: out.log });
    const nonce = await challenge();
    for (let nc = 1; nc <= 500; nc++) {
      const auth = authorization({ user: MAC, password, nonce, uri: 'sip:127.0.0.1', nc });
      const res = await register(
        request({
          contact: `sip:${MAC}@192.0.2.10:${10000 + nc}`,
          headers: { Authorization: auth, 'Call-ID': `${nc}-${'x'.repeat(8192)}` },
        }),
        d,
      );
      assert.equal(res.status, 200);
    }
    // The drill: 500 "registered" lines of 8 KB each. Now 20 (TRAFFIC_PER_CLIENT here), then one
    // saying the rest is suppressed; the Call-ID cut to 128 characters.
    assert.equal(out.count('registered'), 21);
    const bytes = out.lines.reduce((n, l) => n + JSON.stringify(l).length, 0);
    assert.ok(bytes < 21 * 500, `${bytes} bytes of log`);
    assert.equal(String(out.lines[0]!.callId).length, 128);
    assert.match(out.lines[20]!.msg, /^registered: further lines of this client suppressed/);
  });

  it('answers 503 when the store is unreachable', async () => {
    const broken = {
      issueNonce: () => Promise.reject(new Error('down')),
      checkNonce: () => Promise.reject(new Error('down')),
      useNonce: () => Promise.reject(new Error('down')),
    };
    const res = await authenticate(
      { method: 'INVITE', uri: 'sip:*89@x', source_address: SRC, get: () => undefined },
      'proxy-authorization',
      {
        realm: REALM,
        bindToSourceAddress: true,
        sipStore: broken,
        findDevice: () => Promise.reject(new Error('down')),
      },
    );
    assert.equal(res.kind, 'store_unavailable');
  });

  it('finds the device through the MAC index, then in the tenant it was last seen in, as Redis holds it now', async () => {
    const login = await sipStore.login(MAC);
    assert.deepEqual(login, { tenant: 'acme', sipPassword: secret, state: 'needed' });
    // moved to another tenant: the hint (acme) finds no record there, the index is read again
    assert.equal(await store.deleteDevice('acme', MAC, 'test'), true);
    assert.equal(await sipStore.login(MAC), null);
    await store.putTenant('globex', { name: 'Globex', language: null }, 'test');
    const moved = await store.createDevices(
      'globex',
      [parseNewDevice({ mac: MAC, vendor: 'yealink', model: 'T54W', site: 'HQ' })],
      'test',
    );
    assert.ok(moved !== 'unknown_tenant' && moved.ok);
    const again = await sipStore.login(MAC);
    assert.equal(again?.tenant, 'globex');
    assert.notEqual(again?.sipPassword, secret, 'the new device record, not a remembered one');
    await r.client.hSet(keys.tenant('globex').device(MAC), DEVICE.state, 'successful');
    assert.equal((await sipStore.login(MAC))?.state, 'successful');
  });

  it('tells a refresh of the same binding from a new or moved one', async () => {
    const nonce = await sipStore.issueNonce();
    const reg = {
      mac: MAC,
      contact: 'sip:a@192.0.2.10:5062',
      address: '198.51.100.20',
      port: 40000,
      protocol: 'udp',
      expiresAt: Date.now() + 60000,
      userAgent: 'u',
      callId: 'c1',
    };
    const use = async (nc: number, r: typeof reg) => {
      const claim = await sipStore.checkNonce(nonce, nc.toString(16).padStart(8, '0'));
      assert.ok(claim !== 'stale');
      return sipStore.register('acme', MAC, claim, secret, r.address, { reg: r, ttlSeconds: 60 });
    };
    assert.equal(await use(1, reg), 'ok', 'new');
    assert.equal(await use(2, { ...reg, callId: 'c2', expiresAt: reg.expiresAt + 1 }), 'refreshed');
    assert.equal(await use(3, { ...reg, port: 40001 }), 'ok', 'moved (NAT port)');
    assert.equal(await use(3, { ...reg, port: 40001 }), 'replay');
    assert.equal((await sipStore.registrations('acme', MAC))[0]?.port, 40001);
  });

  it('keeps a binding per source address: a copy registered elsewhere neither replaces nor unregisters the phone', async () => {
    const nonce = await sipStore.issueNonce();
    let nc = 0;
    const at = (address: string, o: { port?: number; ttl?: number } = {}) => {
      const reg = {
        mac: MAC,
        contact: `sip:a@${address}:5062`,
        address,
        port: o.port ?? 5062,
        protocol: 'udp',
        expiresAt: Date.now() + (o.ttl ?? 60) * 1000,
        userAgent: 'u',
        callId: `c-${address}`,
      };
      return { reg, ttlSeconds: o.ttl ?? 60 };
    };
    const use = async (address: string, binding: ReturnType<typeof at> | null) => {
      const claim = await sipStore.checkNonce(nonce, (++nc).toString(16).padStart(8, '0'));
      assert.ok(claim !== 'stale');
      return sipStore.register('acme', MAC, claim, secret, address, binding);
    };
    const addresses = async () => (await sipStore.registrations('acme', MAC)).map((b) => b.address).sort();
    await use('198.51.100.20', at('198.51.100.20'));
    await use('203.0.113.9', at('203.0.113.9', { ttl: 120 }));
    assert.deepEqual(await addresses(), ['198.51.100.20', '203.0.113.9']);
    assert.equal((await sipStore.registrations('acme', MAC))[0]!.address, '203.0.113.9', 'latest first');
    // Contact: * (or Expires: 0) from elsewhere removes that address's binding only
    await use('203.0.113.9', null);
    assert.deepEqual(await addresses(), ['198.51.100.20']);
    await use('203.0.113.1', at('203.0.113.1', { ttl: 70 }));
    await use('203.0.113.2', at('203.0.113.2', { ttl: 80 }));
    await use('203.0.113.3', at('203.0.113.3', { ttl: 90 }));
    await use('203.0.113.4', at('203.0.113.4', { ttl: 100 }));
    assert.deepEqual(
      await addresses(),
      ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4'],
      `at most ${MAX_BINDINGS}: the one expiring first made room`,
    );
    const ttl = await r.client.pTTL(keys.tenant('acme').registrations(MAC));
    assert.ok(ttl > 95_000 && ttl <= 100_000, `the key lives as long as its last binding: ${ttl}`);
  });

  it('a refresh rewrites only its own binding, and the key lives as long as its last binding', async () => {
    const nonce = await sipStore.issueNonce();
    let nc = 0;
    const key = keys.tenant('acme').registrations(MAC);
    const use = async (address: string, o: { ttl: number; contact?: string; callId?: string }) => {
      const claim = await sipStore.checkNonce(nonce, (++nc).toString(16).padStart(8, '0'));
      assert.ok(claim !== 'stale');
      const reg = {
        mac: MAC,
        contact: o.contact ?? `sip:a@${address}:5062`,
        address,
        port: 5062,
        protocol: 'udp',
        expiresAt: Date.now() + o.ttl * 1000,
        userAgent: 'u',
        callId: o.callId ?? 'c1',
      };
      return sipStore.register('acme', MAC, claim, secret, address, { reg, ttlSeconds: o.ttl });
    };
    assert.equal(await use(SRC, { ttl: 60 }), 'ok');
    assert.equal(await use('203.0.113.9', { ttl: 120 }), 'ok');
    assert.equal(await use(SRC, { ttl: 30, callId: 'c2' }), 'refreshed');
    let ttl = await r.client.pTTL(key);
    assert.ok(ttl > 115_000 && ttl <= 120_000, `not shortened by a shorter refresh: ${ttl}`);
    const mine = (await sipStore.registrations('acme', MAC)).find((b) => b.address === SRC);
    assert.equal(mine?.callId, 'c2', 'the refresh is stored');
    assert.ok(mine!.expiresAt <= Date.now() + 30_000);
    assert.equal(await use(SRC, { ttl: 300 }), 'refreshed');
    ttl = await r.client.pTTL(key);
    assert.ok(ttl > 295_000 && ttl <= 300_000, `extended by a longer one: ${ttl}`);
    // a Contact that only begins like the stored one is a move, not a refresh
    assert.equal(await use(SRC, { ttl: 60, contact: `sip:a@${SRC}:50621` }), 'ok');
    assert.equal(await use(SRC, { ttl: 60, contact: `sip:a@${SRC}:5062` }), 'ok');
  });

  it('answers 503 at once, not a challenge, while the Redis connection is down', async () => {
    const down = await new TestRedis().start();
    try {
      const s = new SipStore(down.client, { nonceSeconds: 30 });
      await s.issueNonce(); // the secret is read: from here on a challenge needs no Redis
      await down.server.stop();
      while (down.client.isReady) await new Promise((resolve) => setTimeout(resolve, 10));
      const res = await register(request({}), deps({ sipStore: s }));
      assert.equal(res.status, 503);
      assert.equal(res.headers['Retry-After'], '30');
    } finally {
      down.client.destroy(); // close() would wait for the server that is gone
      await down.stop();
    }
  });

  it('authenticates INVITEs through Proxy-Authorization', async () => {
    const d = {
      realm: REALM,
      bindToSourceAddress: true,
      sipStore,
      findDevice: (m: Mac) => store.findDevice(m),
    };
    const get = (h: Record<string, string>) => (n: string) => h[n.toLowerCase()];
    const first = await authenticate(
      { method: 'INVITE', uri: 'sip:*89@127.0.0.1', source_address: SRC, get: get({}) },
      'proxy-authorization',
      d,
    );
    assert.equal(first.kind, 'challenge');
    const nonce = nonceOf((first as { header: string }).header);
    const auth = authorization({
      user: MAC,
      password,
      nonce,
      uri: 'sip:*89@127.0.0.1',
      nc: 1,
      method: 'INVITE',
    });
    const ok = await authenticate(
      {
        method: 'INVITE',
        uri: 'sip:*89@127.0.0.1',
        source_address: SRC,
        get: get({ 'proxy-authorization': auth }),
      },
      'proxy-authorization',
      d,
    );
    assert.equal(ok.kind, 'ok');
    // the REGISTER header does not count for an INVITE
    const wrongHeader = await authenticate(
      { method: 'INVITE', uri: 'sip:*89@127.0.0.1', source_address: SRC, get: get({ authorization: auth }) },
      'proxy-authorization',
      d,
    );
    assert.equal(wrongHeader.kind, 'challenge');
  });

  describe('a login remembered from the last REGISTER (SipStore.knownLogin)', () => {
    let known: SipStore;
    let reads: number;
    /** A registrar whose store remembers logins for 600 s; `reads` counts the device reads. */
    const remembering = (over: Partial<RegistrarDeps> = {}) =>
      deps({
        sipStore: known,
        findDevice: (m: Mac) => {
          reads += 1;
          return known.login(m);
        },
        knownDevice: (m: Mac) => known.knownLogin(m),
        ...over,
      });
    beforeEach(() => {
      known = new SipStore(r.client, { nonceSeconds: 30, loginSeconds: 600 });
      reads = 0;
    });
    /** One REGISTER from SRC on `nonce` with nonce-count `nc`; `contact`: null a query, '*' unregisters. */
    const registerAt = (
      d: RegistrarDeps,
      o: { nonce: string; nc: number; password: string; contact?: string | null },
    ) =>
      register(
        request({
          contact: o.contact,
          headers: {
            Authorization: authorization({
              user: MAC,
              password: o.password,
              nonce: o.nonce,
              uri: 'sip:127.0.0.1',
              nc: o.nc,
            }),
            ...(o.contact === '*' ? { Expires: '0' } : {}),
          },
        }),
        d,
      );
    const nonceRecord = (nonce: string) => r.client.get(keys.tenant('acme').nonce(nonce));

    it('a refresh is checked without reading the device; register.lua still decides', async () => {
      const d = remembering();
      const nonce = await challenge();
      assert.equal((await registerAt(d, { nonce, nc: 1, password })).status, 200);
      assert.equal(reads, 1);
      for (let nc = 2; nc <= 4; nc++)
        assert.equal((await registerAt(d, { nonce, nc, password })).status, 200);
      assert.equal(reads, 1, 'refreshes of an unchanged device read nothing');
      assert.deepEqual(known.knownLogin(MAC), { tenant: 'acme', sipPassword: secret, state: 'needed' });
      // a wrong password is never refused on the remembered login alone: the device is read
      assert.equal((await registerAt(d, { nonce, nc: 5, password: 'wrong' })).status, 403);
      assert.equal(reads, 2);
    });

    it('a replayed nonce-count is refused as without it', async () => {
      const d = remembering();
      const nonce = await challenge();
      assert.equal((await registerAt(d, { nonce, nc: 1, password })).status, 200);
      assert.equal((await registerAt(d, { nonce, nc: 2, password })).status, 200);
      assert.equal((await registerAt(d, { nonce, nc: 2, password })).status, 403, 'replay');
      assert.equal((await registerAt(d, { nonce, nc: 1, password })).status, 403, 'older');
      assert.equal(await nonceRecord(nonce), '2');
      assert.equal((await registerAt(d, { nonce, nc: 3, password })).status, 200);
      assert.equal(reads, 1);
    });

    it('a device deleted, or given another SIP password: the remembered one registers nothing', async () => {
      const d = remembering();
      const nonce = await challenge();
      let nc = 0;
      const recreate = async () => {
        const res = await store.createDevices(
          'acme',
          [parseNewDevice({ mac: MAC, vendor: 'yealink', model: 'T54W', site: 'HQ' })],
          'test',
        );
        assert.ok(res !== 'unknown_tenant' && res.ok);
      };
      // a binding, a query (useNonce does not check the device), an unregistration
      for (const contact of [undefined, null, '*']) {
        nc += 1;
        assert.equal((await registerAt(d, { nonce, nc, password })).status, 200);
        assert.equal(known.knownLogin(MAC)?.sipPassword, secret);
        assert.equal(await store.deleteDevice('acme', MAC, 'test'), true);
        const res = await registerAt(d, { nonce, nc: nc + 1, password, contact });
        assert.equal(res.status, 403, `deleted, contact ${contact}`);
        assert.equal(known.knownLogin(MAC), undefined, 'forgotten');
        assert.deepEqual(await sipStore.registrations('acme', MAC), []);
        assert.equal(await nonceRecord(nonce), String(nc), 'no nonce-count used up');
        await recreate();
        // created again it has a new SIP password: the phone with the old one gets nowhere
        assert.equal((await registerAt(d, { nonce, nc: nc + 1, password })).status, 403, 'recreated');
        await r.client.hSet(keys.tenant('acme').device(MAC), DEVICE.sipPassword, secret);
      }
      // another SIP password while the old one is remembered: register.lua's 'changed', then the read
      nc += 1;
      assert.equal((await registerAt(d, { nonce, nc, password })).status, 200);
      const reg = (await sipStore.registrations('acme', MAC))[0];
      await r.client.hSet(keys.tenant('acme').device(MAC), DEVICE.sipPassword, 'changed-meanwhile');
      assert.equal(known.knownLogin(MAC)?.sipPassword, secret, 'remembered, out of date');
      const moved = await registerAt(d, { nonce, nc: nc + 1, password, contact: 'sip:x@192.0.2.10:5070' });
      assert.equal(moved.status, 403);
      assert.deepEqual(await sipStore.registrations('acme', MAC), [reg], 'binding unchanged');
      assert.equal(await nonceRecord(nonce), String(nc), 'no nonce-count used up');
      // and the current password registers, whatever was remembered
      const current = restrictedSipPassword('changed-meanwhile', SRC, true);
      assert.equal((await registerAt(d, { nonce, nc: nc + 1, password: current })).status, 200);
    });

    it('a reset, a PAP success, a suspension: the next REGISTER is decided and logged on the device as it is now', async () => {
      const out = capturedLog();
      const d = remembering({ log: out.log });
      const nonce = await challenge();
      let nc = 0;
      /** A REGISTER moving the binding (a new port), so that it is logged with the state. */
      const moved = async () => {
        nc += 1;
        const res = await registerAt(d, {
          nonce,
          nc,
          password,
          contact: `sip:${MAC}@192.0.2.10:${6000 + nc}`,
        });
        assert.equal(res.status, 200);
        return out.lines.filter((l) => l.msg === 'registered').at(-1)?.state;
      };
      assert.equal(await moved(), 'needed');
      const pap = (await store.getDevice('acme', MAC))!.pap;
      assert.equal((await store.attemptPap(MAC, pap, null, 'test', 'api')).outcome, 'successful');
      assert.equal(await moved(), 'successful');
      assert.ok(await store.resetDevice('acme', MAC, 'test'));
      assert.equal(await moved(), 'needed');
      assert.equal(reads, 3, 'read again after each change of state');
      // A suspension (a PIN bypass for provisioning) leaves the restricted account as it is:
      // registered, as without a remembered login.
      assert.ok(await store.suspendDevice('acme', MAC, 'test'));
      assert.equal(await moved(), 'needed');
      assert.equal(reads, 3);
    });

    it('is remembered for loginSeconds, and not at all without it', async () => {
      let now = Date.now();
      const aging = new SipStore(r.client, { nonceSeconds: 30, loginSeconds: 60, now: () => now });
      assert.ok(await aging.login(MAC));
      assert.equal(aging.knownLogin(MAC)?.sipPassword, secret);
      now += 60_000;
      assert.equal(aging.knownLogin(MAC), undefined);
      const none = new SipStore(r.client, { nonceSeconds: 30 });
      assert.ok(await none.login(MAC));
      assert.equal(none.knownLogin(MAC), undefined, 'without loginSeconds nothing is remembered');
    });
  });
});

describe('sip: lock watcher', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(() => r.stop());

  it('settles expired locks and notifies those phones', async () => {
    let now = Date.now();
    const store = r.store(undefined, () => now);
    await store.putTenant('t1', { name: 'T1', language: null }, 'test');
    const res = await store.createDevices(
      't1',
      [parseNewDevice({ mac: MAC, vendor: 'snom', model: 'D785', site: 'x' })],
      'test',
    );
    assert.ok(res !== 'unknown_tenant' && res.ok);
    const wrong = res.devices[0]!.pap === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) await store.attemptPap(MAC, wrong, null, 'test', 'ivr');
    assert.equal((await store.getDevice('t1', MAC))!.state, 'failed');
    const notified: string[] = [];
    const w = new LockWatcher(store, async (t, m) => void notified.push(`${t}/${m}`), 60000, silentLog);
    assert.deepEqual(await w.tick(), []);
    now += 1500; // FAST_POLICY locks for 1 s
    assert.deepEqual(await w.tick(), [{ tenant: 't1', mac: MAC }]);
    assert.deepEqual(notified, [`t1/${MAC}`]);
    assert.equal((await store.getDevice('t1', MAC))!.state, 'needed');
    assert.deepEqual(await w.tick(), [], 'settled once');
    await w.stop();
  });
});

describe('sip: overload admission (counters on an injected clock)', () => {
  it('Slots: at most max at a time; a release frees one, twice is harmless', () => {
    const slots = new Slots(2);
    const a = slots.tryAcquire()!;
    const b = slots.tryAcquire()!;
    assert.equal(slots.tryAcquire(), null);
    assert.ok(slots.full);
    a();
    a();
    assert.equal(slots.full, false);
    const c = slots.tryAcquire()!;
    assert.equal(slots.tryAcquire(), null, 'a second release of a gave nothing back');
    b();
    c();
    assert.notEqual(slots.tryAcquire(), null);
    assert.notEqual(slots.tryAcquire(), null);
    assert.equal(slots.tryAcquire(), null);
  });

  it('RateLimiter: a burst of one second, then the rate; idle time refills up to the burst only', () => {
    let now = 0;
    const rl = new RateLimiter(10, () => now);
    let taken = 0;
    while (rl.tryTake()) taken += 1;
    assert.equal(taken, 10);
    now += 100;
    assert.ok(rl.tryTake());
    assert.equal(rl.tryTake(), false);
    now += 60_000;
    taken = 0;
    while (rl.tryTake()) taken += 1;
    assert.equal(taken, 10);
    now -= 5_000; // a clock going back gives nothing
    assert.equal(rl.tryTake(), false);
  });

  it('RegisterAdmission: an opt-in rate applies to new registrations only; the pending cap to all', () => {
    let now = 0;
    const adm = admission({ ratePerSecond: 1, maxPending: 2, now: () => now });
    const a = adm.admit(false, undefined);
    assert.equal(typeof a, 'function');
    assert.equal(adm.admit(false, undefined), 'rate');
    const b = adm.admit(true, undefined);
    assert.equal(typeof b, 'function');
    assert.equal(adm.admit(true, undefined), 'max_pending');
    (a as () => void)();
    (b as () => void)();
    now += 1000;
    assert.equal(typeof adm.admit(false, undefined), 'function');
  });

  it('SIP_REGISTER_RATE_LIMIT is off by default: 5,000 new registrations in one instant are admitted while papgate keeps up', () => {
    const sip = loadConfig({}).sip;
    assert.equal(sip.registerRateLimit, 0);
    const adm = new RegisterAdmission({
      ratePerSecond: sip.registerRateLimit,
      maxPending: 1e6,
      behindMs: sip.overloadBehindMs,
      farBehindMs: sip.overloadFarBehindMs,
      loopDelayMs: () => 0,
      now: () => 1000,
    });
    for (let i = 0; i < 5000; i++) (adm.admit(false, undefined) as () => void)();
  });

  it('behind(): each reading past the bound names itself; at the bound or without an age, none', () => {
    const ok = { requestAgeMs: 40, loopDelayMs: 40, storeWaitMs: 40 };
    assert.equal(behind(ok, 40), null);
    assert.equal(behind({ ...ok, requestAgeMs: null }, 40), null);
    assert.equal(behind({ ...ok, requestAgeMs: 41 }, 40), 'request_age');
    assert.equal(behind({ ...ok, loopDelayMs: 41 }, 40), 'loop_delay');
    assert.equal(behind({ ...ok, storeWaitMs: 41 }, 40), 'store_wait');
  });

  it('RegisterAdmission: the oldest REGISTER waiting for Redis past the bound sheds new registrations until it is answered', () => {
    let now = 0;
    const adm = admission({ now: () => now });
    const slow = adm.admit(true, undefined) as () => void;
    now += 10;
    const quick = adm.admit(false, undefined) as () => void;
    quick();
    now += 31; // the first has waited 41 ms
    assert.equal(adm.admit(false, undefined), 'store_wait');
    assert.equal(typeof adm.admit(true, undefined), 'function', "a challenge's answer: not far behind");
    now += 210;
    assert.equal(adm.admit(true, undefined), 'store_wait', 'far behind');
    slow();
    // the one admitted above as a challenge's answer is now the oldest: 210 ms
    assert.equal(adm.lateness(undefined).storeWaitMs, 210);
  });

  it('RegisterAdmission: the event loop delay past each bound', () => {
    let delay = 0;
    const adm = admission({ loopDelayMs: () => delay });
    delay = 41;
    assert.equal(adm.admit(false, undefined), 'loop_delay');
    assert.equal(typeof adm.admit(true, undefined), 'function');
    delay = 251;
    assert.equal(adm.admit(true, undefined), 'loop_delay');
  });

  it('RegisterAdmission.recentPeak: the highest reading of each measure over the last 15 to 30 s, shed ones included, unchanged by reading it', () => {
    let [now, delay] = [Date.UTC(2026, 0, 5, 8, 0, 0), 0];
    const adm = admission({ now: () => now, wallNow: () => now, loopDelayMs: () => delay, maxPending: 2 });
    const stack = (waited: number) => new Date(now - waited).toISOString().slice(11, 23) + '000';
    assert.deepEqual(
      adm.recentPeak(),
      { requestAgeMs: null, loopDelayMs: 0, storeWaitMs: 0 },
      'nothing read',
    );
    (adm.admit(false, stack(0)) as () => void)();
    const waiting = adm.admit(false, stack(0)) as () => void;
    now += 30;
    delay = 25;
    (adm.admit(false, stack(35)) as () => void)();
    delay = 5;
    now += 10;
    assert.equal(adm.admit(false, stack(300)), 'request_age', 'shed: its reading counts too');
    const second = adm.admit(false, stack(2)) as () => void;
    assert.equal(adm.admit(false, stack(500)), 'max_pending', 'shed before any bound: read all the same');
    second();
    const peak = { requestAgeMs: 500, loopDelayMs: 25, storeWaitMs: 40 };
    assert.deepEqual(adm.recentPeak(), peak);
    assert.deepEqual(adm.recentPeak(), peak, 'a second scraper sees the same');
    waiting();
    now += 15_000;
    assert.deepEqual(adm.recentPeak(), peak, 'the window before still counts');
    now += 15_000;
    assert.deepEqual(adm.recentPeak(), { requestAgeMs: null, loopDelayMs: 5, storeWaitMs: 0 }, 'now only');
  });

  it("parseStackTime: drachtio-server's HH:MM:SS.ffffff; anything else null", () => {
    assert.equal(parseStackTime('05:07:50.032862'), (5 * 3600 + 7 * 60 + 50) * 1000 + 32.862);
    assert.equal(parseStackTime('23:59:59'), 86_399_000);
    for (const bad of [
      undefined,
      null,
      12,
      '',
      '5:07:50.1',
      '24:00:00.0',
      '05:60:00.0',
      '05:07:50.x',
      ' 05:07:50.1',
    ])
      assert.equal(parseStackTime(bad), null, String(bad));
  });

  /**
   * Whether a REGISTER just received is admitted after papgate's wall clock (Date.now) stepped by
   * `stepMs`; `shared`: drachtio-server's receive time by the same clock (one host), else by one
   * that did not step.
   */
  function admittedAfterStep(stepMs: number, shared: boolean): boolean {
    const real = Date.now;
    let step = 0;
    Date.now = () => real() + step;
    try {
      const adm = admission({ maxPending: 10 });
      const stamp = () => new Date(shared ? Date.now() : real()).toISOString().slice(11, 23) + '000';
      (adm.admit(false, stamp()) as () => void)();
      step = stepMs;
      return typeof adm.admit(false, stamp()) === 'function';
    } finally {
      Date.now = real;
    }
  }

  it('a step back of the clock papgate and drachtio-server share (one host, NTP) makes no request late: the smaller age counts', () => {
    assert.ok(admittedAfterStep(-5000, true), 'not shed as 5 s late');
  });

  it("a step of papgate's wall clock (Date.now, an NTP step) makes no request late: the request age runs on the monotonic clock", () => {
    assert.ok(admittedAfterStep(5000, false), 'not shed as 5 s late');
  });

  it('RequestAge: ages above the smallest offset seen, whatever the other clock; midnight, drift and a stepped clock', () => {
    let now = Date.UTC(2026, 0, 5, 23, 59, 59, 900);
    const age = new RequestAge(() => now, 10_000);
    /** drachtio-server's clock, `ahead` ms ahead of ours, for a request received `waited` ms ago */
    const stack = (ahead: number, waited: number) => {
      const t = new Date(now + ahead - waited);
      const p = (n: number, w = 2) => String(n).padStart(w, '0');
      return `${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}.${p(t.getUTCMilliseconds(), 3)}000`;
    };
    const ahead = -5 * 3600_000 + 700; // another zone, 0.7 s off
    assert.equal(age.age(stack(ahead, 3)), 0, 'the first sets the baseline');
    now += 50; // past our midnight
    assert.equal(age.age(stack(ahead, 3)), 0);
    assert.equal(age.age(stack(ahead, 120)), 117);
    assert.equal(age.age('nonsense'), null);
    assert.equal(age.age(stack(ahead, 0)), 0, 'a smaller offset lowers the baseline');
    assert.equal(age.age(stack(ahead, 100)), 100);
    // the other clock drifts 20 ms behind: followed once the window that saw the old offsets has passed
    now += 10_000;
    assert.equal(age.age(stack(ahead - 20, 0)), 20);
    now += 10_000;
    assert.equal(age.age(stack(ahead - 20, 30)), 30);
    // the other clock steps back a minute: a request that old is a clock, not a wait
    assert.equal(age.age(stack(ahead - 60_000, 0)), 0);
    assert.equal(age.age(stack(ahead - 60_000, 45)), 45);
  });
});
