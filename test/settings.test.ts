import assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config';
import { parseNewDevice, type Device, type Vendor } from '../src/domain/device';
import { InputError } from '../src/domain/errors';
import {
  FAMILY_OF,
  mergeItems,
  OWNED,
  parseFamilyItems,
  SETTING_FAMILIES,
  SETTINGS_FORMATS,
  type SettingFamily,
} from '../src/domain/setting-formats';
import { parseLayerChange } from '../src/domain/setting-layers';
import type { SettingItem } from '../src/domain/settings';
import { FORMATS } from '../src/provisioning/merge';
import { deviceScope } from '../src/provisioning/scope';
import { TemplateSet } from '../src/provisioning/templates';
import { moduleFor, VENDOR_MODULES } from '../src/provisioning/vendors';
import { ACCOUNT } from './support/http';
import { items, RESETS, TLS_SETTABLE } from './support/items';
import { pkiDir, TestCa } from './support/pki';

/**
 * Setting items per file format (src/domain/setting-formats.ts): what each family takes, what
 * papgate keeps for itself, where the templates write them. Rendering goes through the same
 * TemplateSet and scope as the server.
 */
const config = loadConfig({
  PROVISIONING_BASE_URL: 'http://prov.papgate.test:8081',
  SIP_REGISTRAR: 'auth.papgate.test:5070',
  SIP_REALM: 'papgate',
});
/** The same with account 1 over TLS (SIP_TLS_REGISTRAR) and a CA of its own (SIP_TLS_CA_FILE). */
const tlsCa = new TestCa(pkiDir(), 'sip-ca');
const tlsConfig = loadConfig({
  PROVISIONING_BASE_URL: 'http://prov.papgate.test:8081',
  SIP_REGISTRAR: 'auth.papgate.test:5070',
  SIP_TLS_REGISTRAR: 'auth.papgate.test',
  SIP_TLS_EMERGENCY_SRTP: '1',
  SIP_TLS_CA_FILE: tlsCa.file,
  SIP_REALM: 'papgate',
});
const templates = TemplateSet.load();

/** Representative models of every family, with the file of each that carries the device's items. */
const MODELS: [Vendor, string, string][] = [
  ['yealink', 'T54W', '001565000101.cfg'],
  ['yealink', 'T19P', '001565000102.cfg'],
  ['yealink', 'W60B', '001565000103.cfg'],
  ['yealink', 'W80DM', '001565000104.cfg'],
  ['snom', 'D785', '000413000201.xml'],
  ['poly', 'VVX 450', '0004f2000301-phone.cfg'],
  ['spectralink', '8440', '00907a000302-phone.cfg'],
  ['cisco', 'SPA112', '00d0b8000401.xml'],
  ['linksys', 'PAP2T', '0018f8000403.xml'],
  ['gigaset', 'N510 IP PRO', '7C2F80000501.xml'],
  ['gigaset', 'N720 DM PRO', '7C2F80000502.xml'],
  ['grandstream', 'GXP2170', 'cfg000b82000601.xml'],
  ['panasonic', 'KX-UT136', 'Config0080F0000701.cfg'],
  ['patton', 'SN4112', '00a0ba000801.cfg'],
];

function device(vendor: Vendor, model: string, file: string): Device {
  const mac = /([0-9a-f]{12})/i.exec(file)![1]!.toLowerCase();
  const d = parseNewDevice({ mac, vendor, model, site: 'HQ', accounts: [ACCOUNT] });
  return { ...d, sipPassword: 'restricted-pw', tenant: 'acme' } as unknown as Device;
}

function render(
  d: Device,
  file: string,
  kind: 'minimal' | 'full',
  settings: readonly SettingItem[] = [],
  cfg = config,
): string {
  const module = moduleFor(d.vendor);
  const fm = module.matchFile(file);
  assert.ok(fm && fm.role === 'config', `${file} is a configuration of ${d.vendor}`);
  const what =
    kind === 'minimal'
      ? ({ kind: 'minimal', display: 'needed', ip: '198.51.100.7' } as const)
      : ({ kind: 'full', credential: 'c'.repeat(32) } as const);
  return templates.render(
    module.family,
    fm.template,
    module.overrides(d),
    deviceScope(cfg, d, what, settings),
    module.escape,
  );
}

/** `fn` throws an InputError whose message matches `message`; answers it. */
function refused(fn: () => unknown, message: RegExp): InputError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InputError, `an InputError, not ${String(err)}`);
    assert.match(err.message, message);
    return err;
  }
  assert.fail(`not refused (expected ${message})`);
}

const one = (family: SettingFamily, name: string, value = '1') =>
  parseFamilyItems(family, [{ name, value }], `items.${family}`);

describe('settings: items per file format', () => {
  it('every vendor module describes its family as the domain does', () => {
    for (const m of VENDOR_MODULES)
      for (const v of m.vendors) {
        assert.equal(FAMILY_OF[v], m.family, v);
        assert.equal(m.settings, SETTINGS_FORMATS[m.family as SettingFamily], v);
      }
    assert.deepEqual([...SETTING_FAMILIES].sort(), VENDOR_MODULES.map((m) => m.family).sort());
  });

  it("refuses every item papgate writes, in the full and the minimal file of every family's models", () => {
    for (const [vendor, model, file] of MODELS) {
      const d = device(vendor, model, file);
      const family = FAMILY_OF[vendor];
      const format = SETTINGS_FORMATS[family];
      const written = new Set([
        ...items(family, render(d, file, 'full')),
        ...items(family, render(d, file, 'minimal')),
        ...items(family, render(d, file, 'minimal', [], tlsConfig)),
      ]);
      if (format === null) {
        refused(() => one(family, 'anything'), /takes no settings/);
        continue;
      }
      assert.ok(written.size > 10, `${vendor} ${model}: the items of its files are read`);
      for (const raw of written) {
        // snom writes `user_pass idx="1"`, a setting names it `user_pass[1]`; Poly's attributes
        // without a dot are the XML declaration's.
        const name = raw.replace(/ idx="([0-9]+)"/, '[$1]');
        if (family === 'poly' && !name.includes('.')) continue;
        if (!format.name.test(name)) {
          refused(() => one(family, name), /is not a/);
          continue;
        }
        if ([...RESETS, ...TLS_SETTABLE].some(([f, n]) => f === family && n === name)) {
          one(family, name, family === 'gigaset' ? '17' : '1');
          continue;
        }
        refused(() => one(family, name), /papgate's own/);
        refused(() => one(family, name.toUpperCase()), /papgate's own|is not a/);
      }
    }
  });

  it("refuses the accounts beyond the model's count, and the dial plans", () => {
    refused(() => one('yealink', 'account.40.password'), /papgate's own/);
    refused(() => one('snom', 'user_pass[13]'), /papgate's own/);
    refused(() => one('poly', 'reg.34.auth.password'), /papgate's own/);
    refused(() => one('cisco', 'Password_9_'), /papgate's own/);
    refused(() => one('gigaset', 'BS_IP_Data1.aucS_SIP_PASSWORD_7'), /papgate's own/);
    refused(() => one('panasonic', 'SIP_PASS_24'), /papgate's own/);
    // Dial plans, which could block an emergency number, in the minimal file too (an item stays).
    refused(() => one('yealink', 'dialplan.block_out.number.1', '112'), /papgate's own/);
    refused(() => one('poly', 'dialplan.digitmap', '[2-9]xxx'), /papgate's own/);
    refused(() => one('snom', 'user_dp_str[1]', '!^112$!!d'), /papgate's own/);
    refused(() => one('grandstream', 'P290', '{ x+ }'), /papgate's own/);
    refused(() => one('panasonic', 'DIAL_PLAN_1', 'x'), /papgate's own/);
  });

  describe('one owned list per family: the settings refuse every owned name, gate mode drops it', () => {
    /**
     * Names of every owned pattern, as a setting writes them (snom `name[n]`, a Gigaset ID with its
     * indexes); each pattern must match one of them, so a pattern added without a sample fails.
     */
    const SAMPLES: Record<keyof typeof OWNED, string[]> = {
      yealink: [
        'account.2.proxy_require',
        'template.1.sip_server.1.address',
        'phone_setting.emergency.number',
        'dialplan_dialnow.url',
        'features.hotline_number',
        'handset.1.dial_out_lines',
        'auto_provision.pnp_enable',
        'static.zero_touch.enable',
        'sip.notify_reboot_enable',
      ],
      snom: [
        'user_dp_exp[1]',
        'setting_server',
        'pnp_config',
        'settings_refresh_timer',
        'update_policy',
        'challenge_checksync',
      ],
      poly: [
        'reg.1.thirdPartyName',
        'voIpProt.server.1.address',
        'call.autoOffHook.1.enabled',
        'tone.dtmf.viaRtp',
        'dialplan.digitmap',
        'prov.polling.period',
        'device.set',
        'device.prov.serverName',
        'device.dhcp.bootSrvOpt',
        'voIpProt.SIP.requestValidation.1.request',
      ],
      cisco: ['Provision_Enable', 'Resync_From_SIP', 'Profile_Rule_B', 'Register_1_', 'Alternate_Proxy_2_'],
      gigaset: [
        'S_CONFIGFILE_URL',
        'BS_IP_Data1.aucS_DATA_SERVER[0]',
        'BS_IP_Data.aucS_HTTP_DIGEST_PASSWORD',
        'BS_IP_Data.ucB_DO_CHECK_FOR_PROFILE_UPDATES',
        'BS_IP_Data.ucB_ONESHOT_PROVISIONING_MODE_1',
        'BS_IP_Data1.aucS_SIP_PROVIDER_NAME_2',
        'BS_AE_Subscriber.stMtDat[0].aucTlnName',
        'BS_Accounts.astAccounts[1].uiSendMask',
        'BS_VOIP_Data.astVoipProviders[%].aucSIP_SERVER[%]',
        'BS_VOIP_Data.astVoipAccounts[%].aucS_SIP_PASSWORD[0]',
        'BS_VOIP_Data.NameOnIdleDisplay',
      ],
      grandstream: ['P234', 'P2312', 'P401', 'P2412'],
      panasonic: [
        'PROVISION_ENABLE',
        'CFG_RESYNC_FROM_SIP',
        'HTTP_AUTH_PASS',
        'OPTION66_ENABLE',
        'SIP_2NDRGSTR_ADDR_1',
        'HOT_LINE_NUMBER_1',
        'EMERGENCY_CALL1',
        'DIAL_PLAN_NOT_MATCH_ENABLE_1',
      ],
    };

    /** An upstream file of the family setting `name` to MARK beside one ordinary item, and papgate's own file. */
    const MARK = 'upstream-mark';
    const FILES: Record<
      keyof typeof OWNED,
      (name: string) => { upstream: string; own: string; kept: string }
    > = {
      yealink: (n) => ({
        upstream: `#!version:1.0.0.1\n${n} = ${MARK}\nlang.gui = English\n`,
        own: '#!version:1.0.0.1\n',
        kept: 'lang.gui = English',
      }),
      panasonic: (n) => {
        const head = '# Panasonic SIP Phone Standard Format File # DO NOT CHANGE THIS LINE!\n';
        return { upstream: `${head}${n}="${MARK}"\nTIME_ZONE="60"\n`, own: head, kept: 'TIME_ZONE="60"' };
      },
      snom: (n) => {
        const [, base, idx] = /^([^[]+)(?:\[(\d+)\])?$/.exec(n)!;
        const at = idx ? ` idx="${idx}"` : '';
        const file = (s: string) =>
          `<?xml version="1.0" encoding="utf-8"?>\n<settings>\n<phone-settings>\n${s}</phone-settings>\n</settings>\n`;
        return {
          upstream: file(`<${base}${at} perm="R">${MARK}</${base}>\n<language perm="R">English</language>\n`),
          own: file('<user_pass idx="1" perm="R">p</user_pass>\n'),
          kept: '<language perm="R">English</language>',
        };
      },
      grandstream: (n) => {
        const file = (s: string) =>
          `<?xml version="1.0" encoding="UTF-8"?>\n<gs_provision version="1">\n<config version="1">\n${s}</config>\n</gs_provision>\n`;
        return {
          upstream: file(`<${n}>${MARK}</${n}>\n<P64>x</P64>\n`),
          own: file('<P34>p</P34>\n'),
          kept: '<P64>x</P64>',
        };
      },
      cisco: (n) => {
        const file = (s: string) =>
          `<?xml version="1.0" encoding="UTF-8"?>\n<flat-profile>\n${s}</flat-profile>\n`;
        return {
          upstream: file(`<${n}>${MARK}</${n}>\n<Time_Zone>x</Time_Zone>\n`),
          own: file('<Password_1_>p</Password_1_>\n'),
          kept: '<Time_Zone>x</Time_Zone>',
        };
      },
      poly: (n) => ({
        upstream: `<?xml version="1.0" encoding="UTF-8"?>\n<PHONE>\n<X ${n}="${MARK}" lcl.ml.lang="English"/>\n</PHONE>\n`,
        own: '<?xml version="1.0" encoding="UTF-8"?>\n<polycomConfig>\n<reg reg.1.auth.password="p"/>\n</polycomConfig>\n',
        kept: 'lcl.ml.lang="English"',
      }),
      gigaset: (n) => {
        const item = (id: string, v: string) =>
          /^S_/.test(id)
            ? `<${id} class="string" value='${v}'/>`
            : `<SYMB_ITEM ID="${id}" class="symb_item" value='${v}'/>`;
        const file = (s: string) =>
          `<?xml version="1.0" encoding="UTF-8"?>\n<ProviderFrame xmlns="http://www.gigaset.com/ProviderFrame">\n<Provider>\n${s}</Provider>\n</ProviderFrame>\n`;
        const kept = item('BS_IP_Data1.aucS_TIMESERVER', '"pool.ntp.org"');
        return {
          upstream: file(`${item(n, `"${MARK}"`)}\n${kept}\n`),
          own: file(`${item('BS_IP_Data1.aucS_SIP_PASSWORD', '"p"')}\n`),
          kept,
        };
      },
    };

    for (const family of Object.keys(OWNED) as (keyof typeof OWNED)[])
      it(family, () => {
        for (const re of OWNED[family])
          assert.ok(
            SAMPLES[family].some((n) => re.test(n.replace(/\[[^\]]*\]/g, family === 'gigaset' ? '[]' : ''))),
            `${family}: no sample of ${re}`,
          );
        for (const name of SAMPLES[family]) {
          if (SETTINGS_FORMATS[family]!.name.test(name))
            refused(() => one(family, name, family === 'gigaset' ? '"1"' : '1'), /papgate's own/);
          const { upstream, own, kept } = FILES[family](name);
          const merged = FORMATS[family].merge(upstream, own);
          assert.ok(merged.includes(kept), `${family}: ${kept} kept beside ${name}\n${merged}`);
          assert.ok(
            upstream.includes(MARK) && !merged.includes(MARK),
            `${family}: ${name} dropped\n${merged}`,
          );
        }
      });

    it('an owned name at any index, in any spelling of it, and on every index ([%])', () => {
      for (const name of [
        'BS_VOIP_Data.astVoipAccounts[%].aucS_SIP_PASSWORD[0]',
        'BS_VOIP_Data.astVoipAccounts[01].aucS_SIP_PASSWORD[%]',
        'BS_VOIP_Data.astVoipProviders[%].aucSIP_SERVER[0]',
        'BS_AE_Subscriber.stMtDat[%].aucTlnName',
        'BS_Accounts.astAccounts[%].uiReceiveMask',
        'BS_IP_Data1.aucS_DATA_SERVER[%]',
      ])
        refused(() => one('gigaset', name, '"x"'), /papgate's own/);
      for (const name of ['setting_server[1]', 'challenge_checksync[1]', 'user_pass[0001]', 'USER_HOST[3]'])
        refused(() => one('snom', name), /papgate's own/);
      // A P-value is a number: the phone reads P0237 as papgate's P237.
      for (const name of ['P0237', 'P00034', 'P0402'])
        refused(() => one('grandstream', name), /papgate's own/);
      // Not owned: an item of an account papgate does not write.
      one('gigaset', 'BS_VOIP_Data.astVoipAccounts[%].ucB_CALL_MANAGER_SUPPORT', '1');
      one('snom', 'fkey[1]', 'line');
    });
  });

  it('grandstream: the minimal file switches off and clears accounts 2 to 6, the full file writes or clears them', () => {
    const d = device('grandstream', 'GXP2170', 'cfg000b82000601.xml');
    const two = { ...d, accounts: [ACCOUNT, { ...ACCOUNT, user: 'acme-4712', password: 'S3cret-second' }] };
    const p = (body: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1];
    for (const body of [
      render(d, 'cfg000b82000601.xml', 'minimal'),
      render(two, 'cfg000b82000601.xml', 'minimal'),
    ])
      for (const n of [2, 3, 4, 5, 6]) {
        assert.equal(p(body, `P${n + 2}01`), '0', `account ${n} off`);
        for (const x of ['02', '04', '05', '06', '07', '17'])
          assert.equal(p(body, `P${n + 2}${x}`), '', `P${n + 2}${x}`);
      }
    const full = render(two, 'cfg000b82000601.xml', 'full');
    assert.equal(p(full, 'P401'), '1');
    assert.equal(p(full, 'P406'), 'S3cret-second');
    assert.equal(p(full, 'P404'), 'acme-4712');
    assert.equal(p(full, 'P501'), '0');
    assert.equal(p(full, 'P506'), '');
    assert.equal(p(full, 'P901'), undefined, 'no account beyond the sixth');
  });

  it("the minimal file resets account 1's transport and SRTP of every family; the full file leaves them to the settings", () => {
    for (const [vendor, model, file] of MODELS) {
      const d = device(vendor, model, file);
      const family = FAMILY_OF[vendor];
      const minimal = render(d, file, 'minimal');
      const full = render(d, file, 'full');
      // The N720 writes its provider's transport; the N510 names none in the references, Patton's
      // file replaces the whole configuration.
      const resets = RESETS.filter(
        ([f, n]) => f === family && !(model.startsWith('N510') && n.startsWith('BS_VOIP_Data.')),
      );
      if (family !== 'patton' && !model.startsWith('N510'))
        assert.ok(resets.length > 0, `${vendor} ${model}: resets named`);
      for (const [, name, written, where] of resets) {
        if (where && !where.test(minimal)) continue;
        assert.match(minimal, written, `${vendor} ${model} minimal: ${name}`);
        assert.doesNotMatch(full, written, `${vendor} ${model} full: ${name}`);
      }
    }
    assert.match(
      render(device('yealink', 'W80DM', '001565000104.cfg'), '001565000104.cfg', 'minimal'),
      /^template\.1\.sip_server\.1\.transport_type = 0$/m,
    );
    for (const [family, name] of RESETS) one(family, name, family === 'gigaset' ? '17' : '1');
  });

  it('with SIP_TLS_REGISTRAR the minimal file asks the families that can for TLS, SRTP mandatory and certificate checks; the others stay on UDP', () => {
    // Each value as the references write it (config/templates/README.md, "Account 1's transport and SRTP").
    const tls: Partial<Record<Vendor, RegExp[]>> = {
      yealink: [
        /^account\.1\.sip_server\.1\.address = auth\.papgate\.test$/m,
        /^account\.1\.sip_server\.1\.port = 5061$/m,
        /^account\.1\.outbound_proxy\.1\.port = 5061$/m,
        /^account\.1\.outbound_port = 5061$/m,
        /^account\.1\.sip_server\.1\.transport_type = 2$/m,
        /^account\.1\.transport = 2$/m,
        /^account\.1\.srtp_encryption = 2$/m,
        /^static\.trusted_certificates\.url = http:\/\/prov\.papgate\.test:8081\/sip-ca\.pem$/m,
        /^static\.security\.trust_certificates = 1$/m,
        /^static\.security\.cn_validation = 1$/m,
      ],
      snom: [
        // the transport in user_outbound only, as Wazo, FusionPBX's D785 and NethVoice write it
        /<user_host idx="1" perm="R">auth\.papgate\.test:5061<\/user_host>/,
        /<user_outbound idx="1" perm="R">auth\.papgate\.test:5061;transport=tls<\/user_outbound>/,
        /<user_srtp idx="1" perm="R">on<\/user_srtp>/,
        /<user_savp idx="1" perm="R">mandatory<\/user_savp>/,
        /<tls_server_authentication perm="R">on<\/tls_server_authentication>/,
      ],
      poly: [
        /reg\.1\.server\.1\.port="5061"/,
        /reg\.1\.server\.1\.transport="TLS"/,
        /reg\.1\.outboundProxy\.port="5061" reg\.1\.outboundProxy\.transport="TLS"/,
        /sec\.srtp\.enable="1" sec\.srtp\.offer="1" sec\.srtp\.require="1"/,
        /sec\.TLS\.SIP\.strictCertCommonNameValidation="1"/,
        // emergency calls by routing server 1, whose transport no reference names: SIP_REGISTRAR over UDP
        /dialplan\.routing\.server\.1\.address="auth\.papgate\.test" dialplan\.routing\.server\.1\.port="5070"/,
      ],
      grandstream: [
        /<P47>auth\.papgate\.test:5061<\/P47>/,
        /<P48>auth\.papgate\.test:5061<\/P48>/,
        /<P130>2<\/P130>/,
        /<P2329>0<\/P2329>/,
        /<P183>2<\/P183>/,
        /<P2311>1<\/P2311>/,
        /<P2367>1<\/P2367>/,
      ],
    };
    for (const [vendor, model, file] of MODELS) {
      const d = device(vendor, model, file);
      const minimal = render(d, file, 'minimal', [], tlsConfig);
      const expected = tls[vendor];
      if (expected) {
        for (const re of expected) assert.match(minimal, re, `${vendor} ${model}`);
        // no UDP reset beside the TLS items
        for (const [f, name, written] of RESETS)
          if (f === FAMILY_OF[vendor]) assert.doesNotMatch(minimal, written, `${vendor} ${model}: ${name}`);
      } else {
        assert.equal(minimal, render(d, file, 'minimal'), `${vendor} ${model}: as without TLS`);
      }
      assert.doesNotMatch(
        render(d, file, 'full', [], tlsConfig),
        /sip-ca|5061|transport=tls|TLS"/,
        `${vendor} ${model} full`,
      );
    }
    const dect = render(
      device('yealink', 'W80DM', '001565000104.cfg'),
      '001565000104.cfg',
      'minimal',
      [],
      tlsConfig,
    );
    assert.match(dect, /^template\.1\.sip_server\.1\.transport_type = 2$/m);
    assert.match(dect, /^template\.1\.sip_server\.1\.port = 5061$/m);
    // A model declared with EXTRA_MODELS stays on UDP in the families whose models differ: a GXP2020
    // would read P130 2 as TCP (phone-files review).
    for (const [vendor, known, model, file] of [
      ['grandstream', 'GXP2170', 'GXP2020', 'cfg000b82000609.xml'],
      ['poly', 'VVX 450', 'VVX 999', '0004f2000309-phone.cfg'],
    ] as const) {
      const d = { ...device(vendor, known, file), model };
      assert.equal(render(d, file, 'minimal', [], tlsConfig), render(d, file, 'minimal'), model);
    }
    // The GXP2000 ("1 - UDP, 2 - TCP") and the Android GXV stay on UDP.
    for (const model of ['GXP2000', 'GXV3370']) {
      const d = device('grandstream', model, 'cfg000b82000608.xml');
      assert.equal(
        render(d, 'cfg000b82000608.xml', 'minimal', [], tlsConfig),
        render(d, 'cfg000b82000608.xml', 'minimal'),
        model,
      );
    }
    // The SoundPoint IP 300/500 take no TLS (their guide): they stay on UDP, as Spectralink does.
    const sp = device('poly', 'SPIP501', '0004f2000303-phone.cfg');
    assert.equal(
      render(sp, '0004f2000303-phone.cfg', 'minimal', [], tlsConfig),
      render(sp, '0004f2000303-phone.cfg', 'minimal'),
    );
    // Without SIP_TLS_CA_FILE no CA URL, the checks all the same.
    const noCa = loadConfig({
      PROVISIONING_BASE_URL: 'https://prov.papgate.test:8443',
      SIP_TLS_REGISTRAR: 'auth.papgate.test:5062',
      SIP_TLS_EMERGENCY_SRTP: '1',
    });
    const y = render(device('yealink', 'T54W', '001565000101.cfg'), '001565000101.cfg', 'minimal', [], noCa);
    assert.doesNotMatch(y, /trusted_certificates\.url/);
    assert.match(y, /^static\.security\.trust_certificates = 1$/m);
    assert.match(y, /^account\.1\.sip_server\.1\.port = 5062$/m);
  });

  it('refuses what would break the file or hide an owned name, naming the item', () => {
    const e = refused(
      () =>
        parseFamilyItems(
          'yealink',
          [
            { name: 'local_time.ntp_server1', value: 'pool.ntp.org' },
            {
              name: 'local_time.time_zone_name',
              value: 'x\nstatic.auto_provision.server.url = http://evil/',
            },
          ],
          'items.yealink',
        ),
      /items\.yealink\.1\.value .*no control characters/,
    );
    assert.equal(e.field, 'items.yealink.1.value');
    refused(
      () => one('snom', 'language', 'en</language><setting_server perm="R">x'),
      /no control characters, <, > or "/,
    );
    refused(() => one('snom', 'language', '</setting>'), /must hold/);
    refused(() => one('poly', 'lcl.ml.lang', 'x" prov.server="y'), /must hold/);
    refused(() => one('cisco', 'Time_Zone', 'GMT<x'), /must hold/);
    refused(() => one('grandstream', 'P64', 'a"b'), /must hold/);
    refused(() => one('gigaset', 'BS_IP_Data1.aucS_TIMESERVER', `'"x"'`), /must hold/);
    refused(() => one('gigaset', 'BS_IP_Data1.aucS_TIMESERVER', 'pool.ntp.org'), /must hold/);
    for (const list of ['0x00,', ',0x00', '0x00,,0x00', '0x00, 0x00', '0x00,1', '0x00,"a"', '0x0g,0x00'])
      refused(() => one('gigaset', 'BS_CUSTOM.aucKdsPin[%]', list), /must hold/);
    refused(() => one('panasonic', 'TIME_ZONE', '60" CFG_STANDARD_FILE_PATH="x'), /must hold/);
    refused(() => one('panasonic', 'TIME_ZONE', 'a\\'), /must hold/);
    // An owned name in another case, with spaces, with a line break.
    refused(() => one('yealink', 'Static.Auto_Provision.Server.URL'), /papgate's own/);
    refused(() => one('yealink', ' static.auto_provision.server.url'), /is not a Yealink key/);
    refused(() => one('yealink', 'static.auto_provision.server.url '), /is not a Yealink key/);
    refused(() => one('yealink', 'a\nstatic.auto_provision.server.url'), /"a\\u000astatic/);
    refused(() => one('snom', 'SETTING_SERVER'), /papgate's own/);
    refused(() => one('snom', 'setting_server perm="R"'), /is not a snom setting/);
    refused(() => one('grandstream', 'p237'), /is not a Grandstream P-value/);
    refused(() => one('grandstream', 'P237'), /papgate's own/);
    refused(() => one('panasonic', 'cfg_master_file_path'), /papgate's own/);
    refused(
      () =>
        parseFamilyItems(
          'yealink',
          [
            { name: 'a.b', value: '1' },
            { name: 'A.B', value: '2' },
          ],
          'items.yealink',
        ),
      /items\.yealink\.1\.name "A\.B" is given twice/,
    );
    refused(
      () =>
        parseFamilyItems(
          'yealink',
          Array.from({ length: 300 }, (_, i) => ({ name: `a.b${i}`, value: 'x'.repeat(120) })),
          'items.yealink',
        ),
      /items\.yealink holds more than 32768 characters/,
    );
    refused(() => parseLayerChange({ items: { acme: [] } }, true), /the families are/);
    refused(() => parseLayerChange({ common: { timeZone: 'Mars/Olympus' } }, true), /IANA time zone/);
    refused(() => parseLayerChange({ common: { ntpServer: 'a b' } }, true), /host name/);
    refused(() => parseLayerChange({ common: { phoneLanguage: 'german' } }, true), /must be one of de, en/);
    refused(() => parseLayerChange({ common: { timeZone: 'UTC' } }, false), /no common settings/);
  });

  it('takes ordinary items of every family', () => {
    assert.deepEqual(one('yealink', 'lang.gui', 'German'), [{ name: 'lang.gui', value: 'German' }]);
    one('yealink', 'account.1.codec.pcmu.enable', '1');
    one('snom', 'fkey[3]', 'blf <sip:100@example.net>'.replace(/[<>]/g, ''));
    one('poly', 'tcpIpApp.sntp.address', 'pool.ntp.org');
    one('cisco', 'Time_Zone', 'GMT+01:00');
    one('gigaset', 'BS_IP_Data1.aucS_TIMESERVER', '"pool.ntp.org"');
    one('gigaset', 'BS_IP_Data1.ucI_TIMEZONE', '0x3c');
    // The system PIN as W N510 base.tpl:139-141 writes it: a list of bytes.
    one('gigaset', 'BS_CUSTOM.aucKdsPin[%]', '0x00,0x00');
    one('gigaset', 'BS_CUSTOM.aucKdsPin[0]', '0x12,0x34');
    one('grandstream', 'P64', 'CET-1CEST');
    one('panasonic', 'TIME_ZONE', '60');
  });

  it('checks the operator default layer and MINIMAL_SETTINGS at start-up, naming the item', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-settings-')), 'default.json');
    fs.writeFileSync(file, JSON.stringify({ yealink: [{ name: 'lang.gui', value: 'German' }] }));
    assert.deepEqual(loadConfig({ SETTINGS_DEFAULT_FILE: file }).settingsDefault, {
      yealink: [{ name: 'lang.gui', value: 'German' }],
    });
    fs.writeFileSync(
      file,
      JSON.stringify({ yealink: [{ name: 'static.auto_provision.server.url', value: 'x' }] }),
    );
    assert.throws(
      () => loadConfig({ SETTINGS_DEFAULT_FILE: file }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.message.includes(file) &&
        /items\.yealink\.0\.name .*papgate's own/.test(e.message),
    );
    fs.writeFileSync(file, '{"yealink": [');
    assert.throws(() => loadConfig({ SETTINGS_DEFAULT_FILE: file }), /SETTINGS_DEFAULT_FILE: .*JSON/);
    assert.throws(
      () => loadConfig({ SETTINGS_DEFAULT_FILE: `${file}.missing` }),
      /SETTINGS_DEFAULT_FILE: .*ENOENT/,
    );
    assert.deepEqual(loadConfig({ MINIMAL_SETTINGS: 'timeZone, phoneLanguage' }).minimalSettings, [
      'timeZone',
      'phoneLanguage',
    ]);
    assert.throws(
      () => loadConfig({ MINIMAL_SETTINGS: 'timeZone,password' }),
      /MINIMAL_SETTINGS: "password"/,
    );
  });

  it('a later layer replaces an earlier item of the same name in its place', () => {
    assert.deepEqual(
      mergeItems([
        [
          { name: 'a', value: 'common' },
          { name: 'b', value: 'common' },
        ],
        [
          { name: 'B', value: 'tenant' },
          { name: 'c', value: 'tenant' },
        ],
        [{ name: 'a', value: 'device' }],
      ]),
      [
        { name: 'a', value: 'device' },
        { name: 'B', value: 'tenant' },
        { name: 'c', value: 'tenant' },
      ],
    );
  });

  describe('rendered where each format wants them', () => {
    const SAMPLE: Record<SettingFamily, { items: SettingItem[]; shows: RegExp; after?: RegExp } | null> = {
      yealink: {
        items: [{ name: 'local_time.ntp_server1', value: 'pool.ntp.org' }],
        shows: /^local_time\.ntp_server1 = pool\.ntp\.org$/m,
        after: /^account\.1\.enable = 1$/m,
      },
      snom: {
        items: [
          { name: 'timezone', value: 'GER+1' },
          { name: 'fkey[3]', value: 'blf 100 & co' },
        ],
        shows: /<timezone perm="R">GER\+1<\/timezone>\n {4}<fkey idx="3" perm="R">blf 100 &amp; co<\/fkey>/,
      },
      poly: {
        items: [
          { name: 'tcpIpApp.sntp.address', value: 'pool.ntp.org' },
          { name: 'lcl.ml.lang', value: 'Deutsch_Deutschland' },
        ],
        shows: /<papgate tcpIpApp\.sntp\.address="pool\.ntp\.org" lcl\.ml\.lang="Deutsch_Deutschland"\/>/,
      },
      cisco: {
        items: [{ name: 'Time_Zone', value: 'GMT+01:00' }],
        shows: /<Time_Zone>GMT\+01:00<\/Time_Zone>/,
      },
      gigaset: {
        items: [
          { name: 'BS_IP_Data1.aucS_TIMESERVER', value: '"pool.ntp.org"' },
          { name: 'BS_IP_Data1.ucI_TIMEZONE', value: '0x3c' },
        ],
        shows:
          /<SYMB_ITEM ID="BS_IP_Data1\.aucS_TIMESERVER" class="symb_item" value='"pool\.ntp\.org"'\/>\n {4}<SYMB_ITEM ID="BS_IP_Data1\.ucI_TIMEZONE" class="symb_item" value="0x3c"\/>/,
      },
      grandstream: { items: [{ name: 'P64', value: 'CET-1CEST' }], shows: /<P64>CET-1CEST<\/P64>/ },
      panasonic: { items: [{ name: 'TIME_ZONE', value: '60' }], shows: /^TIME_ZONE="60"$/m },
      patton: null,
    };
    for (const [vendor, model, file] of MODELS) {
      const sample = SAMPLE[FAMILY_OF[vendor]];
      if (sample === null) continue;
      it(`${vendor} ${model}`, () => {
        const d = device(vendor, model, file);
        const plain = render(d, file, 'full');
        const body = render(d, file, 'full', sample.items);
        assert.match(body, sample.shows);
        assert.doesNotMatch(plain, sample.shows);
        // Only the items were added: the file without them is the file as it was.
        const added = body.split('\n').filter((l) => !plain.split('\n').includes(l));
        assert.ok(added.length >= 1 && added.length <= sample.items.length, added.join('\n'));
        // Inside the file: an XML body still ends with its root element, after the items.
        const last = body.trimEnd().split('\n').pop()!;
        assert.equal(last, plain.trimEnd().split('\n').pop());
        if (sample.after) assert.ok(body.search(sample.shows) > body.search(sample.after));
        if (body.startsWith('<?xml')) assert.equal(XMLValidator.validate(body), true, `${vendor} ${model}`);
      });
    }
  });
});
