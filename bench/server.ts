/**
 * Benchmark entry point (bench/provisioning.sh runs it): a throwaway redis-server, one tenant whose
 * permanent whitelist holds 127.0.0.1 (full configurations), one without (minimal configurations),
 * and the provisioning server on a free 127.0.0.1 port. Prints one JSON line when ready; stops
 * redis-server on SIGTERM/SIGINT.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { parseNewDevice } from '../src/domain/device';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { createProvisioningServer } from '../src/provisioning/server';
import { connectRedis } from '../src/store/connect';
import { startEmbeddedRedis } from '../src/store/embedded';
import { Store } from '../src/store/store';

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
  });
  const store = new Store(client, { auth: config.auth, eventsMaxLen: 10000 });
  const account = {
    server: 'sip.bench.example:5060',
    user: 'bench-100',
    password: 'bench-secret-pw',
    displayName: 'Bench User',
  };
  await store.putTenant('bench-full', { name: 'Bench full', language: null }, 'bench');
  await store.putTenant('bench-minimal', { name: 'Bench minimal', language: null }, 'bench');
  await store.addWhitelist('bench-full', parseWhitelistEntry('127.0.0.1'), 'bench');
  await store.createDevices(
    'bench-full',
    [
      parseNewDevice({
        mac: '001565be0001',
        vendor: 'yealink',
        model: 'T54W',
        site: 'bench',
        accounts: [account],
      }),
    ],
    'bench',
  );
  await store.createDevices(
    'bench-minimal',
    [
      parseNewDevice({
        mac: '001565be0002',
        vendor: 'yealink',
        model: 'T54W',
        site: 'bench',
        accounts: [account],
      }),
    ],
    'bench',
  );

  const app = createProvisioningServer({ config, store, log });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  const full = await app.inject({ url: '/001565be0001.cfg', remoteAddress: '127.0.0.1' });
  const minimal = await app.inject({ url: '/001565be0002.cfg', remoteAddress: '127.0.0.1' });
  if (
    full.statusCode !== 200 ||
    !full.body.includes('bench-secret-pw') ||
    !minimal.body.includes('Dial *89 to authenticate')
  ) {
    throw new Error(`unexpected answers: full ${full.statusCode}, minimal ${minimal.statusCode}`);
  }
  if (process.env.BENCH_STATIC_FILE) fs.writeFileSync(process.env.BENCH_STATIC_FILE, full.rawPayload);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.close().catch(() => undefined);
    await client.quit().catch(() => undefined);
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdout.write(
    `${JSON.stringify({ port, fullPath: '/001565be0001.cfg', minimalPath: '/001565be0002.cfg', fullBytes: full.rawPayload.length, minimalBytes: minimal.rawPayload.length })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench server: ${(err as Error).message}\n`);
  process.exit(1);
});
