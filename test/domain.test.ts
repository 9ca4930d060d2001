import assert from 'node:assert/strict';
import { parseMac } from '../src/domain/mac';
import {
  generatePap,
  isPapFormat,
  generateDeviceCredential,
  hashCredential,
  credentialMatches,
  generateSipPassword,
  restrictedSipPassword,
} from '../src/domain/pap';
import { parseWhitelistEntry, ipMatches, canonicalIp } from '../src/domain/whitelist';
import { parseNewDevice, parseTenantId } from '../src/domain/device';
import { isEmergencyNumber, DEFAULT_EMERGENCY_NUMBERS } from '../src/domain/emergency';
import { InputError } from '../src/domain/errors';
import { loadConfig, ConfigError } from '../src/config';

describe('domain: MAC', () => {
  it('accepts the three label notations and canonicalises to 12 lower-case hex digits', () => {
    for (const s of [
      '1a2b3c4d5e6f',
      '1a:2b:3c:4d:5e:6f',
      '1A-2B-3C-4D-5E-6F',
      '1A2B3C4D5E6F',
      ' 1a:2B:3c:4D:5e:6F ',
    ]) {
      assert.equal(parseMac(s), '1a2b3c4d5e6f', s);
    }
  });
  it('refuses anything else with an error naming the input', () => {
    for (const s of [
      '1a2b3c4d5e6',
      '1a2b3c4d5e6f0',
      '1a:2b-3c:4d:5e:6f',
      '1a2b.3c4d.5e6f',
      'gg2b3c4d5e6f',
      '1a:2b:3c:4d:5e',
      '',
      '1a::2b:3c:4d:5e:6f',
    ]) {
      assert.throws(
        () => parseMac(s),
        (e: unknown) => e instanceof InputError && /invalid MAC/.test(e.message),
        s,
      );
    }
    assert.throws(() => parseMac(undefined), /mac is required/);
    assert.throws(() => parseMac(123456789012), /mac is required/);
  });
});

describe('domain: PAP and credentials', () => {
  it('draws 6-digit PAPs, leading zeros included', () => {
    const paps = Array.from({ length: 20000 }, generatePap);
    assert.ok(paps.every(isPapFormat));
    assert.ok(
      paps.some((p) => p.startsWith('0')),
      'about 10% of PAPs start with 0',
    );
    assert.ok(new Set(paps).size > 19000, 'PAPs are not repeated beyond the birthday bound');
  });
  it('accepts only exactly six digits as PAP format', () => {
    for (const p of ['12345', '1234567', '12345a', ' 123456', 123456, null])
      assert.equal(isPapFormat(p), false, String(p));
    assert.equal(isPapFormat('000000'), true);
  });
  it('issues 128-bit credentials and keeps only a hash that matches', () => {
    const c = generateDeviceCredential();
    assert.match(c, /^[0-9a-f]{32}$/);
    assert.notEqual(c, generateDeviceCredential());
    const h = hashCredential(c);
    assert.ok(credentialMatches(c, h));
    assert.ok(!credentialMatches(generateDeviceCredential(), h));
    assert.ok(!credentialMatches(c, 'abcd'));
  });
  it('derives the restricted SIP password per device secret and canonical address, in the shape of a generated one', () => {
    const secret = generateSipPassword();
    const shape = /^[A-Za-z0-9_-]{16}$/;
    assert.match(secret, shape);
    const a = restrictedSipPassword(secret, '198.51.100.7', true);
    assert.match(a, shape);
    assert.equal(
      restrictedSipPassword(secret, '198.51.100.7', true),
      a,
      'no randomness: the registrar derives it again',
    );
    assert.equal(
      restrictedSipPassword(secret, '::ffff:198.51.100.7', true),
      a,
      'IPv4-mapped IPv6 is the same address',
    );
    assert.notEqual(restrictedSipPassword(secret, '198.51.100.8', true), a);
    assert.notEqual(restrictedSipPassword(generateSipPassword(), '198.51.100.7', true), a, 'per device');
    assert.equal(
      restrictedSipPassword(secret, '2001:DB8:0:0::1', true),
      restrictedSipPassword(secret, '2001:db8::1', true),
    );
    assert.notEqual(a, secret);
    // a fixed vector: HMAC-SHA256 (RFC 2104), not some other mixing of the two
    assert.equal(restrictedSipPassword('secret', '192.0.2.1', true), 'hO3ECCFnTRJZVNZU');
    assert.equal(restrictedSipPassword(secret, '198.51.100.7', false), secret, 'unbound: the secret itself');
    assert.throws(() => restrictedSipPassword(secret, 'not-an-ip', true), InputError);
  });
});

describe('domain: whitelist', () => {
  const entry = (s: string) => parseWhitelistEntry(s).text;
  it('canonicalises single addresses and ranges', () => {
    assert.equal(entry('198.51.100.7'), '198.51.100.7');
    assert.equal(entry('198.51.100.7/32'), '198.51.100.7');
    assert.equal(entry('198.51.100.0/24'), '198.51.100.0/24');
    assert.equal(entry('2001:DB8:0:0::1'), '2001:db8::1');
    assert.equal(entry('2001:db8::/32'), '2001:db8::/32');
    assert.equal(entry('2001:db8::1/128'), '2001:db8::1');
    assert.equal(entry('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(entry('::ffff:192.0.2.0/120'), '192.0.2.0/24');
  });
  it('refuses malformed entries, host bits and /0 with a clear message', () => {
    const bad: [string, RegExp][] = [
      ['198.51.100.0/33', /invalid CIDR/],
      ['198.51.100/24', /invalid CIDR/],
      ['256.1.1.1', /invalid IP/],
      ['198.51.100.7/24', /host bits set; did you mean 198.51.100.0\/24/],
      ['0.0.0.0/0', /every address/],
      ['::/0', /every address/],
      ['2001:db8::/129', /invalid CIDR/],
      ['198.51.100.0/', /invalid CIDR prefix/],
      ['198.51.100.0/-1', /invalid CIDR prefix/],
      ['example.com', /invalid IP/],
      ['10.1', /invalid IP/],
      ['0x7f.1', /invalid IP/],
      ['', /entry is required/],
    ];
    for (const [s, re] of bad) assert.throws(() => parseWhitelistEntry(s), re, s);
  });
  it('matches addresses at the edges of ranges, IPv4 and IPv6, never across families', () => {
    const list = ['198.51.100.0/24', '203.0.113.9', '2001:db8:1::/48', '192.0.2.128/25', '10.0.0.0/31'].map(
      (s) => parseWhitelistEntry(s),
    );
    const hit = (ip: string) => ipMatches(ip, list)?.text ?? null;
    assert.equal(hit('198.51.100.0'), '198.51.100.0/24');
    assert.equal(hit('198.51.100.255'), '198.51.100.0/24');
    assert.equal(hit('198.51.101.0'), null);
    assert.equal(hit('198.51.99.255'), null);
    assert.equal(hit('203.0.113.9'), '203.0.113.9');
    assert.equal(hit('203.0.113.10'), null);
    assert.equal(hit('192.0.2.127'), null);
    assert.equal(hit('192.0.2.128'), '192.0.2.128/25');
    assert.equal(hit('10.0.0.1'), '10.0.0.0/31');
    assert.equal(hit('10.0.0.2'), null);
    assert.equal(hit('2001:db8:1:ffff:ffff:ffff:ffff:ffff'), '2001:db8:1::/48');
    assert.equal(hit('2001:db8:2::'), null);
    assert.equal(hit('::ffff:198.51.100.20'), '198.51.100.0/24', 'IPv4-mapped peers match IPv4 entries');
    assert.equal(hit('::c633:6414'), null, 'an IPv4-compatible IPv6 address is not IPv4');
    assert.equal(hit('not-an-ip'), null);
  });
  it('canonicalises client addresses', () => {
    assert.equal(canonicalIp('::ffff:127.0.0.2'), '127.0.0.2');
    assert.equal(canonicalIp('2001:0DB8::0001'), '2001:db8::1');
    assert.throws(() => canonicalIp('1.2.3'), /invalid IP/);
  });
});

describe('domain: device input and emergency numbers', () => {
  it('validates devices', () => {
    const d = parseNewDevice({
      mac: '00-15-65-AA-BB-CC',
      vendor: 'yealink',
      model: 'W70B',
      site: 'HQ',
      accounts: [{ server: 'sip.example.net', user: '100', password: 'x' }],
    });
    assert.equal(d.mac, '001565aabbcc');
    assert.equal(d.accounts.length, 1);
    assert.throws(
      () => parseNewDevice({ mac: '001565aabbcc', vendor: 'nokia', model: 'x', site: 's' }),
      /vendor must be one of/,
    );
    assert.throws(
      () => parseNewDevice({ mac: '001565aabbcc', vendor: 'snom', site: 's' }),
      /model is required/,
    );
    assert.throws(
      () => parseNewDevice({ mac: '001565aabbcc', vendor: 'snom', model: 'D785', site: 'a\nb' }),
      /control characters/,
    );
    assert.throws(
      () =>
        parseNewDevice({
          mac: '001565aabbcc',
          vendor: 'snom',
          model: 'D785',
          site: 's',
          accounts: [{ user: '1' }],
        }),
      /accounts\[0\]\.server is required/,
    );
    assert.throws(
      () => parseNewDevice({ mac: '001565aabbcc', vendor: 'snom', model: 'D785', site: 's', language: 'fr' }),
      /language/,
    );
    assert.throws(() => parseNewDevice([]), /JSON object/);
    assert.throws(() => parseTenantId('Acme'), /invalid tenant id/);
    assert.throws(() => parseTenantId('a{b}'), /invalid tenant id/);
    assert.equal(parseTenantId('acme-1'), 'acme-1');
  });
  it('routes exactly the configured emergency numbers', () => {
    assert.ok(isEmergencyNumber('112', DEFAULT_EMERGENCY_NUMBERS));
    assert.ok(isEmergencyNumber('000', DEFAULT_EMERGENCY_NUMBERS));
    assert.ok(!isEmergencyNumber('1120', DEFAULT_EMERGENCY_NUMBERS));
    assert.ok(!isEmergencyNumber('*89', DEFAULT_EMERGENCY_NUMBERS));
  });
});

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    assert.deepEqual(c.auth, {
      maxConsecutiveFailures: 3,
      failedLockSeconds: 1800,
      maxTotalFailures: 9,
      suspendSeconds: 1800,
      tempWhitelistSeconds: 28800,
      guessing: { perSource: 100, perSourceTenant: 30, windowSeconds: 3600 },
    });
    assert.equal(c.adminHost, '127.0.0.1');
    assert.equal(c.redisUrl, null);
    assert.equal(c.sip.enabled, false);
    assert.equal(c.sip.bindToProvisioningIp, true);
    assert.equal(loadConfig({ SIP_BIND_TO_PROVISIONING_IP: '0' }).sip.bindToProvisioningIp, false);
    assert.deepEqual([c.sip.emergencySiteRoutes, c.sip.emergencyCallerId], [[], null]);
    const e = loadConfig({
      EMERGENCY_SITE_ROUTES: 'sip:a.example:5060, sips:b.example',
      EMERGENCY_CALLER_ID: '+4930555000',
    });
    assert.deepEqual(
      [e.sip.emergencySiteRoutes, e.sip.emergencyCallerId],
      [['sip:a.example:5060', 'sips:b.example'], '+4930555000'],
    );
    assert.ok(Object.isFrozen(c));
  });
  it('stops on a bad value with a message naming the variable', () => {
    const bad: Record<string, string>[] = [
      { AUTH_MAX_CONSECUTIVE_FAILURES: 'three' },
      { AUTH_FAILED_LOCK_SECONDS: '0' },
      { AUTH_MAX_TOTAL_FAILURES: '2', AUTH_MAX_CONSECUTIVE_FAILURES: '3' },
      { ADMIN_PORT: '70000' },
      { PROVISIONING_PORT: '-1' },
      { REDIS_URL: 'localhost:6379' },
      { ADMIN_TOKEN: 'short' },
      { TRUST_PROXY: '10.0.0.0/33' },
      { EMERGENCY_ROUTE: 'http://x' },
      { EMERGENCY_SITE_ROUTES: 'sip:psap.example.net, psap2.example.net' },
      { EMERGENCY_CALLER_ID: '030 1234' },
      { EMERGENCY_CALLER_ID: '+4930\r\nX: 1' },
      { AUTH_TEMP_WHITELIST_SECONDS: '1.5' },
      { SIP_BIND_TO_PROVISIONING_IP: 'yes' },
    ];
    for (const env of bad) {
      const name =
        Object.keys(env).at(-1) === 'AUTH_MAX_CONSECUTIVE_FAILURES' && Object.keys(env).length > 1
          ? 'AUTH_MAX_TOTAL_FAILURES'
          : Object.keys(env)[0]!;
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && e.variable === name && e.message.startsWith(`${name}:`),
        JSON.stringify(env),
      );
    }
  });
});
