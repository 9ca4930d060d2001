/**
 * What an admin does to a device's authentication besides add, reset and delete (docs/admin.md,
 * "Device lifecycle"): the PIN bypass by its name and ended early, a `failed` device unlocked with
 * its PAP, and what lets a reset device in without a PAP, removed. Real Redis, real HTTP for both
 * the admin API and provisioning, and the CLI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import {
  attemptOnDisabled,
  endPinBypass,
  temporaryEntriesLettingIn,
  unlockFailed,
  type AuthRecord,
} from '../src/domain/auth';
import { PROJECT_ROOT } from '../src/lib/paths';
import { credentialIn, ProvisioningFixture, request } from './support/http';
import { silentLog } from './support/redis';

const TOKEN = 'device-lifecycle-token-0123456789';
const MAC = '001565aabbcc';
const UA = 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc';
const PHONE = '127.0.0.5';

/**
 * Provisioning (ProvisioningFixture) and the admin API on its store and clock, started and emptied by
 * the hooks of the calling describe; `http` calls tenant acme's routes.
 */
function lifecycleFixture() {
  const f = new ProvisioningFixture();
  let admin: FastifyInstance;
  let base = '';
  before(async () => {
    await f.start();
    admin = createAdminServer({
      config: loadConfig({ ADMIN_TOKEN: TOKEN }),
      store: f.store,
      log: silentLog,
      adminToken: TOKEN,
      now: () => f.clock,
    });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(admin.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await admin.close();
    await f.stop();
  });
  beforeEach(async () => {
    await f.redis.flush();
    f.clock = Date.now();
  });
  const http = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1/tenants/acme${url}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  return { f, http, base: () => base };
}

describe('device lifecycle: PIN bypass, unlock, what lets a reset device in', () => {
  const { f, http, base } = lifecycleFixture();
  const fetchFile = (from: string) => request(f.port, `/${MAC}.cfg`, { from, headers: { 'user-agent': UA } });
  const events = async (type: string) => (await f.store.events('acme', 100)).filter((e) => e.type === type);
  const wrongFor = (pap: string) => (pap === '000000' ? '111111' : '000000');

  it('after a reset, names the temporary entry that would let the phone in again; removing it makes the phone authenticate', async () => {
    const d = await f.device('yealink', 'T54W', MAC, { site: 'Berlin' });
    await f.device('yealink', 'T54W', '001565aabbcd', { site: 'Hamburg' });
    assert.equal((await f.store.attemptPap(d.mac, d.pap, PHONE, 'ivr', 'ivr')).outcome, 'successful');
    await f.store.attemptPap('001565aabbcd' as never, '000000', '127.0.0.9', 'ivr', 'ivr');
    assert.equal((await fetchFile(PHONE)).status, 200);

    assert.equal((await http('POST', `/devices/${MAC}/reset`)).status, 200);
    const open = await http('GET', `/devices/${MAC}/bypasses`);
    assert.equal(open.status, 200);
    assert.deepEqual(
      open.json.temporary.map((e: { ip: string; site: string }) => [e.ip, e.site]),
      [[PHONE, 'Berlin']],
      "only the device's own site's entries",
    );
    assert.deepEqual([open.json.pinBypass, open.json.permanent], [null, []]);

    const gone = await http('DELETE', `/whitelist/temporary/${PHONE}?site=Berlin`);
    assert.deepEqual([gone.status, gone.json.removed], [200, 1]);
    assert.equal(
      (await http('DELETE', `/whitelist/temporary/${PHONE}`)).status,
      404,
      'nothing left to remove',
    );
    assert.equal((await http('DELETE', '/whitelist/temporary/not-an-ip')).status, 400);
    const removed = await events('temporary_whitelist_removed');
    assert.deepEqual(
      removed.map((e) => [e.ip, e.site, e.actor]),
      [[PHONE, 'Berlin', 'operator@127.0.0.1']],
    );

    const res = await fetchFile(PHONE);
    assert.match(res.body, /Dial \*89 to authenticate/, 'the reset phone must authenticate again');
    assert.equal((await f.store.findDevice(d.mac))!.state, 'needed');
    assert.deepEqual((await http('GET', `/devices/${MAC}/bypasses`)).json.temporary, []);
  });

  it('unlocks a failed device keeping its PAP (transition 7, audited); refuses one that is not failed', async () => {
    const d = await f.device('yealink', 'T54W', MAC);
    assert.equal((await http('POST', `/devices/${MAC}/unlock`)).status, 409, 'a needed device has no lock');
    for (let i = 0; i < 3; i++) await f.store.attemptPap(d.mac, wrongFor(d.pap), PHONE, 'ivr', 'ivr');
    assert.equal((await http('GET', `/devices/${MAC}`)).json.state, 'failed');

    const r = await http('POST', `/devices/${MAC}/unlock`);
    assert.deepEqual([r.status, r.json.state], [200, 'needed']);
    const read = (await http('GET', `/devices/${MAC}`)).json;
    assert.deepEqual(
      [
        read.state,
        read.pap,
        read.consecutiveFailures,
        read.totalFailures,
        read.failedUntil,
        read.attemptsLeft,
      ],
      ['needed', d.pap, 0, 3, null, 3],
      'the same PAP; the total still counts towards blocked',
    );
    assert.deepEqual(
      (await events('transition')).filter((e) => e.reason === 'unlock').map((e) => [e.from, e.to]),
      [['failed', 'needed']],
    );
    assert.equal((await events('unlock'))[0]?.actor, 'operator@127.0.0.1');
    assert.equal((await f.store.attemptPap(d.mac, d.pap, PHONE, 'ivr', 'ivr')).outcome, 'successful');

    const b = await f.device('yealink', 'T54W', '001565aabbcd');
    for (let i = 0; i < 9; i++) {
      await f.store.attemptPap(b.mac, wrongFor(b.pap), PHONE, 'ivr', 'ivr');
      await f.store.unlockDevice('acme', b.mac, 'test');
    }
    const blocked = await http('POST', '/devices/001565aabbcd/unlock');
    assert.equal(blocked.status, 409);
    assert.match(blocked.json.message, /blocked.*reset/);
  });

  it('a PIN bypass by its name, its old name kept; ended early it hands out nothing', async () => {
    await f.device('yealink', 'T54W', MAC);
    const on = await http('POST', `/devices/${MAC}/pin-bypass`, { network: '127.0.0.0/24' });
    assert.equal(on.status, 200);
    assert.equal(on.json.pinBypassNetwork, '127.0.0.0/24');
    assert.equal(on.json.suspendedUntil, on.json.pinBypassUntil);
    assert.ok(Date.parse(on.json.pinBypassUntil) > f.clock);
    assert.equal((await http('GET', `/devices/${MAC}`)).json.pinBypassUntil, on.json.pinBypassUntil);

    assert.equal((await http('DELETE', `/devices/${MAC}/pin-bypass`)).status, 204);
    const read = (await http('GET', `/devices/${MAC}`)).json;
    assert.deepEqual([read.pinBypassUntil, read.suspended], [null, false]);
    assert.match((await fetchFile(PHONE)).body, /Dial \*89 to authenticate/);
    const ended = await events('pin_bypass_ended');
    assert.deepEqual(
      ended.map((e) => [e.mac, e.network, e.actor]),
      [[MAC, '127.0.0.0/24', 'operator@127.0.0.1']],
    );
    const again = await http('DELETE', `/devices/${MAC}/pin-bypass`);
    assert.deepEqual([again.status, again.json.error], [409, 'no_pin_bypass']);

    const alias = await http('POST', `/devices/${MAC}/suspend`, {});
    assert.deepEqual([alias.status, alias.json.pinBypassNetwork], [200, null]);
    assert.match((await fetchFile(PHONE)).body, /account\.1\.user_name = acme-4711/);
  });

  it('a disabled device gets the minimal file whatever it carries and takes no PAP; enabled, the phone is served again', async () => {
    const d = await f.device('yealink', 'T54W', MAC);
    await f.store.attemptPap(d.mac, d.pap, PHONE, 'ivr', 'ivr');
    const cred = credentialIn((await fetchFile(PHONE)).body)!;
    const withCredential = () =>
      request(f.port, `/d/${cred}/${MAC}.cfg`, { from: PHONE, headers: { 'user-agent': UA } });
    assert.match((await withCredential()).body, /account\.1\.user_name = acme-4711/);

    const off = await http('POST', `/devices/${MAC}/disable`);
    assert.deepEqual(off.json, { mac: MAC, disabled: true, changed: true });
    assert.equal((await http('POST', `/devices/${MAC}/disable`)).json.changed, false);
    assert.ok((await http('GET', `/devices/${MAC}`)).json.disabledAt);
    for (let i = 0; i < 2; i++) {
      // twice: the second time this process knows the device and decides in one script
      const res = await withCredential();
      assert.equal(res.status, 200);
      assert.match(res.body, /Disabled - call your admin/);
      assert.equal(credentialIn(res.body), null, 'the minimal file carries no credential');
      assert.doesNotMatch(res.body, /account\.1\.user_name = acme-4711/);
    }
    assert.match((await fetchFile(PHONE)).body, /Disabled - call your admin/, 'no bypass either');
    assert.deepEqual(
      (await f.store.events('acme', 5, undefined, 'traffic')).slice(0, 3).map((e) => [e.outcome, e.reason]),
      [
        ['minimal', 'disabled'],
        ['minimal', 'disabled'],
        ['minimal', 'disabled'],
      ],
    );

    const b = await f.device('yealink', 'T54W', '001565aabbcd');
    await http('POST', '/devices/001565aabbcd/disable');
    for (const pap of [b.pap, wrongFor(b.pap)]) {
      const r = await f.store.attemptPap(b.mac, pap, '127.0.0.9', 'ivr', 'ivr');
      assert.equal(r.outcome, 'blocked', 'a disabled device takes no PAP, right or wrong');
    }
    const stored = (await f.store.findDevice(b.mac))!;
    assert.deepEqual([stored.state, stored.totalFailures], ['needed', 0]);
    assert.deepEqual(attemptOnDisabled(stored, f.clock).next, stored);
    assert.deepEqual(
      (await f.store.temporaryWhitelist('acme')).map((e) => e.ip),
      [PHONE],
      'nothing whitelisted by a PAP on a disabled device',
    );
    assert.deepEqual(
      (await events('device_disabled')).map((e) => [e.mac, e.actor]),
      [
        ['001565aabbcd', 'operator@127.0.0.1'],
        [MAC, 'operator@127.0.0.1'],
      ],
    );

    const on = await http('POST', `/devices/${MAC}/enable`);
    assert.deepEqual(on.json, { mac: MAC, disabled: false, changed: true });
    assert.equal((await http('GET', `/devices/${MAC}`)).json.disabledAt, null);
    assert.match((await withCredential()).body, /account\.1\.user_name = acme-4711/);
    assert.equal((await events('device_enabled')).length, 1);
  });

  it('the CLI drives them', async () => {
    const d = await f.device('yealink', 'T54W', MAC);
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-cli-'));
    const env = { ...process.env, ADMIN_URL: base(), ADMIN_TOKEN: TOKEN, DATA_DIR: data };
    const cli = (...args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile(path.join(PROJECT_ROOT, 'bin', 'papgate'), args, { env }, (e, out) =>
          resolve({ code: e ? (e.code as number) : 0, out }),
        );
      });
    try {
      for (let i = 0; i < 3; i++) await f.store.attemptPap(d.mac, wrongFor(d.pap), PHONE, 'ivr', 'ivr');
      assert.deepEqual(JSON.parse((await cli('unlock', 'acme', MAC)).out), { mac: MAC, state: 'needed' });
      assert.equal((await cli('unlock', 'acme', MAC)).code, 1);
      assert.equal((await cli('pin-bypass', 'acme', MAC, '--network', '127.0.0.0/24')).code, 0);
      assert.equal((await cli('end-pin-bypass', 'acme', MAC)).code, 0);
      assert.equal((await cli('end-pin-bypass', 'acme', MAC)).code, 1);
      await f.store.attemptPap(d.mac, d.pap, PHONE, 'ivr', 'ivr');
      const open = JSON.parse((await cli('bypasses', 'acme', MAC)).out);
      assert.deepEqual(
        open.temporary.map((e: { ip: string }) => e.ip),
        [PHONE],
      );
      const rm = await cli('whitelist', 'acme', 'remove-temporary', PHONE, '--site', 'HQ');
      assert.equal(JSON.parse(rm.out).removed, 1);
      assert.deepEqual(JSON.parse((await cli('bypasses', 'acme', MAC)).out).temporary, []);
      assert.equal(JSON.parse((await cli('disable', 'acme', MAC)).out).disabled, true);
      assert.equal(JSON.parse((await cli('enable', 'acme', MAC)).out).disabled, false);
      assert.match((await cli('help')).out, /papgate unlock|end-pin-bypass\|unlock/);
    } finally {
      fs.rmSync(data, { recursive: true, force: true });
    }
  });

  it('the pure rules: unlock only a failed lock still running, end only a running bypass, entries of the site', () => {
    const rec: AuthRecord = {
      state: 'failed',
      consecutiveFailures: 3,
      totalFailures: 5,
      failedUntil: 2000,
      suspendedUntil: 3000,
    };
    assert.deepEqual(unlockFailed(rec, 1000), {
      ...rec,
      state: 'needed',
      consecutiveFailures: 0,
      failedUntil: null,
    });
    assert.equal(unlockFailed(rec, 2000), null, 'run out: needed already (transition 3)');
    assert.equal(unlockFailed({ ...rec, state: 'blocked', failedUntil: null }, 1000), null);
    assert.deepEqual(endPinBypass(rec, 1000), { ...rec, suspendedUntil: null });
    assert.equal(endPinBypass(rec, 3000), null);
    const entries = [
      { ip: '1', site: 'A', expiresAt: 5 },
      { ip: '2', site: 'B', expiresAt: 5 },
      { ip: '3', site: null, expiresAt: 5 },
      { ip: '4', site: 'A', expiresAt: 1 },
    ];
    assert.deepEqual(
      temporaryEntriesLettingIn(entries, 'A', 2).map((e) => e.ip),
      ['1', '3'],
    );
  });
});

describe('device lifecycle: a User-Agent naming another model', () => {
  const { f, http } = lifecycleFixture();
  const fetchAs = (ua: string) =>
    request(f.port, `/${MAC}.cfg`, { from: PHONE, headers: { 'user-agent': ua } });

  it('shows the mismatch with the User-Agent seen; accepting makes the model the one seen, audited, and the phone is served', async () => {
    await f.device('yealink', 'T54W', MAC);
    const swapped = 'Yealink SIP-T46U 108.86.0.20 00:15:65:aa:bb:cc';
    assert.equal((await fetchAs(swapped)).status, 403);
    const read = (await http('GET', `/devices/${MAC}`)).json;
    assert.deepEqual(
      [read.userAgentMismatch?.ip, read.userAgentMismatch?.model, read.model],
      [PHONE, 'T46U', 'T54W'],
    );
    const refused = (await f.store.events('acme', 10, undefined, 'traffic')).find(
      (e) => e.reason === 'user_agent_mismatch',
    );
    assert.deepEqual([refused?.userAgent, refused?.seenModel], [swapped, 'T46U']);

    const ok = await http('POST', `/devices/${MAC}/accept-model`);
    assert.deepEqual(ok.json, { mac: MAC, model: 'T46U', previousModel: 'T54W' });
    const accepted = (await f.store.events('acme', 10)).find((e) => e.type === 'model_accepted');
    assert.deepEqual(
      [accepted?.mac, accepted?.from, accepted?.to, accepted?.actor],
      [MAC, 'T54W', 'T46U', 'operator@127.0.0.1'],
    );
    const after = (await http('GET', `/devices/${MAC}`)).json;
    assert.deepEqual([after.model, after.userAgentMismatch], ['T46U', null]);
    assert.equal((await fetchAs(swapped)).status, 200, 'the swapped phone is served');
    assert.equal((await http('POST', `/devices/${MAC}/accept-model`)).status, 409, 'nothing left to accept');
  });

  it('another MAC or another vendor is shown but cannot be accepted as a model', async () => {
    await f.device('yealink', 'T54W', MAC);
    for (const ua of [
      'Yealink SIP-T46U 108.86.0.20 00:15:65:aa:bb:cd',
      'Mozilla/4.0 (compatible; snom710-SIP 10.1.54.13)',
    ]) {
      assert.equal((await fetchAs(ua)).status, 403, ua);
      const read = (await http('GET', `/devices/${MAC}`)).json;
      assert.deepEqual([read.userAgentMismatch?.ip, read.userAgentMismatch?.model], [PHONE, null], ua);
      const refused = await http('POST', `/devices/${MAC}/accept-model`);
      assert.equal(refused.status, 409, ua);
      assert.match(refused.json.message, /another MAC or vendor/);
    }
    assert.equal((await http('GET', `/devices/${MAC}`)).json.model, 'T54W');
  });

  it('a model papgate does not know is refused as when it is typed; a spelling of a known one is taken by its canonical name', async () => {
    await f.device('yealink', 'T54W', MAC);
    assert.equal((await fetchAs('Yealink SIP-T99Z 108.86.0.20 00:15:65:aa:bb:cc')).status, 403);
    const refused = await http('POST', `/devices/${MAC}/accept-model`);
    assert.equal(refused.status, 400);
    assert.deepEqual(
      [refused.json.field, (await http('GET', `/devices/${MAC}`)).json.model],
      ['model', 'T54W'],
    );
    assert.match(refused.json.message, /not known.*EXTRA_MODELS/);
    assert.equal((await fetchAs('Yealink SIP-t46u 108.86.0.20 00:15:65:aa:bb:cc')).status, 403);
    const ok = await http('POST', `/devices/${MAC}/accept-model`);
    assert.deepEqual(ok.json, { mac: MAC, model: 'T46U', previousModel: 'T54W' });
  });
});
