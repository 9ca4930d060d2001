/**
 * The console as an operator review found it wanting, in headless Chromium against the real admin
 * server and Redis: sites without a record accepted from the forms, the audit details of settings
 * and edits, the devices that need an admin counted and listed, the reset that removes the
 * temporary entries, PAP expiry shown and printed, console words for API errors, the user's
 * language, the tenant's time zone and the favicon.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DEVICE, keys } from '../src/store/keys';
import { startAdmin } from './support/admin';
import { buildConsole, launchChromium, screenshotPath } from './support/browser';
import { TestRedis } from './support/redis';

const TOKEN = 'console-operator-review-token-0123';
const DAY = 86_400_000;

describe('console: what an operator review asked for', function () {
  this.timeout(60_000);
  const r = new TestRedis();
  let app: FastifyInstance;
  let base = '';
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };
  const addDevice = (mac: string, site = 'HQ', tenant = 'acme') =>
    api('POST', `/tenants/${tenant}/devices?unknownSite=accept`, {
      mac,
      vendor: 'yealink',
      model: 'T54W',
      site,
    });

  /** A signed-in page in a fresh context (its own storage), failing the test on any error or 404. */
  const open = async (): Promise<Page> => {
    ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p = await ctx.newPage();
    p.on('dialog', (d) => {
      problems.push(`a dialog opened: ${d.message()}`);
      void d.dismiss();
    });
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('response', (res) => {
      if (res.status() === 404) problems.push(`404: ${res.url()}`);
    });
    await p.goto(`${base}/`);
    await p.getByLabel('Admin token').fill(TOKEN);
    await p.getByLabel('Admin token').press('Enter');
    await p.getByRole('heading', { name: 'Tenants' }).waitFor();
    return p;
  };

  before(async () => {
    buildConsole();
    await r.start();
    let port: number;
    ({ app, port } = await startAdmin(r, TOKEN, { PAP_LIFETIME_DAYS: '1' }));
    base = `http://127.0.0.1:${port}`;
    await api('PUT', '/tenants/acme', { name: 'Acme Corp', language: 'en' });
    await api('PUT', '/tenants/beta', { name: 'Beta GmbH', language: 'de' });
    // acme keeps site records: a device naming another site is refused unless accepted
    await api('PUT', '/tenants/acme/sites/HQ', { emergencyCallerId: '+4930999' });
    browser = await launchChromium();
  });
  // Each finding on a page of its own: one left in a dialog does not fail the next.
  beforeEach(async () => {
    page = await open();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await r.stop();
  });
  afterEach(async function () {
    await ctx.close();
    assert.deepEqual(problems.splice(0), [], `during "${this.currentTest?.title}"`);
  });

  it('offers to add, save and import anyway a device whose site has no record yet, in console words', async () => {
    await page.goto(`${base}/#/t/acme/add`);
    await page.getByLabel('MAC address').fill('001565aa0001');
    await page.getByLabel('Model').fill('T54W');
    await page.getByLabel('Site', { exact: true }).fill('Berln');
    await page.getByRole('button', { name: 'Add device' }).click();
    const siteError = page.locator('#add-site-error');
    await siteError.getByText(/The site “Berln” has no site record yet/).waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /unknownSite|--unknown-site/);
    await page.getByRole('button', { name: 'Add anyway (the site’s record comes later)' }).click();
    await page.getByText(/^Added 00:15:65:aa:00:01\. PAP: [0-9]{6}$/).waitFor();
    assert.equal((await api('GET', '/tenants/acme/devices/001565aa0001')).site, 'Berln');

    await addDevice('001565aa0002');
    await page.goto(`${base}/#/t/acme/devices/001565aa0002`);
    await page.getByText('Edit device').click();
    await page.locator('#edit-site').fill('Lisbn');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page
      .locator('#edit-site-error')
      .getByText(/The site “Lisbn” has no site record yet/)
      .waitFor();
    assert.equal((await api('GET', '/tenants/acme/devices/001565aa0002')).site, 'HQ');
    await page.getByRole('button', { name: 'Save anyway (the site’s record comes later)' }).click();
    await page.getByText('Saved.').waitFor();
    assert.equal((await api('GET', '/tenants/acme/devices/001565aa0002')).site, 'Lisbn');

    await page.goto(`${base}/#/t/acme/add`);
    await page.getByLabel('CSV text').fill('vendor,type,mac,site\nyealink,T54W,001565aa0003,Porto');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page
      .getByText(/These sites have no site record yet|The site “Porto” has no site record yet/)
      .first()
      .waitFor();
    const reason = await page.locator('table.import-errors tbody tr td').nth(3).innerText();
    assert.equal(reason, 'The site “Porto” has no site record yet.');
    await page.getByRole('button', { name: 'Import anyway (the sites’ records come later)' }).click();
    await page.getByText('Imported 1 device.').waitFor();
    assert.equal((await api('GET', '/tenants/acme/devices/001565aa0003')).site, 'Porto');
  });

  it('words API refusals for a console user: an existing tenant, a missing password, bad CSV rows', async () => {
    await page.goto(`${base}/#/`);
    await page.getByLabel('Tenant id').fill('acme');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page
      .locator('#tenant-id-error')
      .getByText(/exists already: open it from the list/)
      .waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /PATCH/);

    await page.goto(`${base}/#/t/acme/add`);
    await page.getByLabel('MAC address').fill('001565aa0004');
    await page.getByLabel('Model').fill('T54W');
    await page.getByLabel('Site', { exact: true }).fill('HQ');
    await page.getByLabel('SIP server').fill('sip.example.net');
    await page.getByLabel('SIP user').fill('300');
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.locator('#add-password-error').getByText('A SIP account needs a password.').waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /accounts\[0\]/);

    await page.getByLabel('CSV text').fill('vendor,type,mac,site\nyealink,T54W,00156500zz99,HQ');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const status = page.locator('.status-line .error').last();
    await status.getByText('Nothing was imported: 1 row has a problem.').waitFor();
    assert.doesNotMatch(await page.locator('main').innerText(), /bad row\(s\)/);
    await page
      .getByLabel('CSV text')
      .fill('vendor,type,mac,site\nyealink,T54W,001565aa0015,HQ\nyealink,T54W,001565aa0016,HQ');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByText('Imported 2 devices.').waitFor();
  });

  it('shows what changed in tenant, settings, edit and PIN bypass events on the Audit page', async () => {
    await api('PATCH', '/tenants/acme', { name: 'Acme Ltd' });
    await api('PUT', '/tenants/acme/settings', { common: { timeZone: 'Europe/Berlin' } });
    await addDevice('001565aa0009');
    await api('PATCH', '/tenants/acme/devices/001565aa0009', { model: 'T46U' });
    await api('POST', '/tenants/acme/devices/001565aa0009/pin-bypass', { network: '127.0.0.0/8' });
    await page.goto(`${base}/#/t/acme/audit`);
    const row = (type: string) => page.locator('table.events tbody tr').filter({ hasText: type }).first();
    await row('tenant_updated').waitFor();
    assert.match(await row('tenant_updated').innerText(), /name: Acme Corp → Acme Ltd/);
    assert.match(
      await row('settings_changed').innerText(),
      /scope: tenant · part: timeZone · – → Europe\/Berlin/,
    );
    assert.match(await row('device_edited').innerText(), /model: T54W → T46U/);
    assert.match(await row('suspend').innerText(), /network: 127\.0\.0\.0\/8/);
  });

  it('counts the devices refused for another model or with an expired PAP, badges and lists them', async () => {
    const dev = (mac: string) => keys.tenant('acme').device(mac);
    await addDevice('001565aa0005');
    await addDevice('001565aa0006');
    await r.client.hSet(dev('001565aa0005'), {
      [DEVICE.userAgentMismatch]: `${Date.now()} 127.0.0.8`,
      [DEVICE.userAgentModel]: 'T46U',
    });
    await r.client.hSet(dev('001565aa0006'), DEVICE.papIssuedAt, String(Date.now() - 2 * DAY));
    const summary = await api('GET', '/tenants/acme/summary');
    assert.deepEqual([summary.userAgentMismatch, summary.papExpired], [1, 1]);
    const listed = async (q: string) =>
      (await api('GET', `/tenants/acme/devices?${q}`)).devices.map((d: { mac: string }) => d.mac);
    assert.deepEqual(await listed('mismatch=1'), ['001565aa0005']);
    assert.deepEqual(await listed('papExpired=1'), ['001565aa0006']);
    assert.equal((await call('GET', '/tenants/acme/devices?mismatch=yes')).status, 400);

    await page.goto(`${base}/#/t/acme/overview`);
    await page.getByRole('link', { name: '1 device refused for another model’s User-Agent' }).click();
    await page.getByText('Only devices refused for another model’s User-Agent.').waitFor();
    const rows = page.locator('table.devices tbody tr');
    await rows.filter({ hasText: '00:15:65:aa:00:05' }).getByText('other model’s User-Agent').waitFor();
    assert.equal(await rows.count(), 1);
    await page.goto(`${base}/#/t/acme/overview`);
    await page.getByRole('link', { name: '1 device whose PAP expired (needs a reset)' }).click();
    await page.getByText('Only devices whose PAP expired.').waitFor();
    await rows.filter({ hasText: '00:15:65:aa:00:06' }).getByText('PAP expired, needs reset').waitFor();
    assert.equal(await rows.count(), 1);
    await page.getByRole('link', { name: 'Show all devices' }).click();
    await rows.filter({ hasText: '00:15:65:aa:00:05' }).waitFor();
    await page.screenshot({ path: screenshotPath('console-operator-devices'), fullPage: true });
  });

  it('resets and removes the temporary entries in one answer; removes a temporary entry on the Whitelist page', async () => {
    const authed = async (mac: string, ip: string) => {
      const { pap } = await addDevice(mac, 'Annex');
      assert.equal((await api('POST', '/authenticate', { mac, pap, ip })).outcome, 'successful');
    };
    await authed('001565aa0007', '127.0.0.9');
    await page.goto(`${base}/#/t/acme/devices/001565aa0007`);
    await page.getByRole('button', { name: 'Reset authentication' }).click();
    const ask = page.getByRole('dialog');
    await ask.getByText(/from 127\.0\.0\.9 it would still get its full configuration/).waitFor();
    await ask.getByRole('button', { name: 'Reset and remove these temporary entries' }).click();
    await page.getByText(/^New PAP: [0-9]{6}$/).waitFor();
    assert.equal(await page.getByRole('dialog').count(), 0, 'a second question');
    assert.deepEqual((await api('GET', '/tenants/acme/devices/001565aa0007/bypasses')).temporary, []);

    await authed('001565aa0008', '127.0.0.10');
    await page.goto(`${base}/#/t/acme/whitelist`);
    await page.getByRole('button', { name: 'Remove 127.0.0.10' }).click();
    await page.getByRole('button', { name: 'Remove 127.0.0.10' }).waitFor({ state: 'detached' });
    assert.deepEqual((await api('GET', '/tenants/acme/whitelist/temporary')).entries, []);
  });

  it('shows until when a PAP is valid; an expired card on the German sheet has no instruction, dates in German', async () => {
    const { pap } = await addDevice('001565bb0001', 'Berlin', 'beta');
    await addDevice('001565bb0002', 'Berlin', 'beta');
    const issued = Date.now() - 2 * DAY;
    await r.client.hSet(keys.tenant('beta').device('001565bb0002'), DEVICE.papIssuedAt, String(issued));
    const view = await api('GET', '/tenants/beta/devices/001565bb0001');
    assert.equal(Date.parse(view.papExpiresAt) - Date.parse(view.createdAt), DAY);
    assert.equal(
      (await api('GET', '/tenants/beta/devices/001565bb0002')).papExpiresAt,
      new Date(issued + DAY).toISOString(),
    );

    await page.goto(`${base}/#/t/beta/devices/001565bb0001`);
    const dl = page.locator('dl.device');
    await dl.getByText('PAP valid until').waitFor();

    await page.goto(`${base}/#/t/beta/sheet/Berlin`);
    await page.getByRole('heading', { name: 'PAP-Blatt – Berlin' }).waitFor();
    const card = (mac: string) => page.locator('.pap-card').filter({ hasText: mac });
    await card('00:15:65:bb:00:02').waitFor();
    const expired = (await card('00:15:65:bb:00:02').innerText()).replace(/\s+/g, ' ');
    assert.match(expired, /PAP abgelaufen, Reset nötig$/);
    assert.equal(await card('00:15:65:bb:00:02').locator('svg.qr').count(), 0);
    const valid = (await card('00:15:65:bb:00:01').innerText()).replace(/\s+/g, ' ');
    // German dates (06.12.2026), not English (6 Dec 2026)
    assert.match(valid, new RegExp(`${pap} Gültig bis \\d{2}\\.\\d{2}\\.\\d{4} Hörer abnehmen`));
    assert.match(await page.getByText(/^Gedruckt am/).innerText(), /^Gedruckt am \d{2}\.\d{2}\.\d{4}, /);
  });

  it("keeps the user's language whatever the tenant's; keeps a chosen one", async () => {
    await page.goto(`${base}/#/t/beta/overview`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Devices', exact: true }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    await page.getByRole('button', { name: 'Deutsch' }).click();
    await page.getByRole('heading', { name: 'Geräte' }).waitFor();
    await page.goto(`${base}/#/t/acme/devices`);
    await page.reload();
    await page.getByRole('heading', { name: 'Geräte' }).waitFor();
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
  });

  it('creates a tenant with its time zone, the API error beside the field; serves a favicon', async () => {
    await page.goto(`${base}/#/`);
    await page.getByLabel('Tenant id').fill('gamma');
    await page.getByLabel(/^Time zone/).fill('Europe/Berln');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page
      .locator('#tenant-timezone-error')
      .getByText(/IANA time zone/)
      .waitFor();
    assert.equal((await call('GET', '/tenants/gamma')).status, 404);
    await page.getByLabel(/^Time zone/).fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    assert.equal((await api('GET', '/tenants/gamma')).timeZone, 'Europe/Berlin');

    const icon = await fetch(`${base}/favicon.ico`);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.match(await icon.text(), /^<svg /);
  });
});
