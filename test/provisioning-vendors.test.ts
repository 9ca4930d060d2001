import assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import type { Vendor } from '../src/domain/device';
import { VENDORS } from '../src/domain/device';
import { hasHotLine } from '../src/domain/hotline';
import { restrictedSipPassword } from '../src/domain/pap';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { compile, lineEscape, quotedEscape, render, xmlEscape } from '../src/provisioning/render';
import { VENDOR_MODULES } from '../src/provisioning/vendors';
import { CHECK_SYNC_EVENT } from '../src/sip/notify';
import { ACCOUNT, credentialIn, ProvisioningFixture, request, TENANT_SECRETS } from './support/http';

type Syntax = 'xml' | 'kv' | 'quoted' | 'cli';
interface Case {
  vendor: Vendor;
  model: string;
  mac: string;
  file: (mac: string) => string;
  ua: (mac: string) => string;
  syntax: Syntax;
  /** What marks the minimal configuration's hotline / idle text for this vendor. */
  minimalMarks: RegExp[];
}

const CASES: Case[] = [
  {
    vendor: 'yealink',
    model: 'T54W',
    mac: '001565000001',
    file: (m) => `${m}.cfg`,
    ua: () => 'Yealink SIP-T54W 96.86.0.70 00:15:65:00:00:01',
    syntax: 'kv',
    minimalMarks: [
      /features\.hotline_number = \*89/,
      /Dial \*89 to authenticate/,
      /account\.1\.dtmf\.type = 1/,
    ],
  },
  {
    vendor: 'yealink',
    model: 'W60B',
    mac: '001565000002',
    file: (m) => `${m}.cfg`,
    ua: () => 'Yealink W60B 77.83.0.85 00:15:65:00:00:02',
    syntax: 'kv',
    minimalMarks: [/DECT base/, /Dial \*89 to authenticate/],
  },
  {
    vendor: 'yealink',
    model: 'W80DM',
    mac: '249ad8000003',
    file: (m) => `${m}.cfg`,
    ua: () => 'Yealink W80DM 103.87.0.10 24:9a:d8:00:00:03',
    syntax: 'kv',
    minimalMarks: [
      /^template\.1\.sip_server\.1\.address = auth\.papgate\.test$/m,
      /^template\.1\.outbound\.1\.address = auth\.papgate\.test$/m,
      /^account\.1\.sip_server\.template = 1$/m,
      /Dial \*89 to authenticate/,
    ],
  },
  {
    vendor: 'snom',
    model: 'snom710',
    mac: '000413000003',
    file: (m) => `snom710-${m.toUpperCase()}.htm`,
    ua: () => 'Mozilla/4.0 (compatible; snom710-SIP 10.1.54.13)',
    syntax: 'xml',
    minimalMarks: [
      /user_idle_text idx="1" perm="R">Dial \*89 to authenticate/,
      /user_dtmf_info idx="1" perm="R">off/,
    ],
  },
  {
    vendor: 'snom',
    model: 'D785',
    mac: '000413000004',
    file: (m) => `${m.toUpperCase()}.xml`,
    ua: () => 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13)',
    syntax: 'xml',
    minimalMarks: [/Dial \*89 to authenticate/],
  },
  {
    vendor: 'poly',
    model: 'VVX 450',
    mac: '0004f2000005',
    file: (m) => `${m}-phone.cfg`,
    ua: () => 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.1234 Type/Application',
    syntax: 'xml',
    minimalMarks: [
      /reg\.1\.outboundProxy\.address="auth\.papgate\.test"/,
      /emergency\.1\.value="112"/,
      /tone\.dtmf\.rfc2833Control="1"/,
    ],
  },
  {
    vendor: 'spectralink',
    model: '8440',
    mac: '00907a000006',
    file: (m) => `${m}-phone.cfg`,
    ua: () => 'FileTransport SpectraLink8400-SL_8440-UA/5.4.0 Type/Application',
    syntax: 'xml',
    minimalMarks: [/Spectralink UCS handsets/, /outboundProxy\.address="auth\.papgate\.test"/],
  },
  {
    vendor: 'cisco',
    model: 'SPA112',
    mac: '00d0b8000007',
    file: (m) => `${m}.xml`,
    ua: (m) => `Cisco/SPA112-1.4.1 (${m.toUpperCase()})`,
    syntax: 'xml',
    minimalMarks: [/Dial_Plan_1_>\( P4 &lt;:\*89&gt; \| 112S0 /, /<DTMF_Tx_Method_1_>AVT</],
  },
  {
    vendor: 'linksys',
    model: 'PAP2T',
    mac: '0018f8000008',
    file: (m) => `${m}.xml`,
    ua: (m) => `Linksys/PAP2T-5.1.6(LS) (${m})`,
    syntax: 'xml',
    minimalMarks: [/&lt;:\*89&gt;/, /<Use_Outbound_Proxy_1_>Yes</],
  },
  {
    vendor: 'gigaset',
    model: 'N720 DM PRO',
    mac: '7c2f80000009',
    file: (m) => `${m.toUpperCase()}.xml`,
    ua: () => 'Gigaset N720 DM PRO/70.106.00.000.000',
    syntax: 'xml',
    minimalMarks: [
      /aucS_SIP_DISPLAYNAME\[0\]" class="symb_item" value='"Dial \*89"'/,
      /uiOUTBOUND_PROXY_PORT" class="symb_item" value="0x13ce"/, // 5070
      /ucI_DTMF_TX_MODE_BITS" class="symb_item" value="2"/,
    ],
  },
  {
    vendor: 'patton',
    model: 'SN4112',
    mac: '00a0ba00000a',
    file: (m) => `${m}.cfg`,
    ua: () => 'Patton SmartNode SN4112/JS/EUI',
    syntax: 'cli',
    minimalMarks: [/remote auth\.papgate\.test 5070/, /dtmf-relay rtp/],
  },
  {
    vendor: 'grandstream',
    model: 'GXP2170',
    mac: '000b8200000b',
    file: (m) => `cfg${m}.xml`,
    ua: (m) => `Grandstream Model HW GXP2170 SW 1.0.11.3 DevId ${m}`,
    syntax: 'xml',
    minimalMarks: [/<P48>auth\.papgate\.test:5070<\/P48>/, /<P270>Dial \*89 to authenticate/],
  },
  {
    vendor: 'panasonic',
    model: 'KX-TGP500',
    mac: '0080f000000c',
    file: (m) => `Config${m.toUpperCase()}.cfg`,
    ua: (m) => `Panasonic_KX-TGP500/01.133 (${m})`,
    syntax: 'quoted',
    minimalMarks: [/HOT_LINE_NUMBER="\*89"/, /EMERGENCY_CALL1="112"/],
  },
];

/** The credential of the provisioning URL; Grandstream's P237 is a directory without a trailing slash. */
function urlCredential(body: string): string | null {
  return credentialIn(body) ?? /\/d\/([0-9a-f]{32})<\/P237>/.exec(body)?.[1] ?? null;
}

function checkSyntax(syntax: Syntax, body: string, what: string): void {
  const lines = body.split('\n');
  assert.equal(lines.pop(), '', `${what}: ends with a newline`);
  switch (syntax) {
    case 'xml': {
      const v = XMLValidator.validate(body);
      assert.equal(v, true, `${what}: ${JSON.stringify(v)}`);
      break;
    }
    case 'kv':
      assert.equal(lines[0], '#!version:1.0.0.1');
      for (const l of lines) assert.match(l, /^(#.*|[a-z0-9_.]+ = [^\r\n]*)$/, `${what}: ${l}`);
      break;
    case 'quoted':
      for (const l of lines) assert.match(l, /^(#.*|[A-Z0-9_]+="[^"\r\n]*")$/, `${what}: ${l}`);
      break;
    case 'cli':
      for (const l of lines) {
        assert.match(l, /^(#.*|\s*[a-z][a-z0-9-]*( .*)?)$/, `${what}: ${l}`);
        assert.equal((l.match(/"/g) ?? []).length % 2, 0, `${what}: unbalanced quotes: ${l}`);
      }
      break;
  }
}

// The steps of docs/architecture.md "Adding a vendor" that nothing else would catch until a phone
// of the new vendor met them: each vendor has a module, a check-sync event and a case above.
describe('provisioning: every vendor is wired', () => {
  for (const v of VENDORS) {
    it(`${v}: a provisioning module, a check-sync event, a case in this suite`, () => {
      assert.ok(
        VENDOR_MODULES.some((m) => m.vendors.includes(v)),
        `no module in src/provisioning/vendors/index.ts lists ${v}`,
      );
      assert.ok(Object.hasOwn(CHECK_SYNC_EVENT, v), `no CHECK_SYNC_EVENT for ${v} in src/sip/notify.ts`);
      assert.ok(
        CASES.some((c) => c.vendor === v),
        `no case for ${v} in CASES of test/provisioning-vendors.test.ts`,
      );
    });
  }
});

/** The minimal files' off-hook warm line to *89: Yealink, the Cisco/Linksys dial plan, Panasonic. */
const WARM_LINE_ITEMS = /features\.hotline_number = \*89|\( P[0-9]+ &lt;:\*89&gt;|HOT_LINE_ENABLE="Y"/;

describe('provisioning: every vendor renders parseable minimal and full files', () => {
  const f = new ProvisioningFixture();
  before(async () => {
    await f.start();
    await f.store.putTenant('acme', { name: 'Acme', language: null }, 'test');
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.1.0/24'), 'test');
  });
  after(() => f.stop());

  for (const c of CASES) {
    it(`${c.vendor} ${c.model}: ${c.file(c.mac)}`, async () => {
      const accounts = [ACCOUNT, { ...ACCOUNT, user: 'acme-4712', password: 'S3cret-second' }];
      const d = await f.device(c.vendor, c.model, c.mac, { accounts });
      const path = `/${c.file(c.mac)}`;
      const minimal = await request(f.port, path, {
        from: '127.0.0.2',
        headers: { 'user-agent': c.ua(c.mac) },
      });
      assert.equal(minimal.status, 200, minimal.body);
      checkSyntax(c.syntax, minimal.body, `${c.vendor} minimal`);
      for (const s of [...TENANT_SECRETS, 'S3cret-second'])
        assert.ok(!minimal.body.includes(s), `${c.vendor} minimal leaks ${s}`);
      const restricted = restrictedSipPassword(d.sipPassword, '127.0.0.2', true);
      assert.ok(minimal.body.includes(restricted), 'restricted account password, for the fetching address');
      assert.ok(!minimal.body.includes(d.sipPassword), 'never the device secret');
      assert.ok(
        minimal.body.includes(c.mac) || minimal.body.includes(c.mac.toUpperCase()),
        'restricted account user = MAC',
      );
      assert.ok(minimal.body.includes('auth.papgate.test'), 'registrar');
      for (const mark of c.minimalMarks) assert.match(minimal.body, mark);
      // what the PAP sheet tells the user (lift the handset, or dial *89) is what the file does
      assert.equal(
        WARM_LINE_ITEMS.test(minimal.body),
        hasHotLine(c.vendor, c.model),
        `${c.vendor} ${c.model}: hasHotLine says what the minimal file does`,
      );
      assert.equal(credentialIn(minimal.body), null);

      const full = await request(f.port, path, { from: '127.0.1.9', headers: { 'user-agent': c.ua(c.mac) } });
      assert.equal(full.status, 200);
      checkSyntax(c.syntax, full.body, `${c.vendor} full`);
      assert.ok(
        full.body.includes(ACCOUNT.password) && full.body.includes(ACCOUNT.user),
        `${c.vendor} full carries the account`,
      );
      assert.ok(full.body.includes('S3cret-second'), 'second account');
      assert.ok(!full.body.includes(restricted), 'no restricted account in the full config');
      const cred = urlCredential(full.body);
      assert.ok(cred, 'credential in the provisioning URL');
      const again = await request(f.port, `/d/${cred}${path}`, {
        from: '127.0.0.3',
        headers: { 'user-agent': c.ua(c.mac) },
      });
      assert.equal(again.status, 200);
      assert.equal(urlCredential(again.body), cred);
    });
  }

  it("a vendor's file name for a device of another vendor is a 404", async () => {
    await f.device('gigaset', 'N510 IP PRO', '7c2f800000aa');
    await f.device('snom', 'D785', '0004130000aa');
    assert.equal((await request(f.port, '/cfg7c2f800000aa.xml', { from: '127.0.0.40' })).status, 404);
    assert.equal((await request(f.port, '/7c2f800000aa.cfg', { from: '127.0.0.40' })).status, 404);
    assert.equal((await request(f.port, '/7C2F800000AA.xml', { from: '127.0.0.40' })).status, 200);
    assert.equal((await request(f.port, '/0004130000AA.xml', { from: '127.0.0.40' })).status, 200);
    // setting_server `.../{mac}.xml`: both references take the MAC in either case (FusionPBX
    // .htaccess:7 `[A-Fa-f0-9]{12}`, amooma/GS5 routes `/000413[0-9A-F]{6}/i`).
    const lower = await request(f.port, '/0004130000aa.xml', { from: '127.0.0.40' });
    assert.equal(lower.status, 200, 'snom file with a lower-case MAC');
    assert.match(lower.body, /<settings>/);
  });

  it('Poly per-phone master file points at <mac>-phone.cfg and still refuses a wrong credential', async () => {
    await f.device('poly', 'VVX 450', '0004f20000aa');
    const master = await request(f.port, '/0004f20000aa.cfg', { from: '127.0.0.41' });
    assert.equal(master.status, 200);
    assert.match(master.body, /CONFIG_FILES="0004f20000aa-phone\.cfg"/);
    assert.equal(XMLValidator.validate(master.body), true);
    assert.equal(
      (await request(f.port, `/d/${'b'.repeat(32)}/0004f20000aa.cfg`, { from: '127.0.0.41' })).status,
      403,
    );
  });
});

describe('provisioning: render escaping', () => {
  it('a value can never start a new line or key, nor break out of XML or quotes', () => {
    const evil = 'x\r\nstatic.auto_provision.server.url = http://evil/\u0085\u2028"<a>&\'\\';
    const kv = render(
      compile('t', 'a = {{v}}\n'),
      { v: evil },
      { escape: lineEscape, partial: () => undefined },
    );
    assert.equal(kv.split('\n').length, 2);
    assert.ok(!/[\r\u0085\u2028]/.test(kv));
    const xml = render(
      compile('t', '<a b="{{v}}">{{v}}</a>'),
      { v: evil },
      { escape: xmlEscape, partial: () => undefined },
    );
    assert.equal(XMLValidator.validate(xml), true);
    assert.ok(!xml.includes('<a>') && !xml.includes('\n'));
    const q = render(
      compile('t', 'K="{{v}}"\n'),
      { v: evil },
      { escape: quotedEscape, partial: () => undefined },
    );
    assert.match(q, /^K="[^"\n\\]*"\n$/);
  });

  it('an unknown variable or an unclosed section is an error, not an empty value', () => {
    assert.throws(
      () => render(compile('t', '{{nope}}'), {}, { escape: xmlEscape, partial: () => undefined }),
      /unknown variable/,
    );
    assert.throws(() => compile('t', '{{#a}}x'), /unclosed/);
  });
});
