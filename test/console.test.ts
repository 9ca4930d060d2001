/**
 * The operator console in headless Chromium against the real admin server and Redis: sign-in,
 * devices, a device's state through authentication and reset, CSV import and export, whitelist, the
 * PAP sheet whose QR codes are decoded again from a screenshot, tenant isolation, XSS, CSP, German.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import jsQR from 'jsqr';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { CONSOLE_CSP } from '../src/admin/console';
import { loadConfig } from '../src/config';
import { createProvisioningServer } from '../src/provisioning/server';
import { buildConsole, launchChromium, screenshotPath } from './support/browser';
import { startAdmin } from './support/admin';
import { DEVICE, keys } from '../src/store/keys';
import { request } from './support/http';
import { silentLog, TestRedis } from './support/redis';

const TOKEN = 'console-test-operator-token-0123';
const XSS = '<img src=x onerror=alert(1)>';
const MAC = '00:15:65:12:34:56';
const CANON = '001565123456';

describe('console in headless Chromium', function () {
  this.timeout(60_000);
  const r = new TestRedis();
  let app: FastifyInstance;
  let base = '';
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  let betaToken = '';

  const api = async (method: string, path: string, body?: unknown, token = TOKEN) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };

  /** A fresh browser context: its own sessionStorage, so its own sign-in. */
  const open = async (): Promise<Page> => {
    ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    const p = await ctx.newPage();
    p.on('dialog', (d) => {
      problems.push(`a dialog opened: ${d.message()}`);
      void d.dismiss();
    });
    p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    p.on('console', (m) => {
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text()))
        problems.push(`console: ${m.text()}`);
    });
    p.on('request', (req) => {
      if (!req.url().startsWith(base) && !req.url().startsWith('blob:'))
        problems.push(`left the origin: ${req.url()}`);
    });
    await p.goto(`${base}/`);
    return p;
  };

  const signIn = async (p: Page, token: string) => {
    // Keyboard only: the token field has focus after a Tab, Enter submits.
    await p.getByRole('heading', { name: 'Sign in' }).waitFor();
    await p.keyboard.press('Tab');
    await p.keyboard.type(token);
    await p.keyboard.press('Enter');
  };

  const shot = (name: string, p: Page = page) =>
    p.screenshot({ path: screenshotPath(`console-${name}`), fullPage: true });

  before(async () => {
    buildConsole();
    await r.start();
    let port: number;
    // A model with markup, declared so that the API takes it: it must show as text like the site.
    ({ app, port } = await startAdmin(r, TOKEN, { PAP_LIFETIME_DAYS: '1', EXTRA_MODELS: `yealink:${XSS}` }));
    base = `http://127.0.0.1:${port}`;
    await api('PUT', '/tenants/acme', { name: 'Acme Corp', language: 'en' });
    await api('PUT', '/tenants/beta', { name: 'Beta GmbH', language: 'de' });
    await api('POST', '/tenants/beta/devices', {
      mac: '001565beef01',
      vendor: 'snom',
      model: 'D785',
      site: 'Berlin',
    });
    betaToken = (await api('POST', '/tenants/beta/tokens', { name: 'beta-it' })).token;
    browser = await launchChromium();
    page = await open();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await r.stop();
  });
  afterEach(function () {
    assert.deepEqual(problems.splice(0), [], `during "${this.currentTest?.title}"`);
  });

  it('serves the page with a strict CSP and only same-origin assets', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.match(CONSOLE_CSP, /script-src 'self';/);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe|https?:|\*/);
    const html = await res.text();
    assert.doesNotMatch(
      html,
      /<script>|<style>|\son\w+=|https?:\/\//,
      'inline script, style or a foreign origin',
    );
    await page.getByRole('heading', { name: 'papgate console' }).waitFor();
    await shot('signin');
  });

  it('refuses a wrong token, signs in with the operator token and lists the tenants', async () => {
    await signIn(page, 'not-a-token-at-all');
    await page.getByText('This token is not accepted.').waitFor();
    await page.getByLabel('Admin token').fill('');
    await page.getByLabel('Admin token').focus();
    await page.keyboard.type(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    await page.getByRole('link', { name: 'Beta GmbH' }).waitFor();
    await shot('tenants');
    await page.getByRole('link', { name: 'Acme Corp' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByText('No devices yet.').waitFor();
    await page.getByRole('link', { name: 'Devices', exact: true }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
  });

  let pap = '';
  it('adds a device: field errors from the API, then the PAP; a site and model with markup stay text', async () => {
    await page.getByRole('link', { name: 'Add & import' }).click();
    await page.getByLabel('MAC address').fill('00:15:65:12:34');
    await page.getByLabel('Model').fill(XSS);
    await page.getByLabel('Site', { exact: true }).fill(XSS);
    await page.getByRole('button', { name: 'Add device' }).click();
    const macError = page.locator('#add-mac-error');
    await macError.waitFor();
    assert.match(await macError.innerText(), /invalid MAC/);
    assert.equal(await page.getByLabel('MAC address').getAttribute('aria-invalid'), 'true');
    await page.getByLabel('MAC address').fill(MAC);
    await page.getByRole('button', { name: 'Add device' }).click();
    const done = page.getByText(/^Added 00:15:65:12:34:56\. PAP: [0-9]{6}$/);
    await done.waitFor();
    pap = /PAP: ([0-9]{6})/.exec(await done.innerText())![1]!;

    await page.getByRole('link', { name: 'Devices' }).click();
    const row = page.getByRole('row').filter({ hasText: '00:15:65:12:34:56' });
    await row.waitFor();
    assert.equal(await row.getByRole('cell').nth(2).innerText(), XSS, 'the site is not shown as text');
    assert.match(await row.innerText(), new RegExp(pap));
    assert.equal(await page.locator('main img').count(), 0, 'markup from the site became an element');
    await shot('devices');
  });

  it('shows the state change after an API authentication, and resets only after confirmation', async () => {
    const auth = await api('POST', '/authenticate', { mac: CANON, pap });
    assert.equal(auth.outcome, 'successful');
    await page.getByRole('link', { name: '00:15:65:12:34:56' }).click();
    await page.getByRole('heading', { name: 'Device 00:15:65:12:34:56' }).waitFor();
    await page.locator('dl.device').getByText('successful').waitFor();
    assert.equal(await page.locator('dl.device .pap').count(), 0, 'PAP still shown after success');
    await page.getByRole('cell', { name: 'needed → successful · reason: pap_successful' }).waitFor();

    // Esc cancels the confirmation: nothing changes.
    await page.getByRole('button', { name: 'Reset authentication' }).click();
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    assert.equal((await api('GET', `/tenants/acme/devices/${CANON}`)).state, 'successful');

    await page.getByRole('button', { name: 'Reset authentication' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Yes, do it' }).click();
    const newPap = page.getByText(/^New PAP: [0-9]{6}$/);
    await newPap.waitFor();
    pap = (await newPap.innerText()).slice(-6);
    await page.locator('dl.device').getByText('needed').waitFor();
    assert.equal(await page.locator('dl.device .pap').innerText(), pap);
    await page.getByRole('cell', { name: 'successful → needed · reason: reset' }).waitFor();

    // Suspension for the phone's network: a bad one shows the API message and suspends nothing.
    await page.getByLabel(/^Only for fetches from/).fill('198.51.100.7/24');
    await page.getByRole('button', { name: 'Skip the PIN (one file)' }).click();
    await page.getByText(/host bits set; did you mean 198\.51\.100\.0\/24/).waitFor();
    assert.equal((await api('GET', `/tenants/acme/devices/${CANON}`)).suspended, false);
    await page.getByLabel(/^Only for fetches from/).fill('198.51.100.0/24');
    await page.getByRole('button', { name: 'Skip the PIN (one file)' }).click();
    await page.locator('dl.device').getByText('for fetches from 198.51.100.0/24').waitFor();
    assert.equal((await api('GET', `/tenants/acme/devices/${CANON}`)).suspensionNetwork, '198.51.100.0/24');
    await shot('device');
  });

  it('follows state changes without a reload: the overview, the device page, the device list', async () => {
    // cells of a row of the overview: devices, needed, failed, blocked, successful, suspended, %;
    // `text` is a pattern of the whole cell
    const cell = (row: ReturnType<Page['locator']>, i: number, text: string) =>
      row
        .getByRole('cell')
        .nth(i)
        .filter({ hasText: new RegExp(`^${text}$`) })
        .waitFor({ timeout: 15_000 });
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const site = page.locator('table.overview tbody tr').filter({ hasText: XSS });
    await cell(site, 1, '1');
    await cell(site, 4, '0');
    assert.equal((await api('POST', '/authenticate', { mac: CANON, pap })).outcome, 'successful');
    await cell(site, 1, '0');
    await cell(site, 4, '1');
    await cell(site, 6, '\\s*100 %');
    await cell(page.locator('table.overview tfoot tr'), 4, '1');
    await shot('overview');

    await page.getByRole('link', { name: 'Devices', exact: true }).click();
    await page.getByRole('link', { name: '00:15:65:12:34:56' }).click();
    await page.locator('dl.device').getByText('successful').waitFor();
    const reset = await api('POST', `/tenants/acme/devices/${CANON}/reset`);
    await page.locator('dl.device').getByText('needed').waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('dl.device .pap').innerText(), reset.pap);
    const resets = page.getByRole('cell', { name: 'successful → needed · reason: reset' });
    await resets.nth(1).waitFor({ timeout: 10_000 });

    await page.getByRole('link', { name: 'Back to devices' }).click();
    const row = page.getByRole('row').filter({ hasText: '00:15:65:12:34:56' });
    await row.getByText('needed').waitFor();
    assert.equal((await api('POST', '/authenticate', { mac: CANON, pap: reset.pap })).outcome, 'successful');
    await row.getByText('successful').waitFor({ timeout: 15_000 });
    // back to needing its PAP, as the tests below expect it
    pap = (await api('POST', `/tenants/acme/devices/${CANON}/reset`)).pap;
  });

  it('imports a CSV with one bad row showing the error beside it, then a good one', async () => {
    await page.getByRole('link', { name: 'Add & import' }).click();
    const good = ['yealink,T54W,001565000a01,Annex', 'yealink,T54W,001565000a02,Annex'];
    await page
      .getByLabel('CSV text')
      .fill(['vendor,type,mac,site', good[0], 'yealink,T54W,00156500zz99,Annex', good[1]].join('\n'));
    await page.getByRole('button', { name: 'Import' }).click();
    const bad = page.locator('table.import-errors tbody tr');
    await bad.first().waitFor();
    assert.equal(await bad.count(), 1);
    const cells = await bad.first().getByRole('cell').allInnerTexts();
    assert.equal(cells[0], '3');
    assert.equal(cells[1], 'yealink,T54W,00156500zz99,Annex');
    assert.equal(cells[2], 'mac', 'the column at fault');
    assert.match(cells[3]!, /invalid MAC/);
    assert.equal((await api('GET', '/tenants/acme/devices')).total, 1, 'a bad file imported rows');
    await shot('import-error');

    await page.getByLabel('CSV file').setInputFiles({
      name: 'phones.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(['vendor,type,mac,site', ...good].join('\r\n')),
    });
    await page.getByRole('button', { name: 'Import' }).click();
    await page.getByText('Imported 2 devices.').waitFor();
  });

  it('exports all devices or only those needing authentication', async () => {
    await api('POST', '/authenticate', {
      mac: '001565000a02',
      pap: (await api('GET', '/tenants/acme/devices/001565000a02')).pap,
    });
    const download = async (name: string) => {
      const [d] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name }).click(),
      ]);
      return fs.readFileSync((await d.path())!, 'utf8');
    };
    const all = await download('Export all devices');
    assert.match(all, /^vendor,type,mac,created,site,state,pap,language,/);
    for (const m of [CANON, '001565000a01', '001565000a02'])
      assert.ok(all.includes(m), `${m} missing in ${all}`);
    const needed = await download('Export devices still needing authentication');
    assert.ok(needed.includes('001565000a01') && !needed.includes('001565000a02'), needed);
  });

  it('adds and removes a permanent whitelist entry; a bad entry shows the API message', async () => {
    await page.getByRole('link', { name: 'Whitelist' }).click();
    await page.getByLabel('Address or CIDR range').fill('198.51.100.0/33');
    await page.getByRole('button', { name: 'Add entry' }).click();
    await page.locator('#wl-entry-error').waitFor();
    await page.getByLabel('Address or CIDR range').fill('198.51.100.0/24');
    await page.getByRole('button', { name: 'Add entry' }).click();
    await page.getByRole('button', { name: 'Remove 198.51.100.0/24' }).waitFor();
    assert.deepEqual((await api('GET', '/tenants/acme/whitelist')).entries, ['198.51.100.0/24']);
    // The API success above put its phone's address (none known) nowhere; a success with an IP does.
    await api('POST', '/authenticate', { mac: CANON, pap, ip: '203.0.113.7' });
    await page.reload();
    await page.getByRole('cell', { name: '203.0.113.7', exact: true }).waitFor();
    await shot('whitelist');
    await page.getByRole('button', { name: 'Remove 198.51.100.0/24' }).click();
    await page.getByText('No entries.').first().waitFor();
    assert.deepEqual((await api('GET', '/tenants/acme/whitelist')).entries, []);
  });

  it("edits the tenant's and a site's settings: a refused item is marked in its row", async () => {
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: "The tenant's settings" }).waitFor();
    await page.getByLabel('NTP server').fill('pool.ntp.org');
    await page.getByLabel('Vendor family').selectOption('yealink');
    await page.getByRole('button', { name: 'Add family' }).click();
    await page.getByRole('button', { name: 'Add item' }).click();
    await page.locator('#yealink-0-name').fill('Static.Auto_Provision.Server.URL');
    await page.locator('#yealink-0-value').fill('http://evil.example/');
    await page.getByRole('button', { name: 'Save' }).click();
    assert.match(await page.locator('#yealink-0-name-error').innerText(), /papgate's own/);
    assert.deepEqual((await api('GET', '/tenants/acme/settings')).items, {});
    await page.locator('#yealink-0-name').fill('lang.gui');
    await page.locator('#yealink-0-value').fill('German');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    assert.deepEqual(await api('GET', '/tenants/acme/settings'), {
      items: { yealink: [{ name: 'lang.gui', value: 'German' }] },
      common: { ntpServer: 'pool.ntp.org' },
    });
    await shot('settings');
    await page.getByLabel('Site').fill('HQ');
    await page.getByRole('button', { name: 'Open' }).click();
    await page.getByRole('heading', { name: 'The settings of site HQ' }).waitFor();
    await page.getByLabel('Time zone (IANA, e.g. Europe/Berlin)').fill('Europe/Atlantis');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#settings-timeZone-error').waitFor();
    await page.getByLabel('Time zone (IANA, e.g. Europe/Berlin)').fill('Europe/Berlin');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    assert.deepEqual((await api('GET', '/tenants/acme/sites/HQ/settings')).common, {
      timeZone: 'Europe/Berlin',
    });
  });

  it('prints a PAP sheet per site whose QR codes decode to the PAPs', async () => {
    await page.getByRole('link', { name: 'PAP sheets' }).click();
    await page.getByRole('link', { name: 'Sheet for Annex' }).click();
    await page.getByRole('heading', { name: 'PAP sheet – Annex' }).waitFor();
    const cards = page.locator('.pap-card');
    await cards.first().waitFor();
    assert.equal(await cards.count(), 1, 'only the needed device of the site');
    const expected = (await api('GET', '/tenants/acme/devices/001565000a01')).pap;
    assert.match(
      await cards.first().innerText(),
      new RegExp(`00:15:65:00:0a:01[\\s\\S]*yealink T54W[\\s\\S]*${expected}`),
    );
    const png = PNG.sync.read(await cards.first().locator('svg.qr').screenshot());
    const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    assert.equal(code?.data, expected, 'the QR code does not decode to the PAP');
    await page.emulateMedia({ media: 'print' });
    await shot('pap-sheet-print');
    assert.equal(await page.locator('header').isVisible(), false, 'navigation printed');
    await page.emulateMedia({ media: 'screen' });
    // The site with markup in its name gets a sheet too, its name shown as text.
    pap = (await api('POST', `/tenants/acme/devices/${CANON}/reset`)).pap;
    await page.goto(`${base}/#/t/acme/sheet/${encodeURIComponent(XSS)}`);
    await page.getByRole('heading', { name: `PAP sheet – ${XSS}` }).waitFor();
    const qr = PNG.sync.read(await page.locator('svg.qr').first().screenshot());
    assert.equal(jsQR(new Uint8ClampedArray(qr.data), qr.width, qr.height)?.data, pap);
    await shot('pap-sheet');
  });

  it("prints each card in its device's language (else the tenant's, whatever the console shows), with the first account's name and extension and what reaches the IVR on that phone", async () => {
    const add = (mac: string, vendor: string, model: string, extra: object = {}) =>
      api('POST', '/tenants/beta/devices', { mac, vendor, model, site: 'Berlin', ...extra });
    await add('001565beef02', 'yealink', 'T54W', {
      accounts: [{ server: 'sip.example.net', user: '100', password: 'pw', displayName: 'Empfang' }],
    });
    await add('001565beef03', 'yealink', 'W60B', { language: 'en' });
    await add('0004f2beef04', 'poly', 'VVX450');
    // a PAP older than PAP_LIFETIME_DAYS (1 here): no PAP or QR code on its card, but what to do
    await r.client.hSet(
      keys.tenant('beta').device('001565beef03'),
      DEVICE.papIssuedAt,
      String(Date.now() - 2 * 86_400_000),
    );
    await page.goto(`${base}/#/t/beta/sheet/Berlin`);
    // the tenant's German for the sheet, the device's own language for its card
    await page.getByRole('heading', { name: 'PAP-Blatt – Berlin' }).waitFor();
    const card = async (mac: string) =>
      (await page.locator('.pap-card').filter({ hasText: mac }).innerText()).replace(/\s+/g, ' ');
    await page.locator('.pap-card').nth(3).waitFor();
    const reception = await card('00:15:65:be:ef:02');
    assert.match(
      reception,
      /^Empfang Durchwahl 100 00:15:65:be:ef:02 yealink T54W [0-9]{6} Gültig bis [0-9.]{10} Hörer abnehmen und warten: das Telefon wählt \*89\./,
    );
    // snom and Poly have no hot line; a Yealink DECT base neither; the base's own language is English
    assert.match(
      await card('00:15:65:be:ef:01'),
      /snom D785 [0-9]{6} Gültig bis [0-9.]{10} \*89 wählen\. Nach der Ansage/,
    );
    assert.match(await card('00:04:f2:be:ef:04'), /poly VVX450 [0-9]{6} Gültig bis [0-9.]{10} \*89 wählen\./);
    const dect = await card('00:15:65:be:ef:03');
    // no instruction to type a PAP the IVR refuses
    assert.match(dect, /yealink W60B PAP expired, needs reset$/);
    assert.equal(
      await page.locator('.pap-card').filter({ hasText: '00:15:65:be:ef:03' }).locator('svg.qr').count(),
      0,
    );
    assert.equal(await page.locator('.pap-card svg.qr').count(), 3);
    assert.doesNotMatch(dect, /Extension|Durchwahl/, 'no account: no extension');
    assert.equal(
      await page.locator('.pap-card').filter({ hasText: '00:15:65:be:ef:03' }).getAttribute('lang'),
      'en',
    );
    await shot('pap-sheet-de');
    for (const mac of ['001565beef02', '001565beef03', '0004f2beef04'])
      await api('DELETE', `/tenants/beta/devices/${mac}`);
    // back where the next tests begin: acme, in English
    await page.goto(`${base}/#/t/acme/devices`);
    await page.getByRole('link', { name: 'Audit', exact: true }).waitFor();
  });

  it('pages the audit trail, newest first, naming the acting token', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    const rows = page.locator('table.events tbody tr');
    await rows.first().waitFor();
    // The newest events: the reset of the sheet test, its transition written after it.
    assert.match(await rows.nth(0).innerText(), /transition[\s\S]*successful → needed · reason: reset/);
    assert.match(await rows.nth(1).innerText(), /reset[\s\S]*operator@127\.0\.0\.1/);
    await rows.filter({ hasText: 'whitelist_removed' }).filter({ hasText: 'operator@127.0.0.1' }).waitFor();
    await shot('audit');
  });

  it("shows the phones' requests on the traffic tab and the device page, not in the audit trail", async () => {
    const provisioning = createProvisioningServer({
      config: loadConfig({ PROVISIONING_MISS_LIMIT: '1000' }),
      store: r.store(),
      log: silentLog,
    });
    await provisioning.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (provisioning.server.address() as AddressInfo).port;
      // 25 fetches from one network: the first 20 (TRAFFIC_PER_CLIENT) are recorded, then a note
      for (let i = 0; i < 25; i++) assert.equal((await request(port, `/${CANON}.cfg`)).status, 200);
    } finally {
      await provisioning.close();
    }
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByRole('link', { name: 'Phone traffic' }).click();
    await page.getByRole('heading', { name: 'Phone traffic' }).waitFor();
    const rows = page.locator('table.events tbody tr');
    await rows.first().waitFor();
    assert.match(await rows.nth(0).innerText(), /traffic_limited[\s\S]*client: 127\.0\.0\.0\/24 · limit: 20/);
    assert.match(
      await rows.nth(1).innerText(),
      /provisioning[\s\S]*reason: needed · outcome: minimal · ip: 127\.0\.0\.1/,
    );
    const provisioningRows = (r: typeof rows) =>
      r.filter({ has: page.locator('td:nth-child(2)', { hasText: /^provisioning$/ }) }).count();
    assert.equal(await provisioningRows(rows), 20);
    await shot('traffic');
    await page.getByRole('link', { name: 'Audit trail' }).click();
    await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
    await page.locator('table.events tbody tr').first().waitFor();
    assert.equal(await provisioningRows(page.locator('table.events tbody tr')), 0);
    await page.goto(`${base}/#/t/acme/devices/${CANON}`);
    await page.getByRole('heading', { name: 'Recent phone traffic' }).waitFor();
    const device = page.locator('table.events').nth(1).locator('tbody tr');
    await device.first().waitFor();
    assert.equal(await device.count(), 20);
  });

  it('marks a device whose phone could not show its credential: "needs reset" in the list and on its page', async () => {
    const mac = '001565cafe01';
    const { pap: devicePap } = await api('POST', '/tenants/acme/devices', {
      mac,
      vendor: 'yealink',
      model: 'T54W',
      site: 'HQ',
    });
    assert.equal(
      (await api('POST', '/authenticate', { mac, pap: devicePap, ip: '127.0.0.1' })).outcome,
      'successful',
    );
    let clock = Date.now();
    const provisioning = createProvisioningServer({
      config: loadConfig({}),
      store: r.store(undefined, () => clock),
      log: silentLog,
      now: () => clock,
    });
    await provisioning.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (provisioning.server.address() as AddressInfo).port;
      assert.equal((await request(port, `/${mac}.cfg`, { from: '127.0.0.1' })).status, 200);
      // Later, from elsewhere, without the credential: asked for it, and a minute on asked again,
      // the device now marked as needing reset.
      assert.equal((await request(port, `/${mac}.cfg`, { from: '127.0.0.5' })).status, 401);
      clock += 60_000;
      assert.equal((await request(port, `/${mac}.cfg`, { from: '127.0.0.5' })).status, 401);
    } finally {
      await provisioning.close();
    }
    await page.goto(`${base}/#/t/acme/devices`);
    const row = page.getByRole('row').filter({ hasText: '00:15:65:ca:fe:01' });
    await row.getByText('needs reset').waitFor();
    assert.match(await row.innerText(), /needs reset[\s\S]*127\.0\.0\.5/);
    await row.getByRole('link', { name: '00:15:65:ca:fe:01' }).click();
    await page.getByRole('heading', { name: 'Device 00:15:65:ca:fe:01' }).waitFor();
    const dl = page.locator('dl.device');
    await dl.getByText('needs reset').waitFor();
    await dl.getByText(/or a stranger behind the phone's address/).waitFor();
    assert.match(await dl.innerText(), /Asked for its credential\s+.*127\.0\.0\.5/);
    await shot('needs-reset');
  });

  it('keeps site records on the Sites page: the sites without one listed, a record added there (errors beside the field), then deleted after confirmation', async () => {
    await page.goto(`${base}/#/t/acme/sites`);
    await page.getByRole('heading', { name: 'Sites' }).waitFor();
    const missing = page.locator('.missing-sites li').filter({ hasText: 'Annex' });
    await missing.waitFor();
    assert.match((await missing.innerText()).replace(/\s+/g, ' '), /^Annex \(2 device\(s\)\)/);
    await missing.getByRole('button', { name: 'Add a record for Annex' }).click();
    assert.equal(await page.getByLabel('Site name').inputValue(), 'Annex');
    await page.getByLabel('Emergency caller ID (E.164)').fill('030 1234');
    await page.getByRole('button', { name: 'Save site' }).click();
    const error = page.locator('#site-caller-id-error');
    await error.waitFor();
    assert.match(await error.innerText(), /E\.164/);
    await page.getByLabel('Emergency caller ID (E.164)').fill('+493012345678');
    await page.getByLabel('Country (ISO code)').fill('DE');
    await page.getByLabel('City').fill('Berlin');
    await page.getByLabel('Street').fill('Unter den Linden');
    await page.getByLabel('House number').fill('5');
    await page.getByLabel('Send the location').selectOption('true');
    await page.getByRole('button', { name: 'Save site' }).click();
    await page.getByRole('status').filter({ hasText: 'Site Annex saved.' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: '+493012345678' });
    await row.waitFor();
    assert.match(await row.innerText(), /Annex[\s\S]*DE, Berlin, Unter den Linden, 5[\s\S]*yes/);
    assert.deepEqual((await api('GET', '/tenants/acme/sites/Annex')).civicAddress, {
      country: 'DE',
      A3: 'Berlin',
      RD: 'Unter den Linden',
      HNO: '5',
    });
    await missing.waitFor({ state: 'detached' });
    await shot('sites');
    await row.getByRole('button', { name: 'Delete Annex' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Yes, do it' }).click();
    await row.waitFor({ state: 'detached' });
    await missing.waitFor();
    assert.equal((await api('GET', '/tenants/acme/sites')).sites.length, 0);
  });

  it('warns on the device page about a model papgate does not know, and still saves its edit', async () => {
    // Refused by the API now (400), but a device stored before that may have one: written directly.
    const mac = '001565cafe05';
    await api('POST', '/tenants/acme/devices', { mac, vendor: 'yealink', model: 'T54W', site: 'HQ' });
    await r.client.hSet(keys.tenant('acme').device(mac), DEVICE.model, 'T99Z');
    await page.goto(`${base}/#/t/acme/devices/${mac}`);
    const dl = page.locator('dl.device');
    await dl.getByText(/papgate does not know this model and EXTRA_MODELS does not declare it/).waitFor();
    await page.getByText('Edit device').click();
    await page.locator('#edit-site').fill('Floor 4');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    const after = await api('GET', `/tenants/acme/devices/${mac}`);
    assert.deepEqual([after.site, after.model, after.modelKnown], ['Floor 4', 'T99Z', false]);
  });

  it('isolates stored names: a tenant and site holding U+202E do not reverse the PAP sheet instructions', async () => {
    // Refused by the API now (400), but a record stored before that may hold them: written directly.
    await api('PUT', '/tenants/bidi', { name: 'Bidi' });
    await api('POST', '/tenants/bidi/devices', {
      mac: '001565b1d1a1',
      vendor: 'yealink',
      model: 'T54W',
      site: 'Lab',
    });
    const site = 'Floor\u202e 2';
    await r.client.hSet(keys.tenant('bidi').info, 'name', 'Evil\u202e Corp');
    await r.client.hSet(keys.tenant('bidi').device('001565b1d1a1'), DEVICE.site, site);
    await page.goto(`${base}/#/t/bidi/sheet/${encodeURIComponent(site)}`);
    await page.locator('.pap-card').first().waitFor();
    /**
     * Where the instruction's characters are drawn: left to right, line by line, as written. An
     * override leaking out of a name draws them right to left.
     */
    const instruction = page.locator('article.sheet p').filter({ hasText: 'Plug in each phone' });
    const order = await instruction.evaluate((p) => {
      const doc = p.ownerDocument;
      const walker = doc.createTreeWalker(p, 4 /* NodeFilter.SHOW_TEXT */);
      let text = walker.nextNode();
      while (text !== null && !text.data.includes('Plug in each phone')) text = walker.nextNode();
      if (text === null) return null;
      const from = text.data.indexOf('Plug in');
      const to = text.data.indexOf('its card says') + 'its card says'.length;
      const boxes: { x: number; y: number }[] = [];
      for (let i = from; i < to; i++) {
        if (text.data[i] === ' ') continue;
        const range = doc.createRange();
        range.setStart(text, i);
        range.setEnd(text, i + 1);
        const b = range.getBoundingClientRect();
        boxes.push({ x: b.left, y: b.top });
      }
      let pairs = 0;
      let backwards = 0;
      for (let i = 1; i < boxes.length; i++) {
        if (Math.abs(boxes[i]!.y - boxes[i - 1]!.y) > 2) continue;
        pairs++;
        if (boxes[i]!.x < boxes[i - 1]!.x) backwards++;
      }
      return { pairs, backwards };
    });
    assert.ok(order !== null, 'the instruction text');
    assert.ok(order.pairs > 30, JSON.stringify(order));
    assert.equal(order.backwards, 0, `characters drawn right to left: ${JSON.stringify(order)}`);
    const intro = await instruction.innerText();
    assert.ok(intro.includes('Evil\u202e Corp') && intro.includes(site), 'the names are shown as stored');
    await shot('pap-sheet-bidi');
  });

  it('shows a missing password beside the password field, and edits a device keeping its PAP', async () => {
    await page.goto(`${base}/#/t/acme/add`);
    await page.getByLabel('MAC address').fill('001565000a03');
    await page.getByLabel('Model').fill('T54W');
    await page.getByLabel('Site').fill('Annex');
    await page.getByLabel('SIP server').fill('sip.example.net');
    await page.getByLabel('SIP user').fill('300');
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.locator('#add-password-error').getByText('A SIP account needs a password.').waitFor();
    assert.equal(await page.locator('#add-server-error').count(), 0, 'shown under the SIP server');

    const before = await api('GET', '/tenants/acme/devices/001565000a01');
    await page.goto(`${base}/#/t/acme/devices/001565000a01`);
    await page.getByText('Edit device').click();
    await page.locator('#edit-site').fill('Floor 3');
    await page.locator('#edit-server').fill('sip.example.net');
    await page.locator('#edit-user').fill('301');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#edit-password-error').getByText('A SIP account needs a password.').waitFor();
    await page.locator('#edit-password').fill('pw-301');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved.').waitFor();
    await page.locator('dl.device').getByText('Floor 3').waitFor();
    const after = await api('GET', '/tenants/acme/devices/001565000a01');
    assert.deepEqual([after.site, after.pap, after.accounts[0].user], ['Floor 3', before.pap, '301']);
  });

  it("a tenant token sees its own tenant only, in the user's language whatever the tenant's, and can switch", async () => {
    await ctx.close();
    page = await open();
    await signIn(page, betaToken);
    // beta's language is German: that is for its sheets; the console stays in English
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('button', { name: 'Deutsch' }).click();
    await page.getByRole('heading', { name: 'Übersicht' }).waitFor();
    await page.locator('table.overview tbody tr').filter({ hasText: 'Berlin' }).waitFor();
    await page.getByRole('link', { name: 'Geräte', exact: true }).click();
    await page.getByRole('heading', { name: 'Geräte' }).waitFor();
    await page.getByRole('row').filter({ hasText: '00:15:65:be:ef:01' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Mandanten' }).count(), 0);
    const body = await page.locator('body').innerText();
    assert.ok(!body.includes('Acme') && !body.includes('12:34:56'), 'acme shows through');
    await shot('tenant-token-de');
    await page.goto(`${base}/#/t/acme/devices`);
    await page.getByRole('alert').filter({ hasText: 'beta' }).first().waitFor();
    assert.ok(!(await page.locator('body').innerText()).includes('12:34:56'));
    await page.goto(`${base}/#/t/beta/devices`);
    await page.getByRole('heading', { name: 'Geräte' }).waitFor();
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    // Sign-out forgets the token: a reload shows the sign-in page.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.reload();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('reset names the addresses that would let the phone in without its new PAP and removes them on request; unlock; end a PIN bypass', async () => {
    const mac = '001565cafe02';
    const url = `/tenants/acme/devices/${mac}`;
    const { pap: devicePap } = await api('POST', '/tenants/acme/devices', {
      mac,
      vendor: 'yealink',
      model: 'T54W',
      site: 'Lisbon',
    });
    await api('POST', '/authenticate', { mac, pap: devicePap, ip: '127.0.0.7' });
    await page.goto(`${base}/#/t/acme/devices/${mac}`);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByLabel('Admin token').press('Enter');
    await page.getByRole('heading', { name: 'Device 00:15:65:ca:fe:02' }).waitFor();
    await page
      .locator('dl.device')
      .getByText(/127\.0\.0\.7 · temporary, site Lisbon/)
      .waitFor();

    await page.getByRole('button', { name: 'Reset authentication' }).click();
    const ask = page.getByRole('dialog');
    await ask.getByText(/from 127\.0\.0\.7 it would still get its full configuration without one/).waitFor();
    await ask.getByRole('button', { name: 'Reset and remove these temporary entries' }).click();
    await page.getByText(/^New PAP: [0-9]{6}$/).waitFor();
    assert.deepEqual((await api('GET', `${url}/bypasses`)).temporary, []);
    assert.deepEqual(
      (await api('GET', '/tenants/acme/whitelist/temporary')).entries.filter(
        (e: { site: string }) => e.site === 'Lisbon',
      ),
      [],
    );
    await page
      .locator('dl.device')
      .getByText(/temporary, site Lisbon/)
      .waitFor({ state: 'detached' });

    const newPap = (await api('GET', url)).pap;
    const wrong = newPap === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) await api('POST', '/authenticate', { mac, pap: wrong });
    await page.reload();
    await page.getByRole('button', { name: 'Unlock (keep the PAP)' }).click();
    await page.getByText('Unlocked: the PAP can be typed again.').waitFor();
    const unlocked = await api('GET', url);
    assert.deepEqual([unlocked.state, unlocked.pap], ['needed', newPap]);

    await page.getByRole('button', { name: 'Skip the PIN (one file)' }).click();
    await page.getByRole('button', { name: 'End PIN bypass' }).click();
    await page.getByText('PIN bypass ended.').waitFor();
    assert.equal((await api('GET', url)).pinBypassUntil, null);

    // The phone on this desk was swapped for a T46U: refused, shown, accepted.
    const provisioning = createProvisioningServer({
      config: loadConfig({}),
      store: r.store(),
      log: silentLog,
    });
    await provisioning.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (provisioning.server.address() as AddressInfo).port;
      const ua = { 'user-agent': 'Yealink SIP-T46U 108.86.0.20 00:15:65:ca:fe:02' };
      assert.equal((await request(port, `/${mac}.cfg`, { from: '127.0.0.8', headers: ua })).status, 403);
    } finally {
      await provisioning.close();
    }
    await page.reload();
    await page
      .locator('dl.device')
      .getByText(/it names model T46U/)
      .waitFor();
    await page
      .getByRole('cell', { name: /userAgent: Yealink SIP-T46U 108\.86\.0\.20 00:15:65:ca:fe:02/ })
      .waitFor();
    await shot('device-lifecycle');
    await page.getByRole('button', { name: 'Accept model T46U' }).click();
    await page.getByText('Model is now T46U.').waitFor();
    await page.getByRole('button', { name: 'Disable device' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Yes, do it' }).click();
    await page.locator('dl.device').getByText('Disabled since').waitFor();
    assert.ok((await api('GET', url)).disabledAt);
    await page.getByRole('button', { name: 'Enable device' }).click();
    await page.getByText('Enabled.').waitFor();
    assert.equal((await api('GET', url)).disabledAt, null);
    assert.deepEqual(
      [(await api('GET', url)).model, (await api('GET', url)).userAgentMismatch],
      ['T46U', null],
    );
  });
});
