import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { createAdminServer } from '../src/admin/server';
import { loadConfig } from '../src/config';
import {
  certificateAuditFields,
  certificateResult,
  macsInCertificate,
  type CertificateResult,
  type PresentedCertificate,
} from '../src/domain/devicecert';
import type { Mac } from '../src/domain/mac';
import { decideProvisioning, type ProvisioningInputs } from '../src/domain/provisioning';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { createProvisioningServer } from '../src/provisioning/server';
import { reloadTls, TlsFileError } from '../src/provisioning/tls';
import { freePort } from '../src/store/embedded';
import { credentialIn, ProvisioningFixture, request } from './support/http';
import { capturedLog, silentLog } from './support/redis';
import { Metrics } from '../src/lib/metrics';
import { exited, killServices, startService, storeReady, until } from './support/service';
import { pkiDir, TestCa } from './support/pki';

const MAC = '001565aabbcc' as Mac;
const OTHER = '001565aabbcd' as Mac;
const UA = 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc';

interface TlsAnswer {
  readonly status: number;
  readonly body: string;
  /** CN of the certificate the server presented. */
  readonly serverName: string;
}

/** One HTTPS request over loopback, from `from`, with a client certificate or none. */
function tlsRequest(
  port: number,
  pathname: string,
  opts: {
    ca: string;
    from?: string;
    client?: { cert: string; key: string };
    headers?: Record<string, string>;
  },
): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        ca: opts.ca,
        agent: false,
        headers: opts.headers ?? { 'user-agent': UA },
        ...(opts.from ? { localAddress: opts.from } : {}),
        ...(opts.client ?? {}),
      },
      (res) => {
        const serverName = String((res.socket as TLSSocket).getPeerCertificate().subject.CN);
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), serverName }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('device certificates: the rule (domain)', () => {
  it('finds the MAC in the notations vendors use, in CN, ST and subjectAltName, never in L', () => {
    assert.deepEqual(macsInCertificate({ CN: '001565AABBCC' }), [MAC]);
    assert.deepEqual(macsInCertificate({ CN: '00:15:65:aa:bb:cc' }), [MAC]);
    assert.deepEqual(macsInCertificate({ CN: '00-15-65-AA-BB-CC' }), [MAC]);
    assert.deepEqual(macsInCertificate({ CN: '0015.65aa.bbcc' }), [MAC]);
    assert.deepEqual(macsInCertificate({ CN: 'SEP001565AABBCC' }), [MAC], "Cisco's SEP prefix");
    assert.deepEqual(macsInCertificate({ CN: ['Yealink T54W', 'mac 001565aabbcc'] }), [MAC]);
    assert.deepEqual(macsInCertificate({ ST: '001565aabbcc' }), [MAC], 'Cisco MPP: S=<mac>');
    assert.deepEqual(
      macsInCertificate({ subjectaltname: 'IP Address:0:15:65:aa:bb:cc:0:1, DNS:001565aabbcc.phones.test' }),
      [MAC],
    );
    assert.deepEqual(macsInCertificate({ subjectaltname: 'URI:urn:dev:mac:001565aabbcd' }), [OTHER]);
    // Not a MAC: longer hex runs (a serial, a key id), mixed separators, the wrong length.
    for (const CN of [
      '001565aabbccdd',
      '1001565aabbcc',
      '00:15:65-aa:bb:cc',
      '00:15:65:aa:bb',
      'Yealink Root CA',
    ])
      assert.deepEqual(macsInCertificate({ CN }), [], CN);
  });

  const trusted = (...macs: Mac[]): PresentedCertificate => ({ kind: 'trusted', macs });

  it('a trusted certificate is the identity: path and User-Agent must name one of its MACs', () => {
    assert.deepEqual(certificateResult(trusted(MAC), MAC, undefined), { kind: 'verified', mac: MAC });
    assert.deepEqual(certificateResult(trusted(MAC), MAC, MAC), { kind: 'verified', mac: MAC });
    assert.equal(certificateResult(trusted(OTHER), MAC, undefined).kind, 'mismatch');
    assert.equal(certificateResult(trusted(MAC), MAC, OTHER).kind, 'mismatch', 'User-Agent names another');
    assert.equal(certificateResult(trusted(), MAC, undefined).kind, 'no_mac');
    assert.equal(certificateResult({ kind: 'none' }, MAC, undefined).kind, 'none');
    assert.deepEqual(certificateResult({ kind: 'untrusted', error: 'CERT_HAS_EXPIRED' }, MAC, undefined), {
      kind: 'untrusted',
      error: 'CERT_HAS_EXPIRED',
    });
  });

  it('a certificate only ever refuses: every decision with it is the one without it, or a refusal', () => {
    const results: CertificateResult[] = [
      { kind: 'verified', mac: MAC },
      { kind: 'none' },
      { kind: 'untrusted', error: 'x' },
      { kind: 'no_mac' },
      { kind: 'mismatch', macs: [OTHER] },
    ];
    const base = (
      device: ProvisioningInputs['device'],
      extra: Partial<ProvisioningInputs>,
    ): ProvisioningInputs => ({
      device,
      presented: null,
      ip: '192.0.2.1',
      permanentWhitelist: [],
      temporaryWhitelistUntil: null,
      now: 1000,
      certificate: { kind: 'none' },
      certificatePolicy: 'off',
      ...extra,
    });
    const device = {
      state: 'needed' as const,
      suspendedUntil: null,
      suspensionNetwork: null,
      credentialHash: null,
      digestCredential: null,
      challenged: null,
      failedUntil: null,
      consecutiveFailures: 0,
      totalFailures: 0,
      disabledAt: null,
    };
    const situations: Partial<ProvisioningInputs>[] = [
      {},
      { temporaryWhitelistUntil: 5000 },
      { presented: { kind: 'secret', credential: 'nope' } },
      { permanentWhitelist: [parseWhitelistEntry('192.0.2.0/24')] },
    ];
    for (const s of situations) {
      const without = decideProvisioning(base(device, s));
      for (const policy of ['required', 'recorded', 'off'] as const)
        for (const certificate of results) {
          const d = decideProvisioning(base(device, { ...s, certificate, certificatePolicy: policy }));
          const expected =
            policy === 'off'
              ? null
              : certificate.kind === 'mismatch'
                ? 'device_certificate_mismatch'
                : policy === 'required' && certificate.kind !== 'verified'
                  ? 'device_certificate_required'
                  : null;
          if (expected)
            assert.deepEqual(d, { kind: 'refuse', reason: expected }, `${policy} ${certificate.kind}`);
          else assert.deepEqual(d, without, `${policy} ${certificate.kind}`);
        }
    }
    // Verified under "required" with no PAP and no bypass: still the minimal configuration.
    assert.equal(
      decideProvisioning(base(device, { certificate: results[0]!, certificatePolicy: 'required' })).kind,
      'minimal',
    );
  });

  it('audit fields say what was seen; nothing under "off"', () => {
    assert.deepEqual(certificateAuditFields('recorded', { kind: 'verified', mac: MAC }), {
      certificate: 'verified',
      certificateMac: MAC,
    });
    assert.deepEqual(certificateAuditFields('required', { kind: 'mismatch', macs: [OTHER, MAC] }), {
      certificate: 'mismatch',
      certificateMac: `${OTHER},${MAC}`,
    });
    assert.deepEqual(certificateAuditFields('recorded', { kind: 'untrusted', error: 'CERT_HAS_EXPIRED' }), {
      certificate: 'untrusted',
      certificateError: 'CERT_HAS_EXPIRED',
    });
    assert.deepEqual(certificateAuditFields('recorded', { kind: 'none' }), { certificate: 'none' });
    assert.deepEqual(certificateAuditFields('off', { kind: 'mismatch', macs: [OTHER] }), {});
  });
});

describe('provisioning TLS settings', () => {
  it('need certificate and key together, and something to listen', () => {
    assert.throws(() => loadConfig({ PROVISIONING_TLS_CERT: 'c.pem' }), /PROVISIONING_TLS_CERT: needs both/);
    assert.throws(
      () => loadConfig({ PROVISIONING_DEVICE_CA: 'ca.pem' }),
      /PROVISIONING_DEVICE_CA: needs both/,
    );
    assert.throws(() => loadConfig({ PROVISIONING_TLS_PORT: '8443' }), /PROVISIONING_TLS_PORT: needs both/);
    assert.throws(() => loadConfig({ PROVISIONING_HTTP: '0' }), /PROVISIONING_HTTP: 0 needs/);
    assert.throws(() => loadConfig({ PROVISIONING_HTTP: 'no' }), /PROVISIONING_HTTP: expected 0 or 1/);
    const plainOnly = loadConfig({});
    assert.equal(plainOnly.provisioningTls, null);
    assert.equal(plainOnly.provisioningHttp, true);
    const c = loadConfig(
      { PROVISIONING_TLS_CERT: 'c.pem', PROVISIONING_TLS_KEY: 'k.pem', PROVISIONING_HTTP: '0' },
      '/etc/papgate',
    );
    assert.deepEqual(c.provisioningTls, {
      port: 8443,
      certFile: '/etc/papgate/c.pem',
      keyFile: '/etc/papgate/k.pem',
      deviceCaFile: null,
    });
    assert.equal(c.provisioningBaseUrl, 'https://127.0.0.1:8443', 'phones are sent to the HTTPS listener');
  });
});

describe('provisioning over HTTPS with device certificates', () => {
  const dir = pkiDir();
  const serverCa = new TestCa(dir, 'server-ca');
  const vendorCa = new TestCa(dir, 'vendor-ca');
  const strangerCa = new TestCa(dir, 'stranger-ca');
  const serverA = serverCa.issue('/CN=papgate-a', { san: 'IP:127.0.0.1' });
  const serverB = serverCa.issue('/CN=papgate-b', { san: 'IP:127.0.0.1' });
  const certFile = path.join(dir, 'server.pem');
  const keyFile = path.join(dir, 'server.key');
  const deviceCaFile = path.join(dir, 'devices.pem');
  const useServer = (c: { cert: string; key: string }) => {
    fs.writeFileSync(certFile, c.cert);
    fs.writeFileSync(keyFile, c.key);
  };
  useServer(serverA);
  fs.writeFileSync(deviceCaFile, vendorCa.pem);
  const day = 86_400_000;
  const phones = {
    right: vendorCa.issue(`/CN=${MAC.toUpperCase()}/O=Test Vendor`),
    colons: vendorCa.issue('/CN=00:15:65:AA:BB:CC'),
    wrong: vendorCa.issue(`/CN=${OTHER}`),
    expired: vendorCa.issue(`/CN=${MAC}`, {
      validFrom: new Date(Date.now() - 60 * day),
      validTo: new Date(Date.now() - 30 * day),
    }),
    stranger: strangerCa.issue(`/CN=${MAC}`),
    generic: vendorCa.issue('/CN=Test Vendor generic device'),
  };
  const env = {
    PROVISIONING_TLS_CERT: certFile,
    PROVISIONING_TLS_KEY: keyFile,
    PROVISIONING_DEVICE_CA: deviceCaFile,
  };
  const f = new ProvisioningFixture(env);
  let secure: FastifyInstance;
  let tlsPort = 0;

  before(async () => {
    await f.start();
    secure = createProvisioningServer({
      config: f.config,
      store: f.store,
      log: silentLog,
      now: () => f.clock,
      tls: f.config.provisioningTls!,
    });
    await secure.listen({ host: '127.0.0.1', port: 0 });
    tlsPort = (secure.server.address() as AddressInfo).port;
  });
  after(async () => {
    await secure.close();
    await f.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await f.redis.flush();
    f.clock = Date.now();
    await f.device('yealink', 'T54W', MAC);
  });

  const policy = (deviceCertificate: string) =>
    f.store.putTenant(
      'acme',
      { name: 'acme', language: null, deviceCertificate: deviceCertificate as never },
      'test',
    );
  const fetchAs = (client?: { cert: string; key: string }, headers?: Record<string, string>) =>
    tlsRequest(tlsPort, `/${MAC}.cfg`, { ca: serverCa.pem, from: '127.0.0.2', client, headers });
  const lastEvent = async () =>
    (await f.store.events('acme', 50, undefined, 'traffic')).find(
      (e) => e.type === 'provisioning' && e.mac === MAC,
    )!;

  type Case = { client?: { cert: string; key: string }; certificate: string; error?: string };
  const cases: Record<string, Case> = {
    'a valid certificate naming the MAC': { client: phones.right, certificate: 'verified' },
    'a certificate naming another MAC': { client: phones.wrong, certificate: 'mismatch' },
    'an expired certificate': { client: phones.expired, certificate: 'untrusted', error: 'CERT_HAS_EXPIRED' },
    'a certificate of an unknown CA': { client: phones.stranger, certificate: 'untrusted' },
    'no certificate': { certificate: 'none' },
  };

  for (const p of ['required', 'recorded'] as const)
    for (const [name, c] of Object.entries(cases))
      it(`${p}: ${name}`, async () => {
        await policy(p);
        const res = await fetchAs(c.client);
        const ev = await lastEvent();
        assert.equal(ev.certificate, c.certificate);
        if (c.error) assert.equal(ev.certificateError, c.error);
        if (c.certificate === 'untrusted') assert.ok(ev.certificateError, 'the TLS verdict is recorded');
        if (c.certificate === 'verified') assert.equal(ev.certificateMac, MAC);
        if (c.certificate === 'mismatch') {
          assert.equal(res.status, 403);
          assert.equal(ev.outcome, 'refused');
          assert.equal(ev.reason, 'device_certificate_mismatch');
          assert.equal(ev.certificateMac, OTHER);
        } else if (p === 'required' && c.certificate !== 'verified') {
          assert.equal(res.status, 403);
          assert.equal(ev.outcome, 'refused');
          assert.equal(ev.reason, 'device_certificate_required');
        } else {
          // Let through, and still minimal: a certificate is no PAP.
          assert.equal(res.status, 200);
          assert.match(res.body, /Dial \*89 to authenticate/);
          assert.equal(credentialIn(res.body), null);
          assert.equal(ev.outcome, 'minimal');
        }
        assert.equal((await f.store.findDevice(MAC))!.state, 'needed');
      });

  it('a flood of wrong credentials from the network hides no certificate naming another device (log, traffic, metric)', async () => {
    // The drill: 21 wrong-credential GETs over HTTPS, then another device's certificate for this MAC.
    const logs = capturedLog();
    const metrics = new Metrics();
    const watched = createProvisioningServer({
      config: f.config,
      store: f.store,
      log: logs.log,
      now: () => f.clock,
      tls: f.config.provisioningTls!,
      metrics,
    });
    await watched.listen({ host: '127.0.0.1', port: 0 });
    const port = (watched.server.address() as AddressInfo).port;
    try {
      for (let i = 0; i < 21; i++) {
        const res = await tlsRequest(port, `/d/${'f'.repeat(32)}/${MAC}.cfg`, {
          ca: serverCa.pem,
          from: '127.0.0.2',
        });
        assert.equal(res.status, 403);
      }
      const mismatch = await tlsRequest(port, `/${MAC}.cfg`, {
        ca: serverCa.pem,
        from: '127.0.0.3',
        client: phones.wrong,
      });
      assert.equal(mismatch.status, 403);
      const refused = logs.lines.filter((l) => l.msg === 'provisioning refused');
      assert.equal(refused.filter((l) => l.reason === 'wrong_credential').length, 20);
      assert.deepEqual(
        refused
          .filter((l) => l.reason === 'device_certificate_mismatch')
          .map((l) => [l.mac, l.certificateMac]),
        [[MAC, OTHER]],
        'the mismatch is logged',
      );
      const traffic = await f.store.events('acme', 100, undefined, 'traffic');
      assert.ok(
        traffic.some((e) => e.type === 'traffic_limited'),
        'the wrong credentials used up the share',
      );
      assert.deepEqual(
        traffic
          .filter((e) => e.reason === 'device_certificate_mismatch')
          .map((e) => [e.type, e.certificateMac]),
        [['provisioning', OTHER]],
        'the mismatch is in the traffic',
      );
      const text = await metrics.registry.metrics();
      assert.match(
        text,
        /papgate_provisioning_replies_total\{vendor="yealink",decision="none",status="403",reason="device_certificate_mismatch"\} 1\n/,
      );
      assert.match(
        text,
        /papgate_provisioning_replies_total\{vendor="yealink",decision="none",status="403",reason="wrong_credential"\} 21\n/,
      );
    } finally {
      await watched.close();
    }
  });

  it('accepts the MAC in another notation; a vendor generic certificate names none', async () => {
    await policy('required');
    assert.equal((await fetchAs(phones.colons)).status, 200);
    assert.equal((await lastEvent()).certificate, 'verified');
    assert.equal((await fetchAs(phones.generic)).status, 403);
    assert.equal((await lastEvent()).certificate, 'no_mac');
  });

  it('a verified certificate with a User-Agent naming another MAC gets 403', async () => {
    await policy('recorded');
    const res = await fetchAs(phones.right, {
      'user-agent': 'Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cd',
    });
    assert.equal(res.status, 403);
    const ev = await lastEvent();
    assert.equal(ev.outcome, 'refused');
    assert.equal(ev.certificate, 'mismatch');
  });

  it('never replaces the PAP, and does not stand in the way of a bypass it verifies', async () => {
    await policy('required');
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.2'), 'test');
    // Whitelisted, but no certificate: refused.
    assert.equal((await fetchAs()).status, 403);
    assert.equal((await f.store.findDevice(MAC))!.state, 'needed');
    // Whitelisted with the phone's certificate: full, and the audit says which certificate.
    const full = await fetchAs(phones.right);
    assert.equal(full.status, 200);
    assert.ok(credentialIn(full.body));
    const ev = await lastEvent();
    assert.equal(ev.outcome, 'full');
    assert.equal(ev.certificate, 'verified');
  });

  it('"required" refuses plain HTTP; "off" ignores certificates and records nothing', async () => {
    await policy('required');
    const plain = await request(f.port, `/${MAC}.cfg`, { from: '127.0.0.2', headers: { 'user-agent': UA } });
    assert.equal(plain.status, 403);
    assert.equal((await lastEvent()).reason, 'device_certificate_required');
    await policy('off');
    const wrong = await fetchAs(phones.wrong);
    assert.equal(wrong.status, 200);
    const ev = await lastEvent();
    assert.equal(ev.outcome, 'minimal');
    assert.equal(ev.certificate, undefined);
  });

  it('a tenant PUT without the field keeps the policy', async () => {
    await policy('required');
    await f.store.putTenant('acme', { name: 'Acme', language: 'de', timeZone: null }, 'test');
    assert.equal((await f.store.getTenant('acme'))!.deviceCertificate, 'required');
  });

  it('reloads the server certificate in place; a bad file keeps the old one', async () => {
    assert.equal((await fetchAs(phones.right)).serverName, 'papgate-a');
    useServer(serverB);
    reloadTls(secure, f.config.provisioningTls!);
    const after = await fetchAs(phones.right);
    assert.equal(after.serverName, 'papgate-b', 'same listener, new certificate');
    assert.equal((await lastEvent()).certificate, 'verified', 'client certificates still asked for');

    fs.writeFileSync(keyFile, serverA.key); // key of another certificate
    assert.throws(() => reloadTls(secure, f.config.provisioningTls!), TlsFileError);
    fs.writeFileSync(deviceCaFile, phones.right.cert); // a leaf, not a CA
    assert.throws(() => reloadTls(secure, f.config.provisioningTls!), /PROVISIONING_DEVICE_CA.*not a CA/);
    assert.equal((await fetchAs()).serverName, 'papgate-b');
    useServer(serverA);
    fs.writeFileSync(deviceCaFile, vendorCa.pem);
    reloadTls(secure, f.config.provisioningTls!);
  });

  describe('tenant policy through the admin API', () => {
    let admin: FastifyInstance;
    let adminPort = 0;
    const TOKEN = 'admin-token-0123456789';
    before(async () => {
      admin = createAdminServer({ config: f.config, store: f.store, log: silentLog, adminToken: TOKEN });
      await admin.listen({ host: '127.0.0.1', port: 0 });
      adminPort = (admin.server.address() as AddressInfo).port;
    });
    after(() => admin.close());
    const put = (port: number, body: unknown) =>
      request(port, '/api/v1/tenants/acme', {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => ({ ...r, json: JSON.parse(r.body) as Record<string, unknown> }));

    it('sets, keeps and validates deviceCertificate', async () => {
      assert.equal((await f.store.getTenant('acme'))!.deviceCertificate, 'recorded', 'the default');
      const bad = await put(adminPort, { deviceCertificate: 'always' });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.field, 'deviceCertificate');
      const ok = await put(adminPort, { deviceCertificate: 'required' });
      assert.equal(ok.status, 200);
      assert.equal(ok.json.deviceCertificate, 'required');
      const kept = await put(adminPort, { name: 'Acme' });
      assert.equal(kept.json.deviceCertificate, 'required', 'omitted: unchanged');
    });

    it('refuses "required" where no PROVISIONING_DEVICE_CA is configured', async () => {
      const noCa = createAdminServer({
        config: loadConfig({ PROVISIONING_TLS_CERT: certFile, PROVISIONING_TLS_KEY: keyFile }),
        store: f.store,
        log: silentLog,
        adminToken: TOKEN,
      });
      await noCa.listen({ host: '127.0.0.1', port: 0 });
      try {
        const res = await put((noCa.server.address() as AddressInfo).port, { deviceCertificate: 'required' });
        assert.equal(res.status, 400);
        assert.match(String(res.json.message), /PROVISIONING_DEVICE_CA/);
      } finally {
        await noCa.close();
      }
    });
  });

  describe('main: HTTPS next to or instead of HTTP, reloaded on SIGHUP', () => {
    let dataDir = '';
    beforeEach(() => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-tls-main-'));
      useServer(serverA);
      fs.writeFileSync(deviceCaFile, vendorCa.pem);
    });
    afterEach(() => {
      killServices();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('serves HTTPS only with PROVISIONING_HTTP=0 and takes a new certificate on SIGHUP', async () => {
      const [adminPort, provPort, tlsPortMain] = [await freePort(), await freePort(), await freePort()];
      const s = startService({
        ...env,
        DATA_DIR: dataDir,
        ADMIN_PORT: String(adminPort),
        PROVISIONING_PORT: String(provPort),
        PROVISIONING_HTTP: '0',
        PROVISIONING_TLS_PORT: String(tlsPortMain),
        PROVISIONING_HOST: '127.0.0.1',
      });
      await until('HTTPS listening', () =>
        s.lines().find((l) => l.msg === 'provisioning HTTPS server listening'),
      );
      assert.ok(!s.lines().some((l) => l.msg === 'provisioning server listening'), 'no plain HTTP listener');
      await storeReady(adminPort);
      const get = () => tlsRequest(tlsPortMain, `/${MAC}.cfg`, { ca: serverCa.pem, client: phones.right });
      const first = await get();
      assert.equal(first.status, 404, 'unknown MAC on this fresh service');
      assert.equal(first.serverName, 'papgate-a');
      useServer(serverB);
      s.child.kill('SIGHUP');
      await until('reloaded', () => s.lines().find((l) => l.msg === 'provisioning TLS files reloaded'));
      assert.equal((await get()).serverName, 'papgate-b');
      s.child.kill('SIGTERM');
      assert.equal(await exited(s.child), 0);
    });

    it('does not start with a key that does not fit the certificate', async () => {
      fs.writeFileSync(keyFile, serverB.key);
      const s = startService({
        ...env,
        DATA_DIR: dataDir,
        ADMIN_PORT: String(await freePort()),
        PROVISIONING_PORT: String(await freePort()),
        PROVISIONING_TLS_PORT: String(await freePort()),
      });
      assert.equal(await exited(s.child), 1);
      assert.ok(
        s.lines().some((l) => l.msg === 'start-up failed' && /PROVISIONING_TLS_CERT/.test(String(l.err))),
      );
    });
  });
});
