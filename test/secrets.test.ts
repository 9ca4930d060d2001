/**
 * The committed configuration holds no usable secret for the SIP side. It used to carry FreeSWITCH's
 * `ClueCon` and drachtio's `cymru`, with which any local process could read the PAPs as they were
 * typed into the IVR. test/e2e/secrets.ts shows the real servers refusing them; this checks the
 * files themselves, and runs the shell command FreeSWITCH's configuration draws its password with.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { PROJECT_ROOT } from '../src/lib/paths';

const read = (p: string) => fs.readFileSync(path.join(PROJECT_ROOT, p), 'utf8');
const withoutXmlComments = (s: string) => s.replace(/<!--[\s\S]*?-->/g, '');
const WELL_KNOWN = /ClueCon|cymru/i;

/** `data` of the X-PRE-PROCESS lines of vars.xml that set `name`, with their command. */
function preProcess(name: string): { cmd: string; value: string }[] {
  return [
    ...withoutXmlComments(read('config/freeswitch/vars.xml')).matchAll(
      /<X-PRE-PROCESS cmd="([^"]+)" data="([^"]*)"\/>/g,
    ),
  ]
    .filter((m) => m[2]!.startsWith(`${name}=`))
    .map((m) => ({ cmd: m[1]!, value: m[2]!.slice(name.length + 1) }));
}

/** Every file of a folder, recursively. */
function files(dir: string): string[] {
  return fs
    .readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

describe('committed configuration: no default secret for the SIP side', () => {
  it('FreeSWITCH: the event socket password is FREESWITCH_SECRET from the environment, or random; loopback only', () => {
    const esl = withoutXmlComments(read('config/freeswitch/autoload_configs/event_socket.conf.xml'));
    const param = (n: string) => new RegExp(`<param name="${n}" value="([^"]*)"/>`).exec(esl)?.[1];
    assert.equal(param('password'), '$${event_socket_password}');
    assert.equal(param('listen-ip'), '$${event_socket_ip}');
    assert.equal(param('apply-inbound-acl'), '$${event_socket_acl}');
    assert.deepEqual(preProcess('event_socket_ip'), [{ cmd: 'set', value: '127.0.0.1' }]);
    assert.deepEqual(preProcess('event_socket_acl'), [{ cmd: 'set', value: 'loopback.auto' }]);
    const password = preProcess('event_socket_password');
    assert.equal(password.length, 1, 'set once, and only here');
    assert.equal(password[0]!.cmd, 'exec-set');
    // The command as FreeSWITCH runs it (popen, /bin/sh), XML entities aside (the preprocessor
    // hands the raw text to the shell).
    const run = (env: Record<string, string>) =>
      execFileSync('/bin/sh', ['-c', password[0]!.value], {
        env: { PATH: process.env.PATH, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
        .toString()
        .replace(/[ \n]+$/, '');
    assert.equal(run({ FREESWITCH_SECRET: 'the-operators-secret-0123' }), 'the-operators-secret-0123');
    const drawn = [run({}), run({}), run({ FREESWITCH_SECRET: '' })];
    for (const d of drawn) assert.match(d, /^[0-9a-f]{48}$/, 'unset or empty: 192 random bits');
    assert.equal(new Set(drawn).size, 3);
    // No other file of the tree sets a password or names a well-known one.
    for (const f of files('config/freeswitch').filter((x) => x.endsWith('.xml'))) {
      const xml = withoutXmlComments(read(f));
      assert.doesNotMatch(xml, WELL_KNOWN, f);
      for (const m of xml.matchAll(/name="password" value="([^"]*)"/g))
        assert.equal(m[1], '$${event_socket_password}', f);
    }
  });

  it('drachtio-server: the committed admin secret is one no client can present (drachtio splits messages on "|")', () => {
    const xml = withoutXmlComments(read('config/drachtio/drachtio.conf.xml'));
    const admin = /<admin ([^>]*)>([^<]*)<\/admin>/.exec(xml);
    assert.ok(admin, 'an <admin> element');
    const secret = /secret="([^"]*)"/.exec(admin[1]!)?.[1];
    // Without the attribute drachtio-server would take "admin".
    assert.ok(secret !== undefined && secret.includes('|'), `secret="${secret}"`);
    assert.equal(admin[2], '127.0.0.1', 'the admin socket listens on loopback');
    assert.doesNotMatch(xml, WELL_KNOWN);
  });

  it('docker-compose requires both secrets from the environment and puts none on a command line', () => {
    const compose = parseYaml(read('docker-compose.yml')) as {
      services: Record<string, { command?: string | string[]; environment?: Record<string, string> }>;
    };
    const required = (name: string) => new RegExp(`^\\$\\{${name}:\\?[^}]+\\}$`);
    const seen: string[] = [];
    for (const [service, s] of Object.entries(compose.services)) {
      assert.doesNotMatch([s.command ?? ''].flat().join(' '), /--secret|ClueCon|cymru/i, service);
      for (const [k, v] of Object.entries(s.environment ?? {}))
        if (/SECRET/.test(k)) {
          assert.match(String(v), required(k), `${service}: ${k}`);
          seen.push(`${service}:${k}`);
        }
    }
    assert.deepEqual(seen.sort(), [
      'drachtio:DRACHTIO_SECRET',
      'freeswitch:FREESWITCH_SECRET',
      'papgate:DRACHTIO_SECRET',
      'papgate:FREESWITCH_SECRET',
    ]);
  });

  it('no well-known secret is left in the scripts, the test harness or the benchmark defaults', () => {
    for (const f of [
      'test/e2e/servers.sh',
      'test/e2e/run.sh',
      'test/e2e/harness.ts',
      'bench/calls.ts',
      'bench/calls-bare.ts',
      'Dockerfile',
    ])
      assert.doesNotMatch(read(f), /'(ClueCon|cymru)'|=(ClueCon|cymru)\b|secret="(ClueCon|cymru)"/i, f);
  });
});
