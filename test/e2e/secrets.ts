/**
 * No usable default secret on the SIP side. The committed configuration used to carry FreeSWITCH's
 * `ClueCon` and drachtio's `cymru`: any local process could log into the event socket and read the
 * PAPs as they were typed, or drive the calls. Now the servers get their secrets from their
 * environment (test/e2e/servers.sh draws them per run). Against the real servers run.sh started:
 * the well-known secrets are refused and the run's are taken; and a server started from the same
 * configuration without its secret lets nobody in (FreeSWITCH would fall back to `ClueCon` on an
 * empty password, drachtio to `admin` without a secret attribute).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import Srf from 'drachtio-srf';
import { DRACHTIO, DRACHTIO2, FREESWITCH, FREESWITCH2, servers, serversRun, until } from './harness';

/** The event socket's answer to `auth <password>`: its Reply-Text (`+OK accepted`, `-ERR invalid`). */
function eslAuth(port: number, password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    let sent = false;
    const timer = setTimeout(() => done(new Error(`no answer from the event socket on ${port}`)), 5000);
    const done = (err: Error | null, reply?: string) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply!);
    };
    sock.on('error', (err) => done(err));
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      if (!sent && buf.includes('Content-Type: auth/request')) {
        sent = true;
        sock.write(`auth ${password}\n\n`);
      }
      const m = /Reply-Text: (.*)\n/.exec(buf);
      if (m) done(null, m[1]!.trim());
    });
  });
}

/** Whether drachtio-server on `port` takes `secret` (drachtio-srf's own authenticate exchange). */
function drachtioTakes(port: number, secret: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srf = new Srf();
    srf.on('error', () => undefined);
    srf.once('connect', (err: Error | null) => {
      srf.disconnect();
      resolve(err === null || err === undefined);
    });
    srf.connect({ host: DRACHTIO.host, port, secret });
  });
}

/** The permission bits of a file or folder, in octal. */
const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);

const WELL_KNOWN_ESL = ['ClueCon', '', 'admin'];
const WELL_KNOWN_DRACHTIO = ['cymru', 'admin', '|DRACHTIO_SECRET not set|', 'DRACHTIO_SECRET not set'];

describe('e2e: the SIP servers take no default secret', function () {
  this.timeout(120000);

  before(function () {
    if (!serversRun()) {
      console.log('e2e: SKIPPED (needs the servers test/e2e/run.sh starts)');
      this.skip();
    }
  });

  after(async () => {
    if (!serversRun()) return;
    await servers('stop', 'freeswitch2');
    await servers('stop', 'drachtio2');
  });

  it("FreeSWITCH, started from the committed configuration, refuses ClueCon and takes only the run's secret", async () => {
    for (const p of WELL_KNOWN_ESL) assert.equal(await eslAuth(FREESWITCH.port, p), '-ERR invalid', `"${p}"`);
    assert.equal(await eslAuth(FREESWITCH.port, FREESWITCH.secret), '+OK accepted');
  });

  it("FreeSWITCH's expanded configuration, which holds the event socket's password, and the run's secrets are its user's alone", () => {
    const run = serversRun()!;
    const log = path.join(run, 'freeswitch.d', 'log');
    const fsxml = path.join(log, 'freeswitch.xml.fsxml');
    assert.ok(fs.readFileSync(fsxml, 'utf8').includes(FREESWITCH.secret), 'the file holds the password');
    assert.equal(mode(log), '700');
    for (const f of fs.readdirSync(log)) assert.equal(mode(path.join(log, f)), '600', f);
    assert.equal(mode(run), '700');
    assert.equal(mode(path.join(run, 'env')), '600');
    if (process.getuid?.() === 0) {
      // as root, the tests can be another local user: nobody
      for (const f of [fsxml, path.join(run, 'env')]) {
        const other = spawnSync('cat', [f], { uid: 65534, gid: 65534, cwd: '/', encoding: 'utf8' });
        assert.match(other.stderr, /Permission denied/, f);
        assert.ok(!other.stdout.includes(FREESWITCH.secret), f);
      }
    }
  });

  it("drachtio-server refuses cymru and admin and takes only the run's secret", async () => {
    for (const s of WELL_KNOWN_DRACHTIO) assert.equal(await drachtioTakes(DRACHTIO.port, s), false, s);
    assert.equal(await drachtioTakes(DRACHTIO.port, DRACHTIO.secret), true);
  });

  it('FreeSWITCH started without FREESWITCH_SECRET locks its event socket, says so, and never falls back to ClueCon', async () => {
    await servers('start', 'freeswitch2', { withoutSecret: true });
    for (const p of [...WELL_KNOWN_ESL, FREESWITCH.secret])
      assert.equal(await eslAuth(FREESWITCH2.port, p), '-ERR invalid', `"${p}"`);
    const log = path.join(serversRun()!, 'freeswitch2.log');
    await until(
      'the locked event socket in the log',
      async () => fs.readFileSync(log, 'utf8').includes('FREESWITCH_SECRET is not set: event socket locked'),
      5000,
    );
    await servers('stop', 'freeswitch2');
  });

  it('drachtio-server started without DRACHTIO_SECRET lets no one in: its placeholder cannot be sent', async () => {
    await servers('start', 'drachtio2', { withoutSecret: true });
    for (const s of [...WELL_KNOWN_DRACHTIO, DRACHTIO.secret])
      assert.equal(await drachtioTakes(DRACHTIO2.port, s), false, s);
    await servers('stop', 'drachtio2');
  });
});
