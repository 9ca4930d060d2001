/**
 * One source for the configuration: docs/configuration.md is made from the declarations in
 * src/config/variables.ts, which loadConfig reads every variable through.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { PAGE, renderConfigurationPage } from '../src/config/page';
import { SECTIONS } from '../src/config/kinds';
import { VARIABLES } from '../src/config/variables';
import { ConfigError, configWarnings, loadConfig, unknownVariables } from '../src/config';
import { PROJECT_ROOT } from '../src/lib/paths';
import { pkiDir, TestCa } from './support/pki';

/** Variables read only by a later variable's rule (FREESWITCH_HOSTS), with a value to set. */
const FOLDED: Readonly<Record<string, string>> = { FREESWITCH_HOST: '127.0.0.9', FREESWITCH_PORT: '8022' };

/** The variables `toConfig` in src/config.ts reads (`v.NAME`), found in its syntax tree. */
function readByToConfig(): Set<string> {
  const file = path.join(PROJECT_ROOT, 'src', 'config.ts');
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const fn = source.statements.find(
    (s): s is ts.FunctionDeclaration => ts.isFunctionDeclaration(s) && s.name?.text === 'toConfig',
  );
  assert.ok(fn?.body, 'toConfig in src/config.ts');
  const param = fn.parameters[0]!.name.getText(source);
  const names = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === param)
      names.add(n.name.text);
    ts.forEachChild(n, visit);
  };
  visit(fn.body);
  return names;
}

describe('configuration: declared once, documented from the declarations', () => {
  it('docs/configuration.md is what the declarations make (else run npm run docs:config)', () => {
    assert.equal(fs.readFileSync(PAGE, 'utf8'), renderConfigurationPage());
  });

  it('every declared variable is read into the Config (toConfig in src/config.ts)', () => {
    const read = readByToConfig();
    const unmapped = Object.keys(VARIABLES).filter((name) => !read.has(name) && !(name in FOLDED));
    assert.deepEqual(unmapped, [], 'declared in src/config/variables.ts but never handed to the parts');
    // A variable a later one's rule folds in reaches the Config through that one: setting it shows.
    for (const [name, value] of Object.entries(FOLDED)) {
      assert.ok(!read.has(name), `${name} is read by toConfig: drop it from FOLDED`);
      assert.notDeepEqual(loadConfig({ [name]: value }), loadConfig({}), `${name}=${value} changes nothing`);
    }
  });

  it('each variable has a section, the values it takes, a default and one line of meaning', () => {
    for (const [name, v] of Object.entries(VARIABLES)) {
      assert.match(name, /^[A-Z][A-Z0-9_]*$/);
      assert.ok(v.section in SECTIONS, name);
      for (const field of [v.accepts, v.shown, v.meaning]) assert.match(field, /^[^\n]+$/, name);
    }
  });
});

describe('configuration: an error says what to change', () => {
  /** The message loadConfig stops with on `env`. */
  const error = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    assert.fail(`${JSON.stringify(env)} was accepted`);
  };

  it("a variable that looks like papgate's but is none is named, with the declared ones of its group", () => {
    const warnings = unknownVariables({
      SIP_OVERLOAD_BEHIND_M: '100',
      IVR_MAXCALLS: '10',
      SIP_OVERLOAD_BEHIND_MS: '100',
      HTTP_PROXY: 'http://proxy.example:3128',
      DRACHTIO_TLS_CERT_FILE: '/etc/drachtio/cert.pem',
      REDIS_PASSWORD: 'x',
      PAPGATE_NODE_SOURCE: 'project',
    });
    assert.deepEqual(warnings, [
      'IVR_MAXCALLS is not a papgate variable and is ignored; declared ones beginning IVR_: ' +
        `${Object.keys(VARIABLES)
          .filter((n) => n.startsWith('IVR_'))
          .join(', ')} (docs/configuration.md)`,
      'SIP_OVERLOAD_BEHIND_M is not a papgate variable and is ignored; declared ones beginning SIP_OVERLOAD_: ' +
        'SIP_OVERLOAD_BEHIND_MS, SIP_OVERLOAD_FAR_BEHIND_MS, SIP_OVERLOAD_RETRY_AFTER_SECONDS (docs/configuration.md)',
    ]);
    assert.deepEqual(unknownVariables(Object.fromEntries(Object.keys(VARIABLES).map((n) => [n, 'x']))), []);
  });

  it('SIP_REQUIRE_TLS needs SIP_TLS_REGISTRAR, and is warned about for the phones that cannot ask for TLS; SIP_TLS_CA_FILE holds CAs only', () => {
    const sip = {
      DRACHTIO_HOST: '127.0.0.1',
      DRACHTIO_SECRET: 'd'.repeat(24),
      FREESWITCH_SECRET: 'f'.repeat(24),
      EMERGENCY_ROUTE: 'sip:127.0.0.1:5070',
    };
    assert.deepEqual(configWarnings(loadConfig(sip)), []);
    assert.throws(
      () => loadConfig({ ...sip, SIP_REQUIRE_TLS: '1' }),
      (e: Error) => e instanceof ConfigError && /^SIP_REQUIRE_TLS: needs SIP_TLS_REGISTRAR/.test(e.message),
    );
    // the SIP side with TLS only on the operator's word that the emergency routes answer SDES
    assert.throws(
      () => loadConfig({ ...sip, SIP_TLS_REGISTRAR: 'sip.example.net' }),
      /SIP_TLS_EMERGENCY_SRTP: must be 1 with SIP_TLS_REGISTRAR, once the emergency routes answer SDES SRTP/,
    );
    // a process without the SIP side too: it hands out the files (final attacker look, C1)
    assert.throws(
      () => loadConfig({ ...sip, DRACHTIO_HOST: '', SIP_TLS_REGISTRAR: 'sip.example.net' }),
      /SIP_TLS_EMERGENCY_SRTP: must be 1 with SIP_TLS_REGISTRAR/,
    );
    const tls = { ...sip, SIP_TLS_REGISTRAR: 'sip.example.net', SIP_TLS_EMERGENCY_SRTP: '1' };
    assert.deepEqual(loadConfig(tls).sip.tls, { registrar: 'sip.example.net', ca: null });
    const [warning, ...rest] = configWarnings(loadConfig({ ...tls, SIP_REQUIRE_TLS: '1' }));
    assert.match(
      warning!,
      /^SIP_REQUIRE_TLS is set: the phones whose minimal configuration does not ask for TLS and SRTP \(Cisco\/Linksys/,
    );
    assert.deepEqual(rest, []);
    // an address where the phones check a name
    for (const registrar of ['192.0.2.10', '192.0.2.10:5061', '[2001:db8::10]:5061', '2001:db8::10'])
      assert.match(
        configWarnings(loadConfig({ ...tls, SIP_TLS_REGISTRAR: registrar }))[0]!,
        /^SIP_TLS_REGISTRAR names an address \((192\.0\.2\.10|2001:db8::10)\)/,
        registrar,
      );
    assert.throws(
      () => loadConfig({ ...sip, SIP_TLS_REGISTRAR: 'sip.example.net/x' }),
      /SIP_TLS_REGISTRAR: expected host\[:port\]/,
    );
    // what the phones' files could not take, for either registrar (final-commit look, #8: these
    // passed and a file named host `192.0.2.1:abc`)
    for (const bad of [
      '192.0.2.1:abc',
      ':5061',
      '[]:5061',
      '[::1]junk',
      '[::1]:',
      '192.0.2.1:',
      '192.0.2.1:5061:1',
      '[sip.example.net]:5061',
      '10.0.0',
      'host:0',
      'host:65536',
    ])
      for (const name of ['SIP_TLS_REGISTRAR', 'SIP_REGISTRAR'])
        assert.throws(
          () => loadConfig({ ...tls, [name]: bad }),
          new RegExp(`${name}: expected host\\[:port\\], got`),
          `${name}=${bad}`,
        );
    for (const good of [
      'sip.example.net',
      'SIP.Example.NET:5061',
      '192.0.2.1',
      '[2001:db8::1]:5061',
      '2001:db8::1',
    ])
      assert.equal(loadConfig({ ...tls, SIP_TLS_REGISTRAR: good }).sip.tls!.registrar, good);
    const dir = pkiDir();
    const ca = new TestCa(dir, 'sip-ca');
    assert.throws(
      () => loadConfig({ ...sip, SIP_TLS_CA_FILE: ca.file }),
      /SIP_TLS_CA_FILE: needs SIP_TLS_REGISTRAR/,
    );
    const withCa = loadConfig({ ...tls, SIP_TLS_CA_FILE: ca.file });
    assert.equal(withCa.sip.tls!.ca, ca.pem.trim() + '\n');
    assert.match(
      configWarnings(withCa)[0]!,
      /^SIP_TLS_CA_FILE is set: only Yealink phones are given that CA/,
    );
    // a leaf is no CA; a missing file and a file without a certificate say so
    const leaf = ca.issue('/CN=sip.example.net');
    assert.throws(
      () => loadConfig({ ...tls, SIP_TLS_CA_FILE: leaf.certFile }),
      /SIP_TLS_CA_FILE: .*"CN=sip\.example\.net" is not a CA/,
    );
    assert.throws(
      () => loadConfig({ ...tls, SIP_TLS_CA_FILE: `${dir}/none.pem` }),
      /SIP_TLS_CA_FILE: .*ENOENT/,
    );
    assert.throws(
      () => loadConfig({ ...tls, SIP_TLS_CA_FILE: leaf.keyFile }),
      /SIP_TLS_CA_FILE: .*no PEM certificate/,
    );
  });

  it('a tied bound names both values, and says so when the one at fault is a default', () => {
    assert.equal(
      error({ SIP_OVERLOAD_BEHIND_MS: '500' }),
      'SIP_OVERLOAD_FAR_BEHIND_MS: must be at least SIP_OVERLOAD_BEHIND_MS (500); it is 400 (default): set it too',
    );
    assert.equal(
      error({ SIP_OVERLOAD_BEHIND_MS: '500', SIP_OVERLOAD_FAR_BEHIND_MS: '300' }),
      'SIP_OVERLOAD_FAR_BEHIND_MS: must be at least SIP_OVERLOAD_BEHIND_MS (500); it is 300',
    );
    assert.equal(
      loadConfig({ SIP_OVERLOAD_BEHIND_MS: '500', SIP_OVERLOAD_FAR_BEHIND_MS: '500' }).sip
        .overloadFarBehindMs,
      500,
    );
  });

  it('a whole number that is not one, or out of range, gets the range', () => {
    assert.equal(
      error({ PROVISIONING_PORT: '-1' }),
      'PROVISIONING_PORT: expected a whole number from 0 to 65535, got "-1"',
    );
    assert.equal(
      error({ SIP_OVERLOAD_BEHIND_MS: '2' }),
      'SIP_OVERLOAD_BEHIND_MS: must be between 5 and 10000, got 2',
    );
  });
});
