/**
 * The device page's effective full file in headless Chromium, against the real admin server and
 * Redis with an operator's template folder: the file as the phone would get it, masked, its sources.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { effectiveFile } from '../src/provisioning/effective';
import { loadTemplates } from '../src/provisioning/template-check';
import { buildConsole, launchChromium, screenshotPath } from './support/browser';
import { fileSettingsFor, silentLog, TestRedis } from './support/redis';

const TOKEN = 'console-file-operator-token-0123';
const MAC = '001565123457';

describe('console: the effective full file of a device', function () {
  this.timeout(60_000);
  const r = new TestRedis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-templates-'));
  let app: FastifyInstance;
  let browser: Browser;
  let base = '';

  const api = async (method: string, url: string, body?: unknown, token = TOKEN) => {
    const res = await fetch(`${base}/api/v1${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(res.ok, `${method} ${url}: ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };

  before(async () => {
    buildConsole();
    fs.mkdirSync(path.join(dir, 'yealink', 'model-T54W'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'yealink', 'model-T54W', 'device.cfg'),
      '{{>papgate:device.cfg}}\nlocal_time.time_zone = +1\n',
    );
    await r.start();
    const config = loadConfig({ ADMIN_TOKEN: TOKEN, PROVISIONING_TEMPLATES_DIR: dir });
    const templates = loadTemplates(config);
    app = createAdminServer({
      config,
      store: r.store(),
      log: silentLog,
      adminToken: TOKEN,
      effectiveFile: (device) => effectiveFile(config, templates, fileSettingsFor(config, r.client), device),
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    await r.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows it on the device page for a tenant token: masked, its templates named', async () => {
    await api('PUT', '/tenants/acme', { name: 'Acme Corp', language: 'en' });
    await api('POST', '/tenants/acme/devices', {
      mac: MAC,
      vendor: 'yealink',
      model: 'T54W',
      site: 'HQ',
      accounts: [{ server: 'sip.acme.example', user: '100', password: 'Pw-of-100-secret' }],
    });
    const token = (await api('POST', '/tenants/acme/tokens', { name: 'acme-it' })).token as string;
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await ctx.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${base}/`);
    await page.getByLabel('Admin token').fill(token);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.goto(`${base}/#/t/acme/devices/${MAC}`);
    await page.getByRole('heading', { name: 'Full configuration file' }).waitFor();
    await page.getByRole('button', { name: 'Show the file' }).click();
    const file = page.locator('pre.effective-file');
    await file.waitFor();
    const text = await file.innerText();
    assert.match(text, /account\.1\.password = \*{8}\n/);
    assert.match(text, /static\.auto_provision\.server\.url = http:\/\/127\.0\.0\.1:8081\/d\/\*{8}\//);
    assert.match(text, /local_time\.time_zone = \+1\s*$/);
    assert.ok(!(await page.content()).includes('Pw-of-100-secret'));
    const sources = await page.getByRole('region', { name: 'Full configuration file' }).innerText();
    assert.match(sources, /001565123457\.cfg/);
    assert.match(sources, /yealink\/model-T54W\/device\.cfg \(your own \(PROVISIONING_TEMPLATES_DIR\)\)/);
    assert.match(sources, /yealink\/device\.cfg \(papgate's own\)/);
    await page.screenshot({ path: screenshotPath('console-effective-file'), fullPage: true });
    assert.deepEqual(problems, []);
    await ctx.close();
  });
});
