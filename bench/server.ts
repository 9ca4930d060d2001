/**
 * Benchmark entry point (bench/provisioning.sh runs it): a throwaway redis-server and one papgate
 * process serving provisioning and the admin API on free 127.0.0.1 ports. Tenants:
 * - bench-full: its permanent whitelist holds 127.0.0.1; its device took its first full configuration
 *   there and now fetches without the path, answering with its HTTP credentials (Basic), as a phone
 *   whose provisioning server comes from DHCP does;
 * - bench-credential: one device that was provisioned once and now fetches with its credential;
 * - bench-settings: the same, its tenant's settings layer holding SETTINGS_ITEMS Yealink items;
 * - bench-minimal: no whitelist (minimal configurations);
 * - bench-pap: PAP_DEVICES devices in `needed` for the PAP check (wrong PAPs, see bench/pap.ts);
 * - bench-gate: two devices fetching with their credential from two more provisioning servers in
 *   gate mode (docs/gate-mode.md) over the upstream BENCH_UPSTREAM names (nginx, serving the
 *   FusionPBX-shaped Yealink file written here into BENCH_STATIC_DIR/upstream/): one keeps the
 *   upstream's file (PROVISIONING_UPSTREAM_CACHE_SECONDS 60), one asks for it on every request (0).
 * The full answers checked at start are made with a Yealink T54W User-Agent, one after the other:
 * each one's provision.lua call (keys and arguments as papgate sent them) and its bytes go to
 * BENCH_STATIC_DIR/floor.json, which the floor app (bench/floor.ts) replays.
 * Prints one JSON line when ready; stops redis-server on SIGTERM/SIGINT.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import { parseNewDevice, type NewDevice } from '../src/domain/device';
import { parseMac } from '../src/domain/mac';
import { parseLayerChange } from '../src/domain/setting-layers';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { createProvisioningServer } from '../src/provisioning/server';
import { connectRedis } from '../src/store/connect';
import { startEmbeddedRedis } from '../src/store/embedded';
import { keys } from '../src/store/keys';
import { scripts } from '../src/store/scripts';
import { Settings } from '../src/store/settings';
import { Store } from '../src/store/store';
import { UPSTREAM_FILES } from '../test/support/upstream';
import type { FloorTarget } from './floor';
import { BENCH_ENV, PAP_DEVICES, PAP_TENANT, papDeviceMac } from './pap-devices';

const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
/** Settings items of the bench-settings tenant (issue 23: "a file with 200 settings"). */
const SETTINGS_ITEMS = 200;

function device(mac: string, accounts: NewDevice['accounts']): NewDevice {
  return parseNewDevice({ mac, vendor: 'yealink', model: 'T54W', site: 'bench', accounts });
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

async function main(): Promise<void> {
  const log = pino({ level: 'silent' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-bench-redis-'));
  const redis = await startEmbeddedRedis({
    bin: process.env.REDIS_SERVER_BIN || 'redis-server',
    dir,
    persistent: false,
  });
  const client = await connectRedis(redis.url, log);
  const config = loadConfig({
    PROVISIONING_BASE_URL: 'http://127.0.0.1:8081',
    SIP_REGISTRAR: '127.0.0.1:5060',
    LOG_LEVEL: 'silent',
    ...BENCH_ENV,
  });
  const store = new Store(client, { auth: config.auth, eventsMaxLen: config.eventsMaxLen });
  const account = {
    server: 'sip.bench.example:5060',
    user: 'bench-100',
    password: 'bench-secret-pw',
    displayName: 'Bench User',
  };
  for (const t of [
    'bench-full',
    'bench-credential',
    'bench-settings',
    'bench-minimal',
    'bench-gate',
    PAP_TENANT,
  ])
    await store.putTenant(t, { name: t, language: null }, 'bench');
  await store.addWhitelist('bench-full', parseWhitelistEntry('127.0.0.1'), 'bench');
  await store.createDevices('bench-full', [device('001565be0001', [account])], 'bench');
  await store.createDevices('bench-minimal', [device('001565be0002', [account])], 'bench');
  const created = await store.createDevices('bench-credential', [device('001565be0003', [account])], 'bench');
  const withSettings = await store.createDevices(
    'bench-settings',
    [device('001565be0004', [account])],
    'bench',
  );
  if (withSettings === 'unknown_tenant' || !withSettings.ok) throw new Error('bench: device not created');
  const items = Array.from({ length: SETTINGS_ITEMS }, (_, i) => ({
    name: `features.bench.item${i}`,
    value: `bench value ${i}`,
  }));
  await new Settings(client, { eventsMaxLen: config.eventsMaxLen }).put(
    'bench-settings',
    { scope: 'tenant' },
    parseLayerChange({ items: { yealink: items } }, true),
    'bench',
    config.settingsTenantMaxBytes,
  );
  const papDevices = Array.from({ length: PAP_DEVICES }, (_, i) => device(papDeviceMac(i), [account]));
  await store.createDevices(PAP_TENANT, papDevices, 'bench');
  if (created === 'unknown_tenant' || !created.ok) throw new Error('bench: device not created');
  await store.addWhitelist('bench-gate', parseWhitelistEntry('127.0.0.1'), 'bench');
  const gated = await store.createDevices(
    'bench-gate',
    GATE_MACS.map((mac) => device(mac, [account])),
    'bench',
  );
  if (gated === 'unknown_tenant' || !gated.ok) throw new Error('bench: gate devices not created');

  const prov = createProvisioningServer({ config, store, log });
  const admin = createAdminServer({ config, store, log, adminToken: ADMIN_TOKEN });
  const port = await listen(prov);
  const adminPort = await listen(admin);

  // The credential device authenticates by PAP from 127.0.0.1 (a temporary whitelist entry), takes
  // its first full configuration, and loses the entry: from then on only its credential gets it full.
  const pap = await store.attemptPap(
    parseMac('001565be0003'),
    created.devices[0]!.pap,
    '127.0.0.1',
    'bench',
    'api',
  );
  if (pap.outcome !== 'successful') throw new Error(`bench: PAP ${pap.outcome}`);
  const first = await prov.inject({ url: '/001565be0003.cfg', remoteAddress: '127.0.0.1' });
  const credential = /\/d\/([A-Za-z0-9_-]+)\//.exec(first.body)?.[1];
  if (!credential) throw new Error('bench: no credential in the first full configuration');
  await client.del(keys.tenant('bench-credential').tempWhitelist);
  const settingsPap = await store.attemptPap(
    parseMac('001565be0004'),
    withSettings.devices[0]!.pap,
    '127.0.0.1',
    'bench',
    'api',
  );
  if (settingsPap.outcome !== 'successful') throw new Error(`bench: PAP ${settingsPap.outcome}`);
  const settingsCredential = /\/d\/([A-Za-z0-9_-]+)\//.exec(
    (await prov.inject({ url: '/001565be0004.cfg', remoteAddress: '127.0.0.1' })).body,
  )?.[1];
  if (!settingsCredential)
    throw new Error('bench: no credential in the first full configuration with settings');
  await client.del(keys.tenant('bench-settings').tempWhitelist);
  const firstFull = await prov.inject({ url: '/001565be0001.cfg', remoteAddress: '127.0.0.1' });
  const fullCredential = /\/d\/([A-Za-z0-9_-]+)\//.exec(firstFull.body)?.[1];
  if (!fullCredential) throw new Error('bench: no credential in the whitelisted first full configuration');
  const fullAuthorization = `Basic ${Buffer.from(`001565be0001:${fullCredential}`).toString('base64')}`;

  const gate = await gateServers(config, store, log);

  const fullPath = '/001565be0001.cfg';
  const credentialPath = `/d/${credential}/001565be0003.cfg`;
  const settingsPath = `/d/${settingsCredential}/001565be0004.cfg`;
  const minimalPath = '/001565be0002.cfg';
  const get = (url: string, authorization?: string) =>
    prov.inject({
      url,
      remoteAddress: '127.0.0.1',
      headers: { 'user-agent': yealinkUserAgent(url), ...(authorization ? { authorization } : {}) },
    });
  // One after the other: each full answer's script call is the floor app's (bench/floor.ts).
  const floor: FloorTarget[] = [];
  const [full, viaCredential, withItems] = [
    await floorTarget(floor, fullPath, () => get(fullPath, fullAuthorization)),
    await floorTarget(floor, credentialPath, () => get(credentialPath)),
    await floorTarget(floor, settingsPath, () => get(settingsPath)),
  ];
  const minimal = await get(minimalPath);
  if (
    full.statusCode !== 200 ||
    !full.body.includes('bench-secret-pw') ||
    viaCredential.statusCode !== 200 ||
    !viaCredential.body.includes('bench-secret-pw') ||
    withItems.statusCode !== 200 ||
    !withItems.body.includes(`features.bench.item${SETTINGS_ITEMS - 1} = `) ||
    !minimal.body.includes('Dial *89 to authenticate') ||
    !gate.every((g) => g.body.includes('bench-secret-pw') && g.body.includes('linekey.2.label = Bob'))
  ) {
    throw new Error(
      `unexpected answers: full ${full.statusCode}, credential ${viaCredential.statusCode}, settings ${withItems.statusCode}, minimal ${minimal.statusCode}`,
    );
  }
  if (process.env.BENCH_STATIC_DIR) {
    fs.writeFileSync(path.join(process.env.BENCH_STATIC_DIR, 'full.cfg'), full.rawPayload);
    fs.writeFileSync(path.join(process.env.BENCH_STATIC_DIR, 'credential.cfg'), viaCredential.rawPayload);
    fs.writeFileSync(path.join(process.env.BENCH_STATIC_DIR, 'settings.cfg'), withItems.rawPayload);
    fs.writeFileSync(path.join(process.env.BENCH_STATIC_DIR, 'minimal.cfg'), minimal.rawPayload);
    fs.writeFileSync(path.join(process.env.BENCH_STATIC_DIR, 'floor.json'), JSON.stringify(floor));
  }

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.all([prov.close(), admin.close(), ...gate.map((g) => g.app.close())]).catch(
      () => undefined,
    );
    await client.close().catch(() => undefined);
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdout.write(
    `${JSON.stringify({
      port,
      adminPort,
      adminToken: ADMIN_TOKEN,
      redisUrl: redis.url,
      redisPort: new URL(redis.url).port,
      fullPath,
      fullAuthorization,
      fullUserAgent: yealinkUserAgent(fullPath),
      credentialUserAgent: yealinkUserAgent(credentialPath),
      settingsUserAgent: yealinkUserAgent(settingsPath),
      minimalUserAgent: yealinkUserAgent(minimalPath),
      credentialPath,
      settingsPath,
      minimalPath,
      fullBytes: full.rawPayload.length,
      credentialBytes: viaCredential.rawPayload.length,
      settingsBytes: withItems.rawPayload.length,
      settingsItems: SETTINGS_ITEMS,
      minimalBytes: minimal.rawPayload.length,
      papDevices: PAP_DEVICES,
      gatePort: gate[0]!.port,
      gatePath: gate[0]!.path,
      gateUncachedPort: gate[1]!.port,
      gateUncachedPath: gate[1]!.path,
      gateBytes: Buffer.byteLength(gate[0]!.body),
    })}\n`,
  );
}

const GATE_MACS = ['001565be0005', '001565be0006'];

/** What a Yealink T54W sends with its request for `url` (its MAC in the file name). */
function yealinkUserAgent(url: string): string {
  const mac = /([0-9a-f]{12})\.cfg$/.exec(url)?.[1] ?? '';
  return `Yealink SIP-T54W 96.86.0.100 ${mac.replace(/(..)(?!$)/g, '$1:')}`;
}

/**
 * Answers `request`'s response, and adds to `floor` what the floor app replays of it: the one
 * provision.lua call papgate made for it (keys and arguments as sent) and the answer's bytes.
 */
async function floorTarget(
  floor: FloorTarget[],
  url: string,
  request: () => Promise<LightMyRequestResponse>,
): Promise<LightMyRequestResponse> {
  const calls: { keys: string[]; args: string[] }[] = [];
  const script = scripts.provision;
  const run = script.run.bind(script);
  script.run = (redis, keys, args) => {
    calls.push({ keys, args: args.map(String) });
    return run(redis, keys, args);
  };
  let res: LightMyRequestResponse;
  try {
    res = await request();
  } finally {
    delete (script as { run?: unknown }).run;
  }
  if (calls.length !== 1) throw new Error(`bench: ${url} made ${calls.length} provision.lua calls, not 1`);
  const { keys, args } = calls[0]!;
  const nowIndex = args.findIndex((a) => /^[0-9]{13}$/.test(a) && Math.abs(Number(a) - Date.now()) < 60_000);
  if (nowIndex === -1) throw new Error('bench: no time among the provision.lua arguments');
  const headers: Record<string, string> = {};
  for (const name of ['content-type', 'cache-control', 'content-length'])
    headers[name] = String(res.headers[name]);
  floor.push({ path: url, keys, args, nowIndex, status: res.statusCode, headers, body: res.body });
  return res;
}

/**
 * The gate-mode servers (cached, then asking every time), each with its device's first full
 * configuration taken through the whitelist: the path with its credential, and the answer to it.
 */
async function gateServers(
  config: ReturnType<typeof loadConfig>,
  store: Store,
  log: pino.Logger,
): Promise<{ app: FastifyInstance; port: number; path: string; body: string }[]> {
  const pattern = process.env.BENCH_UPSTREAM;
  const dir = process.env.BENCH_STATIC_DIR;
  if (!pattern || !dir) throw new Error('bench: BENCH_UPSTREAM and BENCH_STATIC_DIR are needed');
  fs.mkdirSync(path.join(dir, 'upstream'), { recursive: true });
  for (const mac of GATE_MACS)
    fs.writeFileSync(path.join(dir, 'upstream', `${mac}.cfg`), UPSTREAM_FILES.yealink);
  return Promise.all(
    GATE_MACS.map(async (mac, i) => {
      const app = createProvisioningServer({
        config: {
          ...config,
          provisioningUpstream: loadConfig({
            SIP_REGISTRAR: '127.0.0.1:5060',
            PROVISIONING_UPSTREAM: `yealink=${pattern}`,
            PROVISIONING_UPSTREAM_CACHE_SECONDS: i === 0 ? '60' : '0',
          }).provisioningUpstream,
        },
        store,
        log,
      });
      const port = await listen(app);
      const first = await app.inject({ url: `/${mac}.cfg`, remoteAddress: '127.0.0.1' });
      const credential = /\/d\/([A-Za-z0-9_-]+)\//.exec(first.body)?.[1];
      if (!credential) throw new Error(`bench: gate mode answered ${first.statusCode}: ${first.body}`);
      const url = `/d/${credential}/${mac}.cfg`;
      return { app, port, path: url, body: (await app.inject({ url, remoteAddress: '127.0.0.1' })).body };
    }),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server: ${(err as Error).message}\n`);
  process.exit(1);
});
