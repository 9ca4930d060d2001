import assert from 'node:assert/strict';
import ipaddr from 'ipaddr.js';
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
import {
  parseWhitelistEntry,
  ipMatches,
  canonicalIp,
  tryCanonicalIp,
  checkWhitelistCoverage,
  whitelistCoverage,
} from '../src/domain/whitelist';
import { parseNewDevice, parseTenantId, parseTenantName } from '../src/domain/device';
import { prefixOf } from '../src/domain/prefix';
import { hasHotLine, papCard } from '../src/domain/hotline';
import { checkText, unsafeCharacter } from '../src/domain/text';
import { lookAlikeOf, skeleton } from '../src/domain/lookalike';
import { parseSite, parseSiteName } from '../src/domain/site';
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
  it('gives every IPv4 text the answer ipaddr.js gives, the canonical ones taken as they are', () => {
    const octets = [
      '0',
      '9',
      '10',
      '99',
      '100',
      '199',
      '200',
      '249',
      '250',
      '255',
      '256',
      '300',
      '01',
      '00',
      '1a',
      '',
    ];
    for (const a of octets)
      for (const b of ['0', '255', '256', '07']) {
        const text = `${a}.1.${b}.2`;
        const expected = ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.process(text).toString() : null;
        assert.equal(tryCanonicalIp(text), expected, text);
      }
    assert.equal(tryCanonicalIp('1.2.3.4\n'), null);
    assert.equal(tryCanonicalIp(' 1.2.3.4'), null);
  });
});

describe('domain: whitelist coverage (the union of the entries, per family)', () => {
  const list = (...e: string[]) => e.map((x) => parseWhitelistEntry(x));
  const refused = (entries: string[], re: RegExp) =>
    assert.throws(
      () => checkWhitelistCoverage(list(...entries)),
      (e: unknown) => e instanceof InputError && e.field === 'entry' && re.test(e.message),
      entries.join(' + '),
    );
  it('counts nested entries once and disjoint ones apart, exactly (BigInt)', () => {
    assert.deepEqual(whitelistCoverage([]), { ipv4: 0n, ipv6: 0n });
    assert.deepEqual(whitelistCoverage(list('198.51.100.0/24', '198.51.100.7', '198.51.100.128/25')), {
      ipv4: 256n,
      ipv6: 0n,
    });
    assert.deepEqual(whitelistCoverage(list('198.51.100.0/24', '203.0.113.0/24', '192.0.2.1')).ipv4, 513n);
    // Same first address, the larger block listed last: still counted once.
    assert.equal(whitelistCoverage(list('10.0.0.0/16', '10.0.0.0/8')).ipv4, 1n << 24n);
    assert.equal(whitelistCoverage(list('2001:db8::/32', '2001:db8:1::/48', '::1')).ipv6, (1n << 96n) + 1n);
    assert.equal(whitelistCoverage(list('::ffff:192.0.2.0/120')).ipv4, 256n, 'IPv4-mapped counts as IPv4');
  });
  it('allows up to a /8 worth of IPv4 and a /16 worth of IPv6, in any number of entries', () => {
    checkWhitelistCoverage(list('10.0.0.0/8'));
    checkWhitelistCoverage(list('10.0.0.0/9', '10.128.0.0/9', '10.1.2.0/24', '2001:db8::/32'));
    checkWhitelistCoverage(list('2000::/16', '2000:1::/32'));
    checkWhitelistCoverage(list('10.0.0.0/8', '2000::/16'));
  });
  it('refuses what together covers (nearly) everything, though no entry is /0, naming the bound', () => {
    refused(
      ['0.0.0.0/1', '128.0.0.0/1'],
      /cover 4,294,967,296 IPv4 addresses; at most a \/8 worth \(16,777,216\)/,
    );
    refused(['::/1', '8000::/1'], /cover 2\^128 IPv6 addresses; at most a \/16 worth \(2\^112\)/);
    refused(['2000::/3'], /cover 2\^125 IPv6/);
    refused(['10.0.0.0/8', '11.0.0.0/32'], /cover 16,777,217 IPv4/);
    refused(['2000::/16', '2001::/16'], /cover 2\^113 IPv6/);
    refused(['2000::/16', '2001::/128'], /more than 2\^112 IPv6/);
    refused(['64.0.0.0/2'], /IPv4/);
  });
});

describe('domain: address prefix (prefixOf)', () => {
  const L = { ipv4: 24, ipv6: 64 };
  it('names the network an address counts as, canonically', () => {
    assert.equal(prefixOf('198.51.100.7', L), '198.51.100.0/24');
    assert.equal(prefixOf('198.51.100.255', L), '198.51.100.0/24');
    assert.equal(prefixOf('198.51.101.0', L), '198.51.101.0/24');
    assert.equal(prefixOf('2001:DB8:0:1:ffff::7', L), '2001:db8:0:1::/64');
    assert.equal(prefixOf('2001:db8:0:1::1', L), prefixOf('2001:db8:0:1:8000::', L), 'one /64, one text');
    assert.notEqual(prefixOf('2001:db8:0:1::1', L), prefixOf('2001:db8:0:2::1', L));
    assert.equal(prefixOf('::1', L), '::/64');
  });
  it('counts IPv4-mapped IPv6 as IPv4', () => {
    assert.equal(prefixOf('::ffff:198.51.100.7', L), '198.51.100.0/24');
    assert.equal(prefixOf('::ffff:c633:6407', L), '198.51.100.0/24');
    assert.equal(prefixOf('::ffff:198.51.100.7', { ipv4: 32, ipv6: 128 }), '198.51.100.7/32');
  });
  it('takes any length of the family, at bit (not byte) precision, and always writes it', () => {
    assert.equal(prefixOf('198.51.100.7', { ipv4: 32, ipv6: 64 }), '198.51.100.7/32');
    assert.equal(prefixOf('198.51.100.7', { ipv4: 0, ipv6: 64 }), '0.0.0.0/0');
    assert.equal(prefixOf('198.51.100.7', { ipv4: 30, ipv6: 64 }), '198.51.100.4/30');
    assert.equal(prefixOf('198.51.100.7', { ipv4: 13, ipv6: 64 }), '198.48.0.0/13');
    assert.equal(prefixOf('2001:db8:ab:cd::1', { ipv4: 24, ipv6: 56 }), '2001:db8:ab::/56');
    assert.equal(prefixOf('2001:db8:ab:cd::1', { ipv4: 24, ipv6: 52 }), '2001:db8:ab::/52');
    assert.equal(prefixOf('2001:db8:ab:cfff::1', { ipv4: 24, ipv6: 51 }), '2001:db8:ab:c000::/51');
    assert.equal(prefixOf('2001:db8::1', { ipv4: 24, ipv6: 128 }), '2001:db8::1/128');
    assert.equal(prefixOf('ffff:ffff::1', { ipv4: 24, ipv6: 1 }), '8000::/1');
  });
  it('agrees with the whitelist: the prefix text, read as an entry, contains the address', () => {
    for (const ip of ['203.0.113.77', '10.255.1.2', '2001:db8:1:2:3:4:5:6', 'fe80::abcd']) {
      for (const [ipv4, ipv6] of [
        [8, 16],
        [24, 48],
        [31, 127],
        [32, 128],
      ]) {
        const text = prefixOf(ip, { ipv4: ipv4!, ipv6: ipv6! });
        const entry = parseWhitelistEntry(text.replace(/\/(32|128)$/, ''));
        assert.ok(ipMatches(ip, [entry]), `${ip} in ${text}`);
      }
    }
  });
  it('refuses what is not an address, and lengths outside the family', () => {
    for (const bad of ['', '1.2.3', '0x7f.1', 'example.com', '198.51.100.7/24', '2001:db8::1::2'])
      assert.throws(() => prefixOf(bad, L), InputError, bad);
    assert.throws(() => prefixOf('198.51.100.7', { ipv4: 33, ipv6: 64 }), RangeError);
    assert.throws(() => prefixOf('2001:db8::1', { ipv4: 24, ipv6: 129 }), RangeError);
    assert.throws(() => prefixOf('2001:db8::1', { ipv4: 24, ipv6: 6.5 }), RangeError);
  });
});

describe('domain: admin-entered text (checkText)', () => {
  const BIDI = [
    '\u061c',
    '\u200e',
    '\u200f',
    '\u202a',
    '\u202b',
    '\u202c',
    '\u202d',
    '\u202e',
    '\u2066',
    '\u2067',
    '\u2068',
    '\u2069',
  ];
  const INVISIBLE = [
    '\u0000',
    '\n',
    '\t',
    '\u007f',
    '\u0085',
    '\u200b',
    '\u2060',
    '\ufeff',
    '\u00ad',
    '\u2028',
    '\u2029',
    '\u{e0041}',
    '\ud800',
  ];
  it('refuses every bidirectional control and other invisible control or format characters, naming it', () => {
    for (const c of [...BIDI, ...INVISIBLE]) {
      const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      assert.equal(unsafeCharacter(`Acme${c} Corp`), code);
      assert.throws(
        () => checkText('name', `Acme${c} Corp`),
        (e: unknown) =>
          e instanceof InputError &&
          e.field === 'name' &&
          e.message.includes(code) &&
          /control characters/.test(e.message),
        code,
      );
    }
  });
  it('accepts text in any script, emoji sequences and the joiners they need', () => {
    for (const ok of [
      'Acme Corp',
      'Müller & Söhne',
      'שלום עולם',
      'مكتب القاهرة',
      'می‌خواهم',
      'क्‍ष',
      '👩‍💻 Team',
      '東京本社',
      '<img src=x>',
    ])
      assert.equal(unsafeCharacter(ok), null, ok);
  });
  it('refuses the invisible and blank look-alikes (fillers, blanks, variation selectors, overlays, other spaces), naming each', () => {
    const LOOK_ALIKES = [
      '\u3164', // Hangul filler
      '\u115f', // Hangul choseong filler
      '\u1160', // Hangul jungseong filler
      '\uffa0', // halfwidth Hangul filler
      '\u2800', // braille pattern blank
      '\u034f', // combining grapheme joiner
      ...Array.from({ length: 16 }, (_, i) => String.fromCodePoint(0xfe00 + i)), // variation selectors
      '\u{e0100}',
      '\u{e01ef}',
      '\u17b4', // Khmer inherent vowels
      '\u17b5',
      '\u180b', // Mongolian free variation selectors, vowel separator
      '\u180c',
      '\u180d',
      '\u180e',
      '\u180f',
      '\u0336', // combining long stroke overlay
      '\u0338',
      '\u00a0', // no-break space
      '\u2007',
      '\u202f',
    ];
    for (const c of LOOK_ALIKES) {
      const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      assert.equal(unsafeCharacter(`Beta${c}`), code, code);
      assert.equal(unsafeCharacter(`Be${c}ta Corp`), code, code);
      assert.throws(
        () => parseTenantName(`Beta${c}`),
        (e: unknown) => e instanceof InputError && e.field === 'name' && e.message.includes(code),
        code,
      );
    }
    assert.throws(() => parseTenantName('\u2764\ufe0f Team'), /U\+FE0F/, 'an emoji in its colour form');
    assert.equal(parseTenantName('\u2764 Team'), '\u2764 Team', 'the same emoji as text');
  });

  it('refuses joiners that join nothing, unassigned and private-use code points (the drill\'s look-alikes of "Beta")', () => {
    for (const [bad, code] of [
      ['Beta\u200c', 'U+200C'],
      ['Be\u200dta', 'U+200D'],
      ['Beta\u200c\u200c\u200c', 'U+200C'],
      ['\u200dBeta', 'U+200D'],
      ['می\u200c\u200cخواهم', 'U+200C'],
      ['Beta\u{1f469}\u200d', 'U+200D'],
      ['Beta\u0378', 'U+0378'],
      ['Beta\ue000', 'U+E000'],
      ['Beta\uf8ff', 'U+F8FF'],
      ['Beta\ufffe', 'U+FFFE'],
      ['Beta\uffff', 'U+FFFF'],
      ['Beta\ufdd0', 'U+FDD0'],
      ['Beta\u{f0000}', 'U+F0000'],
    ] as const) {
      assert.equal(unsafeCharacter(bad), code, JSON.stringify(bad));
      assert.throws(
        () => parseTenantName(bad),
        (e: unknown) => e instanceof InputError && e.field === 'name' && e.message.includes(code),
        JSON.stringify(bad),
      );
    }
    assert.match(
      (() => {
        try {
          parseTenantName('Be\u200dta');
          return '';
        } catch (e) {
          return (e as Error).message;
        }
      })(),
      /joins nothing/,
    );
    // Where they join: Persian, a Devanagari conjunct after the virama, an emoji sequence.
    for (const ok of [
      'می\u200cخواهم',
      'क्\u200dष',
      '\u{1f469}\u200d\u{1f4bb} Team',
      '\u{1f469}\u{1f3fd}\u200d\u{1f4bb}',
    ])
      assert.equal(unsafeCharacter(ok), null, ok);
  });

  it('tells look-alike names by their skeleton: NFKC, confusables (UTS #39), case, joiners', () => {
    for (const alike of [
      'B\u0435ta',
      '\u0392\u0435t\u0430',
      'BETA',
      'beta',
      '\uff22\uff45\uff54\uff41',
      'Be\u200dta',
    ])
      assert.equal(lookAlikeOf(alike, ['Acme', 'Beta']), 'Beta', JSON.stringify(alike));
    assert.equal(lookAlikeOf('Berlin l', ['Berlin 1']), 'Berlin 1');
    for (const other of ['Betta', 'Bet', 'Zürich', 'Bêta'])
      assert.equal(lookAlikeOf(other, ['Beta', 'Zurich']), null, other);
    assert.equal(skeleton('\u041d\u0051'), skeleton('HQ'));
  });

  it('refuses white space of any kind at either end, and a name that is blank or only spaces', () => {
    for (const bad of ['Beta ', ' Beta', 'Beta\u3000', '\u3000Beta', ' ', '\u3000', '\u3000 \u3000'])
      assert.throws(
        () => parseTenantName(bad),
        (e: unknown) => e instanceof InputError && e.field === 'name' && /white space/.test(e.message),
        JSON.stringify(bad),
      );
    assert.throws(() => parseTenantName(''), /name must be a string of 1-200 characters/);
    for (const bad of ['\u00a0', 'Beta\u00a0', '\u2800'])
      assert.throws(() => parseTenantName(bad), InputError);
    // inside a name: the ordinary space, and the ideographic one CJK names are written with
    assert.equal(parseTenantName('Beta Corp'), 'Beta Corp');
    assert.equal(parseTenantName('\u5c71\u7530\u3000\u592a\u90ce'), '\u5c71\u7530\u3000\u592a\u90ce');
    assert.throws(() => parseSiteName('Floor 2\u3000'), /must not begin or end with white space/);
  });

  it('is applied to every admin-entered name and text field', () => {
    const rlo = 'Evil\u202eCorp';
    const device = { mac: '001565aabbcc', vendor: 'snom', model: 'D785', site: 'HQ' };
    assert.throws(
      () => parseTenantName(rlo),
      /name contains control characters or invisible ones \(U\+202E\)/,
    );
    assert.equal(parseTenantName('Acme Corp'), 'Acme Corp');
    assert.throws(() => parseNewDevice({ ...device, site: rlo }), /site contains control characters/);
    assert.throws(
      () => parseNewDevice({ ...device, model: 'D\u2066785' }),
      /model contains control characters/,
    );
    for (const field of ['server', 'user', 'authUser', 'password', 'displayName'])
      assert.throws(
        () =>
          parseNewDevice({
            ...device,
            accounts: [{ server: 's', user: 'u', password: 'p', [field]: `x\u200fy` }],
          }),
        new RegExp(`accounts\\[0\\]\\.${field} contains control characters`),
      );
    assert.throws(() => parseSiteName('Floor\u20682'), /site contains control characters/);
    assert.throws(
      () =>
        parseSite('HQ', {
          emergencyCallerId: '+4930123',
          civicAddress: { country: 'DE', A3: 'Ber\u202elin' },
        }),
      /civicAddress\.A3/,
    );
  });
});

describe('domain: device input and emergency numbers', () => {
  it('refuses models whose configuration has another format, naming the supported ones (docs/phones.md)', () => {
    const add = (vendor: string, model: string) =>
      parseNewDevice({ mac: '000413aabbcc', vendor, model, site: 'HQ' }).model;
    // snom DECT bases and conference phones (Wazo wazo_snom/common_dect, FusionPBX snom/C520, M500KLE, m3).
    for (const model of [
      'M3',
      'M300',
      'M400',
      'M700',
      'M900',
      'snom M900',
      'M100KLE',
      'M500 KLE',
      'C520',
      'C620',
    ])
      assert.throws(() => add('snom', model), /not supported.*supported: desk phones/, model);
    for (const model of ['N670 IP PRO', 'N770 IP PRO', 'N870', 'Gigaset N870E IP PRO'])
      assert.throws(() => add('gigaset', model), /supported: N510 IP PRO, N720 DM PRO/, model);
    for (const model of ['ATA190', 'ATA 191', 'Cisco ATA191'])
      assert.throws(() => add('cisco', model), /supported: SPA112, SPA122/, model);
    for (const [vendor, model, canonical] of [
      ['snom', 'D785', 'D785'],
      ['snom', '320', '320'],
      ['snom', 'snom710', '710'],
      ['gigaset', 'N510 IP PRO', 'N510 IP PRO'],
      ['gigaset', 'N720 DM PRO', 'N720 DM PRO'],
      ['cisco', 'SPA112', 'SPA112'],
    ])
      assert.equal(add(vendor!, model!), canonical, `${vendor} ${model}`);
    // A snom DECT base's name is no Yealink model: not known, not "not supported".
    assert.throws(() => add('yealink', 'M700'), /model M700 of yealink is not known/);
  });

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
      // PAP_LIFETIME_DAYS 0: a PAP never expires
      papLifetimeSeconds: 0,
      guessing: { perSource: 100, perSourceTenant: 30, windowSeconds: 3600 },
    });
    assert.equal(loadConfig({ PAP_LIFETIME_DAYS: '30' }).auth.papLifetimeSeconds, 30 * 86400);
    assert.equal(c.adminHost, '127.0.0.1');
    assert.equal(c.redisUrl, null);
    assert.equal(c.sip.enabled, false);
    assert.equal(c.sip.bindToProvisioningIp, true);
    assert.equal(loadConfig({ SIP_BIND_TO_PROVISIONING_IP: '0' }).sip.bindToProvisioningIp, false);
    assert.deepEqual(c.sourcePrefix, { ipv4: 24, ipv6: 64 });
    assert.deepEqual(c.provisioningMissPrefix, { ipv4: 32, ipv6: 64 });
    assert.deepEqual(loadConfig({ SOURCE_PREFIX_IPV4: '32', PROVISIONING_MISS_PREFIX_IPV6: '56' }), {
      ...loadConfig({}),
      sourcePrefix: { ipv4: 32, ipv6: 64 },
      provisioningMissPrefix: { ipv4: 32, ipv6: 56 },
      // a client of the traffic bounds is a source network too
      traffic: { ...loadConfig({}).traffic, clientPrefix: { ipv4: 32, ipv6: 64 } },
    });
    assert.equal(c.sip.ivr.maxCallsPerDevice, 2);
    assert.equal(c.sip.ivr.maxCallsPerSource, 40);
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
  it('has no default secret for the SIP side: both are required once DRACHTIO_HOST is set', () => {
    const sip = { DRACHTIO_HOST: '127.0.0.1' };
    const good = { DRACHTIO_SECRET: 'a'.repeat(16), FREESWITCH_SECRET: 'b'.repeat(48) };
    const c = loadConfig({ ...sip, ...good });
    assert.equal(c.sip.drachtio.secret, 'a'.repeat(16));
    assert.equal(c.sip.freeswitch.secret, 'b'.repeat(48));
    assert.equal(loadConfig({}).sip.freeswitch.secret, '', 'no SIP side, no secret needed');
    for (const [name, value, re] of [
      ['FREESWITCH_SECRET', undefined, /is required for the SIP side/],
      ['DRACHTIO_SECRET', undefined, /is required for the SIP side/],
      ['FREESWITCH_SECRET', '', /is required for the SIP side/],
      ['FREESWITCH_SECRET', 'ClueCon', /16 to 256 characters/],
      ['DRACHTIO_SECRET', 'cymru', /16 to 256 characters/],
      ['DRACHTIO_SECRET', 'a|b'.repeat(8), /16 to 256 characters/],
      ['FREESWITCH_SECRET', 'quote"'.repeat(4), /16 to 256 characters/],
      ['FREESWITCH_SECRET', 'with space'.repeat(2), /16 to 256 characters/],
    ] as const) {
      const env: Record<string, string> = { ...sip, ...good };
      if (value === undefined) delete env[name];
      else env[name] = value;
      assert.throws(
        () => loadConfig(env),
        (e: unknown) => e instanceof ConfigError && e.variable === name && re.test(e.message),
        `${name}=${value}`,
      );
    }
  });
  it('refuses TRUST_PROXY and SIP_TRUSTED_PEERS lists that together cover (nearly) everything', () => {
    for (const name of ['TRUST_PROXY', 'SIP_TRUSTED_PEERS'])
      for (const list of ['0.0.0.0/1,128.0.0.0/1', '::/1,8000::/1', '2000::/3', '10.0.0.0/8,172.16.0.0/12'])
        assert.throws(
          () => loadConfig({ [name]: list }),
          (e: unknown) =>
            e instanceof ConfigError && e.variable === name && /at most a \/(8|16) worth/.test(e.message),
          `${name}=${list}`,
        );
    assert.equal(loadConfig({ TRUST_PROXY: '10.0.0.0/8,10.1.0.0/16,2001:db8::/32' }).trustProxy.length, 3);
  });
  it('stops on a bad value with a message naming the variable', () => {
    const bad: Record<string, string>[] = [
      { AUTH_MAX_CONSECUTIVE_FAILURES: 'three' },
      { AUTH_FAILED_LOCK_SECONDS: '0' },
      { AUTH_MAX_TOTAL_FAILURES: '2', AUTH_MAX_CONSECUTIVE_FAILURES: '3' },
      { ADMIN_PORT: '70000' },
      { PROVISIONING_PORT: '-1' },
      { REDIS_URL: 'localhost:6379' },
      { REDIS_URL: 'unix:///run/redis.sock' },
      { REDIS_URL: 'redis:///run/redis.sock' },
      { ADMIN_TOKEN: 'short' },
      { TRUST_PROXY: '10.0.0.0/33' },
      { EMERGENCY_ROUTE: 'http://x' },
      { EMERGENCY_SITE_ROUTES: 'sip:psap.example.net, psap2.example.net' },
      { EMERGENCY_CALLER_ID: '030 1234' },
      { EMERGENCY_CALLER_ID: '+4930\r\nX: 1' },
      { AUTH_TEMP_WHITELIST_SECONDS: '1.5' },
      { SIP_BIND_TO_PROVISIONING_IP: 'yes' },
      { SOURCE_PREFIX_IPV4: '7' },
      { SOURCE_PREFIX_IPV6: '129' },
      { PROVISIONING_MISS_PREFIX_IPV4: '33' },
      { PROVISIONING_MISS_PREFIX_IPV6: '15' },
      { IVR_MAX_CALLS_PER_DEVICE: '0' },
      { IVR_MAX_CALLS_PER_SOURCE: 'many' },
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

describe('PAP sheet cards (issue 24)', () => {
  const device = { vendor: 'yealink' as const, model: 'T54W', language: null, accounts: [] };
  it('lift the handset only where the minimal file has a warm line; dial elsewhere', () => {
    assert.equal(papCard(device, 'en').reach, 'lift');
    for (const model of ['W60B', 'W52P', 'W80DM'])
      assert.equal(papCard({ ...device, model }, 'en').reach, 'dial');
    for (const [vendor, model] of [
      ['snom', 'D785'],
      ['poly', 'VVX450'],
      ['gigaset', 'N510 IP PRO'],
      ['grandstream', 'GXP2170'],
      ['patton', 'SN200'],
      ['spectralink', '8440'],
    ] as const)
      assert.equal(hasHotLine(vendor, model), false, vendor);
    for (const vendor of ['cisco', 'linksys', 'panasonic'] as const)
      assert.equal(hasHotLine(vendor, 'x'), true);
  });

  it("the first account's display name and user; the device's language, else the fallback", () => {
    const accounts = [
      { user: '100', displayName: 'Reception' },
      { user: '101', displayName: 'Other' },
    ];
    assert.deepEqual(papCard({ ...device, accounts, language: 'de' }, 'en'), {
      reach: 'lift',
      name: 'Reception',
      extension: '100',
      language: 'de',
    });
    assert.deepEqual(papCard({ ...device, accounts: [{ user: '7' }] }, 'de'), {
      reach: 'lift',
      name: null,
      extension: '7',
      language: 'de',
    });
  });
});
