/**
 * CSV imports that try to stall papgate: huge headers, huge cells, 10,000 rows of the widest cells
 * the body limit allows, 8 at once. Admin and provisioning run in one process on one store, as in
 * main.ts, and provisioning GETs are timed while the imports run.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { createProvisioningServer } from '../src/provisioning/server';
import type { Store } from '../src/store/store';
import { KeptAlivePhone, request } from './support/http';
import { seedDevice, silentLog, TestRedis } from './support/redis';

const TOKEN = 'csv-bomb-operator-token';
const MAC = '001565aabbcc';
const MiB = 1024 * 1024;
const HEADER = 'vendor,type,mac,site,language,sip_server,sip_user,sip_auth_user,sip_password,display_name';

/** The i-th MAC of import `n` (n < 256, i < 65536): distinct across imports. */
const macOf = (n: number, i: number) =>
  `0004f2${n.toString(16).padStart(2, '0')}${i.toString(16).padStart(4, '0')}`;

/** `rows` valid rows of import `n`, each padded to the same width so that the body is about `bytes`. */
function wideRows(n: number, rows: number, bytes: number): string {
  const fixed = (i: number) => `yealink,T54W,${macOf(n, i)},,en,s,u,a,p,`;
  const width = Math.floor((bytes - HEADER.length - 2) / rows) - 2;
  const lines = [HEADER];
  for (let i = 0; i < rows; i++) {
    const base = fixed(i);
    const pad = Math.max(1, width - base.length);
    // the site carries the padding: any printable text is a valid site
    lines.push(base.replace(',,en,', `,${'S'.repeat(pad)},en,`));
  }
  return `${lines.join('\r\n')}\r\n`;
}

describe('CSV import: bounded answers, no stall of provisioning', function () {
  this.timeout(180_000);
  const redis = new TestRedis();
  let store: Store;
  let admin: FastifyInstance;
  let provisioning: FastifyInstance;
  let adminPort = 0;
  let provPort = 0;

  before(async () => {
    await redis.start();
    // Eight imports of one tenant wait for their turn one after another: on a busy machine the
    // last waits longer than the default TENANT_ADDITION_WAIT_MS (that 429 is tested in admin-load).
    const config = loadConfig({
      ADMIN_TOKEN: TOKEN,
      PROVISIONING_MISS_LIMIT: '1000000',
      TENANT_ADDITION_WAIT_MS: '60000',
    });
    store = redis.store();
    admin = createAdminServer({ config, store, log: silentLog, adminToken: TOKEN });
    provisioning = createProvisioningServer({ config, store, log: silentLog });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    await provisioning.listen({ host: '127.0.0.1', port: 0 });
    adminPort = (admin.server.address() as AddressInfo).port;
    provPort = (provisioning.server.address() as AddressInfo).port;
  });
  after(async () => {
    phone.destroy();
    await admin.close();
    await provisioning.close();
    await redis.stop();
  });
  beforeEach(async () => {
    await redis.flush();
    await seedDevice(store, MAC);
  });

  const phone = new KeptAlivePhone();

  const importCsv = (body: string, tenant = 'acme') =>
    request(adminPort, `/api/v1/tenants/${tenant}/devices.csv`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv' },
      body,
    });

  it('answers a header of 1 MiB of commas with one short error, not one per column', async () => {
    const res = await importCsv(','.repeat(MiB - 1));
    assert.equal(res.status, 400);
    assert.ok(res.body.length < 4096, `error body of ${res.body.length} bytes`);
    const j = JSON.parse(res.body);
    assert.equal(j.error, 'invalid_csv');
    assert.match(j.rows[0].reason, /^line 1: more than 32 cells in a row$/);
  });

  it('lists the first bad rows and counts the rest; the answer stays under 1 MiB', async () => {
    // 10,000 rows with a bad MAC each, their reason as long as the row allows
    const rows = [HEADER];
    for (let i = 0; i < 10_000; i++) rows.push(`yealink,T54W,zz${'x'.repeat(70)},HQ,,,,,,`);
    const res = await importCsv(rows.join('\n'));
    assert.equal(res.status, 400);
    assert.ok(res.body.length < 64 * 1024, `error body of ${res.body.length} bytes`);
    const j = JSON.parse(res.body);
    assert.equal(j.rows.length, 100);
    assert.equal(j.badRows, 10_000);
    assert.match(j.message, /10000 bad row\(s\), the first 100 listed; nothing was imported/);
  });

  it('refuses a cell longer than the limit, and more columns than the import knows', async () => {
    let res = await importCsv(`${HEADER}\nyealink,T54W,${macOf(1, 1)},"${'s'.repeat(MiB - 200)}",,,,,,\n`);
    assert.equal(res.status, 400);
    assert.ok(res.body.length < 4096);
    assert.match(JSON.parse(res.body).rows[0].reason, /^line 2: a cell longer than 256 characters/);
    res = await importCsv(`${HEADER}\n${'yealink,'.repeat(200)}\n`);
    assert.equal(res.status, 400);
    assert.match(JSON.parse(res.body).rows[0].reason, /^line 2: more than 32 cells/);
  });

  // As in admin-load.test.ts, the slowest provisioning answer is printed, not asserted: what is
  // asserted is that the phone was answered again and again while the imports ran.
  it('the worst imports, 8 at once, leave provisioning answering', async () => {
    const bodies: [string, string][] = [];
    const many = [HEADER];
    for (let i = 0; i < 10_000; i++) many.push(`yealink,T54W,${'Z'.repeat(80)},HQ,,,,,,`);
    const bad = many.join('\n');
    const quotes = `${HEADER}\n${'"",'.repeat((MiB - 200) / 3)}\n`;
    const lines = '\n'.repeat(MiB - 1);
    for (let n = 0; n < 8; n++) bodies.push(['commas', ','.repeat(MiB - 1)]);
    for (let n = 0; n < 8; n++) bodies.push(['bad rows', bad]);
    for (let n = 0; n < 8; n++) bodies.push(['quotes', quotes]);
    for (let n = 0; n < 8; n++) bodies.push(['newlines', lines]);
    for (let n = 0; n < 8; n++) bodies.push(['10,000 wide rows', wideRows(n, 10_000, MiB - 1024)]);
    // then the same MACs into another tenant: 10,000 refusals each, after 10,000 MAC lookups
    for (let n = 0; n < 8; n++) bodies.push(['10,000 taken MACs', wideRows(n, 10_000, MiB - 1024)]);
    await store.putTenant('beta', { name: 'Beta', language: null }, 'test');
    for (const [, b] of bodies) assert.ok(b.length <= MiB, `${b.length} bytes`);

    const worst: Record<string, number> = {};
    for (let k = 0; k < bodies.length; k += 8) {
      const kind = bodies[k]![0];
      const {
        result: answers,
        statuses,
        worstMs: max,
      } = await phone.during(provPort, `/${MAC}.cfg`, () =>
        Promise.all(
          bodies.slice(k, k + 8).map(([, b]) => importCsv(b, kind === '10,000 taken MACs' ? 'beta' : 'acme')),
        ),
      );
      for (const a of answers) assert.ok(a.body.length < MiB, `${kind}: answer of ${a.body.length} bytes`);
      const expected = { '10,000 wide rows': 201, '10,000 taken MACs': 409 }[kind] ?? 400;
      for (const a of answers) assert.equal(a.status, expected, `${kind}: ${a.body.slice(0, 200)}`);
      worst[kind] = Math.round(max);
      assert.ok(statuses.length > 1, `${kind}: provisioning was timed ${statuses.length} time(s)`);
      assert.deepEqual(new Set(statuses), new Set([200]), `${kind}: provisioning answered ${statuses}`);
    }
    console.log(`      worst provisioning answer during 8 imports at once (ms): ${JSON.stringify(worst)}`);
  });
});
