import assert from 'node:assert/strict';
import { CHALLENGE_GRACE_MS } from '../src/domain/provisioning';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Mac } from '../src/domain/mac';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { createProvisioningServer } from '../src/provisioning/server';
import { ACCOUNT, credentialIn, ProvisioningFixture, request, type HttpAnswer } from './support/http';
import { silentLog } from './support/redis';

const MAC = '001565aabbcc' as Mac;
const FILE = `/${MAC}.cfg`;

/**
 * Rendered bodies are kept per process (src/provisioning/bodies.ts) and phones are answered by a
 * front handler before fastify: neither may change an answer. Real HTTP and a real Redis.
 */
describe('provisioning: kept bodies and the front handler', () => {
  const f = new ProvisioningFixture();
  /** A second server on the same store that has kept nothing yet. */
  let fresh: FastifyInstance;
  let freshPort = 0;
  before(async () => {
    await f.start();
    fresh = createProvisioningServer({
      config: f.config,
      store: f.store,
      log: silentLog,
      now: () => f.clock,
    });
    await fresh.listen({ host: '127.0.0.1', port: 0 });
    freshPort = (fresh.server.address() as AddressInfo).port;
  });
  after(async () => {
    await fresh.close();
    await f.stop();
  });
  beforeEach(async () => {
    await f.redis.flush();
    f.clock = Date.now();
  });

  const get = (path: string, from: string, port = f.port) => request(port, path, { from });
  const whitelist = (entry: string) => f.store.addWhitelist('acme', parseWhitelistEntry(entry), 'test');

  it('answers from a kept body exactly what a server that kept nothing renders', async () => {
    await f.device('yealink', 'T54W', MAC);
    const minimal = await get(FILE, '127.0.0.2');
    assert.equal((await get(FILE, '127.0.0.2')).body, minimal.body);
    assert.equal((await get(FILE, '127.0.0.2', freshPort)).body, minimal.body);

    await whitelist('127.0.0.3');
    const first = await get(FILE, '127.0.0.3');
    await f.store.resetDevice('acme', MAC, 'test');
    const second = await get(FILE, '127.0.0.3');
    const [c1, c2] = [credentialIn(first.body), credentialIn(second.body)];
    assert.ok(c1 && c2 && c1 !== c2, 'a bypass after a reset issues a new credential');
    assert.equal(second.body, first.body.split(c1).join(c2));
    // The credential as a fresh server puts it in, in the URL and the HTTP password alike.
    const byCredential = await get(`/d/${c2}${FILE}`, '127.0.0.2');
    assert.equal(byCredential.status, 200);
    assert.equal((await get(`/d/${c2}${FILE}`, '127.0.0.2', freshPort)).body, byCredential.body);
    assert.equal(byCredential.body, second.body);
  });

  it('never serves a body of before a credential rotation, a reset or a re-created device', async () => {
    const d = await f.device('yealink', 'T54W', MAC);
    await whitelist('127.0.0.3');
    const c1 = credentialIn((await get(FILE, '127.0.0.3')).body)!;
    // The device now holds a credential: a second fetch without it, even from the whitelisted
    // address, gets no file and no credential that would replace the phone's: it is asked for it,
    // and still only asked once that went unanswered a while.
    const holder = await get(FILE, '127.0.0.3');
    assert.equal(holder.status, 401);
    assert.equal(credentialIn(holder.body), null);
    f.clock += CHALLENGE_GRACE_MS;
    const unanswered = await get(FILE, '127.0.0.3');
    assert.equal(unanswered.status, 401);
    assert.equal(credentialIn(unanswered.body), null);
    assert.equal((await get(`/d/${c1}${FILE}`, '127.0.0.2')).status, 200);

    await f.store.resetDevice('acme', d.mac, 'test');
    assert.equal((await get(`/d/${c1}${FILE}`, '127.0.0.2')).status, 403);
    const minimal = await get(FILE, '127.0.0.2');
    assert.match(minimal.body, /Dial \*89 to authenticate/);
    assert.ok(!minimal.body.includes(ACCOUNT.password));
    const c2 = credentialIn((await get(FILE, '127.0.0.3')).body)!;
    assert.ok(c2 && c2 !== c1, 'a bypass after the reset issues a new credential');
    await f.store.resetDevice('acme', d.mac, 'test');
    assert.equal((await get(`/d/${c2}${FILE}`, '127.0.0.2')).status, 403);

    // The same MAC again, with another account: its body, not the deleted device's.
    const c3 = credentialIn((await get(FILE, '127.0.0.3')).body)!;
    assert.equal(await f.store.deleteDevice('acme', d.mac, 'test'), true);
    await f.device('yealink', 'T54W', MAC, { accounts: [{ ...ACCOUNT, password: 'Other-pw-0815' }] });
    assert.equal((await get(`/d/${c3}${FILE}`, '127.0.0.2')).status, 403);
    const again = await get(FILE, '127.0.0.3');
    assert.ok(again.body.includes('account.1.password = Other-pw-0815'));
    assert.ok(!again.body.includes(ACCOUNT.password));
  });

  it('follows a tenant setting and the device state in the minimal configuration at once', async () => {
    const d = await f.device('yealink', 'T54W', MAC);
    assert.match((await get(FILE, '127.0.0.2')).body, /Dial \*89 to authenticate/);
    await f.store.putTenant('acme', { name: 'acme', language: 'de' }, 'test');
    const german = await get(FILE, '127.0.0.2');
    assert.match(german.body, /Zur Freischaltung \*89 wählen/);
    assert.doesNotMatch(german.body, /Dial \*89/);
    await f.store.putTenant('acme', { name: 'acme', language: null }, 'test');
    assert.match((await get(FILE, '127.0.0.2')).body, /Dial \*89 to authenticate/);
    // A suspension makes the same request a full configuration.
    await f.store.suspendDevice('acme', d.mac, 'test');
    assert.ok((await get(FILE, '127.0.0.2')).body.includes(ACCOUNT.password));
  });

  it('sends a kept body as bytes: text beyond ASCII and the credential spliced in, the length right', async () => {
    const name = 'Zoë Müller – Empfang';
    await f.device('yealink', 'T54W', MAC, { accounts: [{ ...ACCOUNT, displayName: name }] });
    await whitelist('127.0.0.3');
    const first = await get(FILE, '127.0.0.3');
    const credential = credentialIn(first.body)!;
    for (const answer of [
      first,
      await get(`/d/${credential}${FILE}`, '127.0.0.2'),
      await get(`/d/${credential}${FILE}`, '127.0.0.2', freshPort),
    ]) {
      assert.equal(answer.status, 200);
      assert.ok(answer.body.includes(`account.1.display_name = ${name}`), 'the name as rendered');
      assert.equal(answer.body.split(credential).length, first.body.split(credential).length);
      assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body));
    }
  });

  it('reads each User-Agent and file name against the device asked for, whatever was read before', async () => {
    // User-Agents and file names are kept as read (src/provisioning/request.ts, server.ts): what a
    // kept reading is compared with is the device of this request.
    const OTHER = '001565aabbcd' as Mac;
    const ua = (mac: string) => `Yealink SIP-T54W 96.86.0.100 ${mac.replace(/(..)(?!$)/g, '$1:')}`;
    await f.device('yealink', 'T54W', MAC);
    await f.device('yealink', 'T54W', OTHER);
    await whitelist('127.0.0.3');
    const mine = credentialIn((await get(FILE, '127.0.0.3')).body)!;
    const other = credentialIn((await get(`/${OTHER}.cfg`, '127.0.0.3')).body)!;
    const fetch = (credential: string, mac: string, userAgent: string) =>
      request(f.port, `/d/${credential}/${mac}.cfg`, {
        from: '127.0.0.2',
        headers: { 'user-agent': userAgent },
      });
    assert.equal((await fetch(mine, MAC, ua(MAC))).status, 200);
    assert.equal((await fetch(other, OTHER, ua(MAC))).status, 403, 'the kept User-Agent names another MAC');
    assert.equal((await fetch(other, OTHER, ua(OTHER))).status, 200);
    assert.equal((await fetch(mine, MAC, 'Mozilla/4.0 (compatible; snom710-SIP 10.1.54.13)')).status, 403);
    assert.equal((await fetch(mine, MAC, ua(MAC))).status, 200);

    // The same file name, now a Patton's: its file, not the Yealink's the name was first read for.
    assert.equal(await f.store.deleteDevice('acme', MAC, 'test'), true);
    await f.device('patton', 'SN4112', MAC);
    const patton = await get(FILE, '127.0.0.3');
    assert.equal(patton.status, 200);
    assert.doesNotMatch(patton.body, /account\.1\./);
    assert.ok(patton.body.includes(ACCOUNT.password));
  });

  it('answers through the front handler as through fastify itself', async () => {
    await f.device('yealink', 'T54W', MAC);
    await whitelist('127.0.0.3');
    const viaFastify = async (path: string, from: string): Promise<HttpAnswer> => {
      const r = await f.app.inject({ url: path, remoteAddress: from });
      return { status: r.statusCode, headers: r.headers as HttpAnswer['headers'], body: r.body };
    };
    const same = (a: HttpAnswer, b: HttpAnswer, what: string) => {
      assert.equal(a.status, b.status, what);
      for (const h of ['content-type', 'cache-control', 'content-length', 'retry-after'])
        assert.equal(a.headers[h], b.headers[h], `${what}: ${h}`);
    };
    const cases: [string, string][] = [
      [FILE, '127.0.0.2'], // minimal
      [FILE, '127.0.0.3'], // full
      [`/d/${'0'.repeat(32)}${FILE}`, '127.0.0.2'], // wrong credential
      ['/001565000000.cfg', '127.0.0.4'], // unknown MAC
      ['/y000000000000.cfg', '127.0.0.2'], // a common file
      ['/a..cfg', '127.0.0.2'], // refused by the hook (fastify's in both cases)
    ];
    const statuses: number[] = [];
    for (const [path, from] of cases) {
      const direct = await get(path, from);
      statuses.push(direct.status);
      // a full answer issued a credential: only a reset lets the same request be full again
      if (credentialIn(direct.body) !== null) await f.store.resetDevice('acme', MAC, 'test');
      const routed = await viaFastify(path, from);
      same(direct, routed, path);
      if (credentialIn(direct.body) === null) assert.equal(direct.body, routed.body, path);
    }
    assert.deepEqual(statuses, [200, 200, 403, 404, 200, 400]);
    // Over the miss limit (5): 429 with Retry-After from both.
    for (let i = 0; i < 6; i++) await get(`/0015650000${i}0.cfg`, '127.0.0.5');
    same(await get(FILE, '127.0.0.5'), await viaFastify(FILE, '127.0.0.5'), 'over the miss limit');
  });
});
