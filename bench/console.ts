/**
 * `npm run bench:console`: the devices page of a tenant with 10,000 devices. Times the API's
 * paged list (first page, a state filter, a MAC search, the last page) and, in headless Chromium,
 * the console from navigation to the rendered first page. Throwaway Redis and admin server on
 * loopback; prints one JSON line.
 */
import type { AddressInfo } from 'node:net';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { buildConsole, launchChromium } from '../test/support/browser';
import { TestRedis, silentLog } from '../test/support/redis';

const TOKEN = 'bench-console-operator-token-01';
const DEVICES = Number(process.env.BENCH_CONSOLE_DEVICES ?? 10_000);
const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 20);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.95) - 1]!;

async function main(): Promise<void> {
  buildConsole();
  const redis = await new TestRedis().start();
  const app = createAdminServer({
    config: loadConfig({ ADMIN_TOKEN: TOKEN, MAX_BODY_BYTES: String(4 << 20) }),
    store: redis.store(),
    log: silentLog,
    adminToken: TOKEN,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  try {
    await fetch(`${base}/api/v1/tenants/bench`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"name":"Bench"}',
    });
    const rows = Array.from(
      { length: DEVICES },
      (_, i) => `yealink,T54W,02fd${i.toString(16).padStart(8, '0')},Site ${i % 40}`,
    );
    const imported = await fetch(`${base}/api/v1/tenants/bench/devices.csv`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/csv' },
      body: `vendor,type,mac,site\n${rows.join('\n')}\n`,
    });
    if (imported.status !== 201) throw new Error(`import: ${imported.status} ${await imported.text()}`);

    const api: Record<string, { medianMs: number; p95Ms: number }> = {};
    for (const [name, query] of Object.entries({
      firstPage: 'limit=50',
      stateFilter: 'state=needed&limit=50&offset=500',
      siteFilter: 'site=Site%207&limit=50',
      macSearch: 'q=02fd00001',
      lastPage: `limit=50&offset=${DEVICES - 50}`,
    })) {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const res = await fetch(`${base}/api/v1/tenants/bench/devices?${query}`, { headers: auth });
        await res.arrayBuffer();
        times.push(performance.now() - t0);
      }
      api[name] = { medianMs: +median(times).toFixed(1), p95Ms: +p95(times).toFixed(1) };
    }

    const browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Tenants' }).waitFor();
    const shown = `1–50 of ${new Intl.NumberFormat('en-GB').format(DEVICES)}`;
    const pageTimes: number[] = [];
    for (let i = 0; i < Math.min(RUNS, 10); i++) {
      await page.goto(`${base}/#/`);
      await page.getByRole('heading', { name: 'Tenants' }).waitFor();
      const t0 = performance.now();
      await page.goto(`${base}/#/t/bench/devices?page=0&x=${i}`);
      await page.getByText(shown).waitFor();
      await page.locator('table.devices tbody tr').nth(49).waitFor();
      pageTimes.push(performance.now() - t0);
    }
    await browser.close();
    console.log(
      JSON.stringify({
        devices: DEVICES,
        api,
        consoleDevicesPage: { medianMs: +median(pageTimes).toFixed(1), p95Ms: +p95(pageTimes).toFixed(1) },
      }),
    );
  } finally {
    await app.close();
    await redis.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
