import assert from 'node:assert/strict';
import { loadConfig } from '../src/config';
import { parseNewDevice, type Device, type SipAccount, type Vendor } from '../src/domain/device';
import { userAgentMismatch } from '../src/provisioning/request';
import type { MinimalDisplay } from '../src/domain/display';
import { restrictedSipPassword } from '../src/domain/pap';
import type { SettingItem } from '../src/domain/settings';
import { deviceScope } from '../src/provisioning/scope';
import { TemplateSet } from '../src/provisioning/templates';
import { matchFile, moduleFor } from '../src/provisioning/vendors';
import { httpCredentialsIn, OVERRIDE_OFF } from './support/credentials';
import { ACCOUNT, credentialIn, ProvisioningFixture, request } from './support/http';
import { isReset, items, TLS_SETTABLE } from './support/items';

/**
 * Each vendor's files checked item by item against the production references cited in
 * config/templates/README.md. Rendering goes through the same TemplateSet and scope as the server.
 */
const config = loadConfig({
  PROVISIONING_BASE_URL: 'http://prov.papgate.test:8081',
  SIP_REGISTRAR: 'auth.papgate.test:5070',
  SIP_REALM: 'papgate',
  EMERGENCY_NUMBERS: '112,110',
});
/** The same, account 1 over TLS where the family can (SIP_TLS_REGISTRAR). */
const TLS_CONFIG = loadConfig({
  PROVISIONING_BASE_URL: 'http://prov.papgate.test:8081',
  SIP_REGISTRAR: 'auth.papgate.test:5070',
  SIP_TLS_REGISTRAR: 'auth.papgate.test:5061',
  SIP_TLS_EMERGENCY_SRTP: '1',
  SIP_REALM: 'papgate',
  EMERGENCY_NUMBERS: '112,110',
});
const templates = TemplateSet.load();
const SECOND: SipAccount = { ...ACCOUNT, user: 'acme-4712', password: 'S3cret-second' };

function device(vendor: Vendor, model: string, mac: string, accounts: SipAccount[]): Device {
  const d = parseNewDevice({ mac, vendor, model, site: 'HQ', accounts });
  return { ...d, sipPassword: 'restricted-pw', tenant: 'acme' } as unknown as Device;
}

const FETCHED_FROM = '198.51.100.7';
/** A model of each vendor of the Poly family, which writes the same files for both. */
const POLY_MODEL = { poly: 'VVX 450', spectralink: '8440' } as const;

function render(
  d: Device,
  file: string,
  kind: 'minimal' | 'full',
  cfg = config,
  display: MinimalDisplay = 'needed',
  settings: readonly SettingItem[] = [],
): string {
  const module = moduleFor(d.vendor);
  const fm = module.matchFile(file);
  assert.ok(fm && fm.role === 'config', `${file} is a configuration of ${d.vendor}`);
  const what =
    kind === 'minimal'
      ? ({ kind: 'minimal', display, ip: FETCHED_FROM, failedUntil: Date.now() + 60_000 } as const)
      : ({ kind: 'full', credential: 'c'.repeat(32) } as const);
  return templates.render(
    module.family,
    fm.template,
    module.overrides(d),
    deviceScope(cfg, d, what, settings),
    module.escape,
  );
}

interface Family {
  vendor: Vendor;
  model: string;
  mac: string;
  file: string;
  /** Minimal: the restricted account's registrar or outbound proxy is papgate's. */
  proxySet: RegExp;
  /** Full: that outbound proxy is explicitly undone. */
  proxyUndone: RegExp;
  /** Both files pin RFC 2833 telephone events. */
  rfc2833: RegExp | null;
  /** Minimal: a warm line (with a delay) to the authentication service, or none at all. */
  warm: RegExp | null;
  /** Minimal and full: the emergency numbers, where the vendor has a setting. */
  emergency: RegExp | null;
  /** Both: the provisioning URL; `interval` reads the re-check interval and its unit's range. */
  url: RegExp;
  interval: { re: RegExp; min: number; max: number } | null;
  /** What makes the phone accept check-sync (null: accepted by default, see config/templates/README.md). */
  checkSync: RegExp | null;
}

const FAMILIES: Family[] = [
  ...['T54W', 'T46G', 'W60B'].map((model, i): Family => ({
    vendor: 'yealink',
    model,
    mac: `00156500010${i}`,
    file: `00156500010${i}.cfg`,
    proxySet:
      /account\.1\.outbound_proxy_enable = 1\n(?:.*\n)*account\.1\.outbound_proxy\.1\.address = auth\.papgate\.test\naccount\.1\.outbound_proxy\.1\.port = 5070/,
    proxyUndone:
      /account\.1\.outbound_proxy_enable = 0\n(?:.*\n)*account\.1\.outbound_proxy\.1\.address = %NULL%/,
    rfc2833: /account\.1\.dtmf\.type = 1$/m,
    warm: model === 'W60B' ? null : /features\.hotline_number = \*89\nfeatures\.hotline_delay = 4$/m,
    emergency: /phone_setting\.emergency\.number = 112,110$/m,
    url: /static\.auto_provision\.server\.url = http:\/\/prov\.papgate\.test:8081\//,
    interval: { re: /static\.auto_provision\.repeat\.minutes = ([0-9]+)/, min: 1, max: 43200 },
    checkSync: null,
  })),
  // DECT managers and multi-cell bases take the SIP server (and outbound proxy) from a server
  // template (Wazo wazo_yealink/v87/templates/base-dect.tpl:62-72,82; FusionPBX yealink/w80).
  ...['W80DM', 'W75DM', 'W90DM', 'W70B', 'W80B'].map((model, i): Family => ({
    vendor: 'yealink',
    model,
    mac: `249ad800010${i}`,
    file: `249ad800010${i}.cfg`,
    proxySet:
      /template\.1\.outbound\.enable = 1\ntemplate\.1\.outbound\.1\.address = auth\.papgate\.test\ntemplate\.1\.outbound\.1\.port = 5070/,
    proxyUndone:
      /template\.1\.outbound\.enable = 0\ntemplate\.1\.outbound\.1\.address = %NULL%\ntemplate\.1\.outbound\.1\.port = %NULL%/,
    rfc2833: /account\.1\.dtmf\.type = 1$/m,
    warm: null,
    emergency: /phone_setting\.emergency\.number = 112,110$/m,
    url: /static\.auto_provision\.server\.url = http:\/\/prov\.papgate\.test:8081\//,
    interval: { re: /static\.auto_provision\.repeat\.minutes = ([0-9]+)/, min: 1, max: 43200 },
    checkSync: null,
  })),
  ...[
    ['snom710', 'snom710-000413000201.htm'],
    ['D785', '000413000202.xml'],
  ].map(([model, file], i): Family => ({
    vendor: 'snom',
    model: model!,
    mac: `00041300020${i + 1}`,
    file: file!,
    proxySet: /<user_outbound idx="1" perm="R">auth\.papgate\.test:5070</,
    proxyUndone: /<user_outbound idx="1" perm="R"><\/user_outbound>/,
    rfc2833: /<user_dtmf_info idx="1" perm="R">off</,
    warm: null,
    emergency: null,
    // FusionPBX snom/720/{$mac}.xml:19; the phone puts its MAC in place of `{mac}`.
    url: /<setting_server perm="R">http:\/\/(?:[0-9a-f]{12}:c{32}@)?prov\.papgate\.test:8081\/(?:d\/c{32}\/)?\{mac\}\.xml<\/setting_server>/,
    interval: { re: /<settings_refresh_timer perm="R">([0-9]+)</, min: 60, max: 2592000 },
    // FusionPBX snom/720/{$mac}.xml:38: papgate's check-sync carries no credentials.
    checkSync: /<challenge_checksync perm="R">off<\/challenge_checksync>/,
  })),
  ...(
    [
      ['poly', 'VVX 450', '0004f2000301'],
      ['spectralink', '8440', '00907a000302'],
    ] as const
  ).map(([vendor, model, mac]): Family => ({
    vendor,
    model,
    mac,
    file: `${mac}-phone.cfg`,
    proxySet: /reg\.1\.outboundProxy\.address="auth\.papgate\.test" reg\.1\.outboundProxy\.port="5070"/,
    proxyUndone: /reg\.1\.outboundProxy\.address="" reg\.1\.outboundProxy\.port=""/,
    rfc2833: /tone\.dtmf\.viaRtp="1" tone\.dtmf\.rfc2833Control="1"/,
    warm: null,
    emergency:
      /dialplan\.routing\.emergency\.1\.value="112" dialplan\.routing\.emergency\.1\.server\.1="1" dialplan\.routing\.emergency\.2\.value="110"/,
    url: /device\.prov\.serverName="http:\/\/prov\.papgate\.test:8081\//,
    // FusionPBX app/polycom/app_config.php:793: "Only an integer >= 3600 is valid".
    interval: { re: /prov\.polling\.period="([0-9]+)"/, min: 3600, max: 2592000 },
    checkSync: null,
  })),
  ...(
    [
      ['cisco', 'SPA112', '00d0b8000401'],
      ['cisco', 'SPA122', '00d0b8000402'],
      ['linksys', 'PAP2T', '0018f8000403'],
      ['linksys', 'SPA2102', '0018f8000404'],
    ] as const
  ).map(([vendor, model, mac]): Family => ({
    vendor,
    model,
    mac,
    file: `${mac}.xml`,
    proxySet:
      /<Use_Outbound_Proxy_1_>Yes<\/Use_Outbound_Proxy_1_>\n\s*<Outbound_Proxy_1_>auth\.papgate\.test:5070</,
    proxyUndone:
      /<Use_Outbound_Proxy_1_>No<\/Use_Outbound_Proxy_1_>\n\s*<Outbound_Proxy_1_><\/Outbound_Proxy_1_>/,
    rfc2833: /<DTMF_Tx_Method_1_>AVT</,
    warm: /<Dial_Plan_1_>\( P4 &lt;:\*89&gt; \| 112S0 \| 110S0 \| \[x\*#\]\. \)</,
    emergency: /112S0 \| 110S0 \|/,
    url: /<Profile_Rule>(?:\[--uid [0-9a-f]{12} --pwd c{32}\])?http:\/\/prov\.papgate\.test:8081\/(?:d\/c{32}\/)?\$MA\.xml</,
    interval: { re: /<Resync_Periodic>([0-9]+)</, min: 60, max: 2592000 },
    checkSync: /<Resync_From_SIP>Yes<[\s\S]*<Auth_Resync-Reboot_1_>No</,
  })),
  {
    vendor: 'gigaset',
    model: 'N510 IP PRO',
    mac: '7c2f80000501',
    file: '7C2F80000501.xml',
    proxySet:
      /aucS_OUTBOUND_PROXY" class="symb_item" value='"auth\.papgate\.test"'\/>\n.*uiI_OUTBOUND_PROXY_PORT" class="symb_item" value="0x13ce"/,
    proxyUndone:
      /ucI_OUTBOUND_PROXY_MODE" class="symb_item" value="0x1"\/>\n.*aucS_OUTBOUND_PROXY" class="symb_item" value='""'/,
    rfc2833:
      /ucB_DTMF_TX_MODE_AUTO" class="symb_item" value="0"\/>\n.*ucI_DTMF_TX_MODE_BITS" class="symb_item" value="2"/,
    warm: null,
    emergency: null,
    url: /<S_CONFIGFILE_URL class="string" value='"prov\.papgate\.test:8081\/(?:d\/c{32}\/)?7C2F80000501\.xml"'\/>/,
    interval: null,
    checkSync: null,
  },
  {
    vendor: 'gigaset',
    model: 'N720 DM PRO',
    mac: '7c2f80000502',
    file: '7C2F80000502.xml',
    proxySet:
      /ucOUTBOUND_PROXY_MODE" class="symb_item" value="0"\/>\n.*aucOUTBOUND_PROXY\[%\]" class="symb_item" value='"auth\.papgate\.test"'/,
    proxyUndone:
      /ucOUTBOUND_PROXY_MODE" class="symb_item" value="2"\/>\n.*aucOUTBOUND_PROXY\[%\]" class="symb_item" value='""'/,
    rfc2833: /BS_VOIP_Data\.ucI_DTMF_TX_MODE_BITS" class="symb_item" value="2"/,
    warm: null,
    emergency: null,
    url: /<S_CONFIGFILE_URL class="string" value='"prov\.papgate\.test:8081\/(?:d\/c{32}\/)?7C2F80000502\.xml"'\/>/,
    interval: null,
    checkSync: null,
  },
  {
    vendor: 'patton',
    model: 'SN4112',
    mac: '00a0ba000601',
    file: '00a0ba000601.cfg',
    proxySet: /interface sip IF_SIP1\n.*\n.*\n\s+remote auth\.papgate\.test 5070/,
    proxyUndone: /interface sip IF_SIP1\n.*\n.*\n\s+remote sip\.acme\.example 5080/,
    rfc2833: /^\s+dtmf-relay rtp$/m,
    warm: null,
    emergency: null,
    url: /location 1 http:\/\/(?:[0-9a-f]{12}:c{32}@)?prov\.papgate\.test:8081\/(?:d\/c{32}\/)?\$\(system\.mac\)\.cfg/,
    interval: null,
    checkSync:
      /notify check-sync accept[\s\S]*condition sip gateway:GW_SIP NOTIFY_CHECK_SYNC_RELOAD|condition sip gateway:GW_SIP NOTIFY_CHECK_SYNC_RELOAD[\s\S]*notify check-sync accept/,
  },
  ...['GXP2170', 'GRP2614'].map((model, i): Family => ({
    vendor: 'grandstream',
    model,
    mac: `000b8200070${i}`,
    file: `cfg000b8200070${i}.xml`,
    proxySet: /<P48>auth\.papgate\.test:5070<\/P48>/,
    proxyUndone: /<P48><\/P48>/,
    rfc2833: /<P2301>0<\/P2301>\n\s*<P2302>1<\/P2302>\n\s*<P2303>0<\/P2303>/,
    warm: null,
    emergency: null,
    // P237 is a directory: the phone appends `/cfg<mac>.xml` itself.
    url: /<P237>prov\.papgate\.test:8081(?:\/d\/c{32})?<\/P237>/,
    interval: { re: /<P193>([0-9]+)<\/P193>/, min: 60, max: 86400 },
    // P4428 "Disable SIP NOTIFY Authentication. 0 - No, 1 - Yes" (FusionPBX grandstream/grp26xx/{$mac}.xml:5789-5792):
    // papgate's check-sync carries no credentials. P26015 "Allow SIP Reset" lets a NOTIFY
    // factory-reset the phone (GXV34x0 guide; FusionPBX grp26xx/{$mac}.xml:290-294, default 0).
    checkSync: /<P26015>0<\/P26015>\n\s*<P4428>1<\/P4428>/,
  })),
  {
    vendor: 'panasonic',
    model: 'KX-TGP500',
    mac: '0080f0000801',
    file: 'Config0080F0000801.cfg',
    proxySet: /SIP_OUTPROXY_ADDR_1="auth\.papgate\.test"\nSIP_OUTPROXY_PORT_1="5070"/,
    proxyUndone: /SIP_OUTPROXY_ADDR_1=""\nSIP_OUTPROXY_PORT_1="5060"/,
    rfc2833: /OUTBANDDTMF_1="Y"/,
    // FusionPBX panasonic/utg200b/{$mac}.xml:187-191 (Panasonic names items alike in both formats).
    warm: /HOT_LINE_ENABLE="Y"\nHOT_LINE_NUMBER="\*89"\nHOT_LINE_DELAY_TIME="4"/,
    emergency: /EMERGENCY_CALL1="112"\nEMERGENCY_CALL2="110"/,
    url: /CFG_STANDARD_FILE_PATH="http:\/\/prov\.papgate\.test:8081\/(?:d\/c{32}\/)?Config\{MAC\}\.cfg"/,
    interval: { re: /CFG_CYCLIC_INTVL="([0-9]+)"/, min: 1, max: 40320 },
    checkSync: /CFG_RESYNC_FROM_SIP="check-sync"/,
  },
];

describe('provisioning: vendor files against the production references', () => {
  for (const f of FAMILIES) {
    describe(`${f.vendor} ${f.model}`, () => {
      const withAccounts = device(f.vendor, f.model, f.mac, [ACCOUNT, SECOND]);
      const minimal = render(withAccounts, f.file, 'minimal');
      const full = render(withAccounts, f.file, 'full');

      it('minimal: restricted account through papgate, RFC 2833, warm line or none, emergency numbers', () => {
        assert.match(minimal, f.proxySet);
        assert.ok(minimal.includes(restrictedSipPassword('restricted-pw', FETCHED_FROM, true)));
        if (f.rfc2833) assert.match(minimal, f.rfc2833);
        if (f.warm) assert.match(minimal, f.warm);
        // The display tells the user to dial the service number; no other item may name it.
        else
          assert.ok(
            !/\*89/.test(minimal.replace(/Dial \*89( to authenticate)?/g, '')),
            'no hot line where the vendor has no delay',
          );
        if (f.emergency) assert.match(minimal, f.emergency);
      });

      it('full: the outbound proxy undone, RFC 2833 and emergency numbers kept, no hot line', () => {
        assert.match(full, f.proxyUndone);
        assert.ok(!full.includes('auth.papgate.test'), 'nothing of papgate registrar is left');
        assert.ok(!/\*89/.test(full));
        if (f.rfc2833) assert.match(full, f.rfc2833);
        if (f.emergency) assert.match(full, f.emergency);
      });

      it('provisioning URL, interval within the vendor range, check-sync accepted', () => {
        for (const [body, credential] of [
          [minimal, false],
          [full, true],
        ] as const) {
          assert.match(body, f.url);
          assert.equal(body.includes(`/d/${'c'.repeat(32)}`), credential);
          if (f.interval) {
            const v = Number(f.interval.re.exec(body)?.[1]);
            assert.ok(
              v >= f.interval.min && v <= f.interval.max,
              `interval ${v} in [${f.interval.min}, ${f.interval.max}]`,
            );
          }
          if (f.checkSync) assert.match(body, f.checkSync);
        }
      });

      it('HTTP credentials (user = MAC, password = credential) and the DHCP/PnP override off: full file only', () => {
        const family = moduleFor(f.vendor).family;
        assert.equal(httpCredentialsIn(family, minimal), null);
        assert.deepEqual(httpCredentialsIn(family, full), { user: f.mac, password: 'c'.repeat(32) });
        for (const off of OVERRIDE_OFF[family]!) {
          assert.match(full, off);
          assert.doesNotMatch(minimal, off);
        }
      });

      it('every item the minimal file sets is set again or reset by the full one', () => {
        const family = moduleFor(f.vendor).family;
        if (family === 'patton') {
          // A SmartNode replaces its whole configuration with each download (activation reload).
          for (const body of [minimal, full]) assert.match(body, /^\s+activation reload graceful$/m);
          return;
        }
        for (const accounts of [[ACCOUNT, SECOND], []]) {
          const d = device(f.vendor, f.model, f.mac, accounts);
          const before = items(family, render(d, f.file, 'minimal'));
          const after = items(family, render(d, f.file, 'full'));
          assert.ok(before.size > 5, `${family}: items read from the minimal file`);
          // Account 1's transport and SRTP: reset to UDP and no SRTP, left to the settings after.
          const left = [...before].filter((k) => !after.has(k) && !isReset(family, k));
          assert.deepEqual(left, [], `${accounts.length} accounts: items the full file leaves in place`);
          // Over TLS: the full file also writes back what sipTlsUndo names (as FileSettingsSource
          // hands it); only the certificate checks and the CA stay, the phone's for any server.
          const module = moduleFor(f.vendor);
          const undo = module.sipTls?.(d) ? (module.sipTlsUndo?.(d.model) ?? []).flat() : [];
          const tlsBefore = items(family, render(d, f.file, 'minimal', TLS_CONFIG));
          const tlsAfter = items(family, render(d, f.file, 'full', TLS_CONFIG, 'needed', undo));
          const tlsLeft = [...tlsBefore].filter(
            (k) =>
              !tlsAfter.has(k) &&
              !(undo.length === 0 && isReset(family, k)) &&
              !TLS_SETTABLE.some(([g, n]) => g === family && n === k),
          );
          assert.deepEqual(
            tlsLeft,
            [],
            `${accounts.length} accounts over TLS: items the full file leaves in place`,
          );
        }
      });
    });
  }

  /**
   * Account n of each family, switched off and its credentials cleared, as the references write a
   * line not in use (config/templates/README.md, "Accounts not in use"); `lines`: the model's count.
   */
  const VACANT: {
    vendor: Vendor;
    model: string;
    mac: string;
    file: string;
    lines: number;
    off: (n: number) => RegExp[];
    any: (n: number) => RegExp;
  }[] = [
    // Wazo wazo_yealink _NB_SIP_ACCOUNTS (v82 T46G, v87 the others); W80B: W's 0, so MAX_ACCOUNTS.
    ...(
      [
        ['T54W', 16],
        ['T46G', 16],
        ['T27G', 6],
        ['SIP-T31P', 2],
        ['W52P', 5],
        ['W60B', 8],
        ['W70B', 10],
        ['W75DM', 20],
        ['W80DM', 30],
        ['W80B', 16],
        ['W90DM', 250],
      ] as const
    ).map(([model, lines], i) => ({
      vendor: 'yealink' as const,
      model,
      mac: `00156500030${i.toString(16)}`,
      file: `00156500030${i.toString(16)}.cfg`,
      lines,
      // Wazo wazo_yealink/v86/templates/base.tpl:153-160, v87/templates/base-dect.tpl:117-123.
      off: (n: number) => [
        new RegExp(`^account\\.${n}\\.enable = 0$`, 'm'),
        new RegExp(`^account\\.${n}\\.user_name = %NULL%$`, 'm'),
        new RegExp(`^account\\.${n}\\.password = %NULL%$`, 'm'),
      ],
      any: (n: number) => new RegExp(`^account\\.${n}\\.`, 'm'),
    })),
    {
      vendor: 'snom',
      model: 'D785',
      mac: '000413000310',
      file: '000413000310.xml',
      lines: 12,
      // FusionPBX snom/720/{$mac}.xml:546-591 (identities without an account: name and password
      // empty); `off` as FusionPBX snom/D785/{$mac}.xml:73 writes a line not enabled.
      off: (n) => [
        new RegExp(`<user_active idx="${n}" perm="R">off</user_active>`),
        new RegExp(`<user_name idx="${n}" perm="R"></user_name>`),
        new RegExp(`<user_pass idx="${n}" perm="R"></user_pass>`),
      ],
      any: (n) => new RegExp(`idx="${n}"`),
    },
    ...(['poly', 'spectralink'] as const).map((vendor, i) => ({
      vendor,
      model: POLY_MODEL[vendor],
      mac: `0004f200031${i}`,
      file: `0004f200031${i}-phone.cfg`,
      lines: 16,
      off: (n: number) => [
        new RegExp(`reg\\.${n}\\.address="" reg\\.${n}\\.auth\\.userId="" reg\\.${n}\\.auth\\.password=""`),
        new RegExp(`reg\\.${n}\\.server\\.1\\.address=""`),
      ],
      any: (n: number) => new RegExp(`reg\\.${n}\\.`),
    })),
    ...(
      [
        ['cisco', 'SPA112', '00d0b8000310'],
        ['linksys', 'PAP2T', '0018f8000310'],
      ] as const
    ).map(([vendor, model, mac]) => ({
      vendor,
      model,
      mac,
      file: `${mac}.xml`,
      lines: 8,
      // Wazo wazo_cisco_spa/common/var/tftpboot/spa-ata.xml:146-213.
      off: (n: number) => [
        new RegExp(`<Line_Enable_${n}_>No</Line_Enable_${n}_>`),
        new RegExp(`<User_ID_${n}_></User_ID_${n}_>`),
        new RegExp(`<Password_${n}_></Password_${n}_>`),
        new RegExp(`<Auth_ID_${n}_></Auth_ID_${n}_>`),
      ],
      any: (n: number) => new RegExp(`_${n}_>`),
    })),
    {
      vendor: 'gigaset',
      model: 'N510 IP PRO',
      mac: '7c2f80000310',
      file: '7C2F80000310.xml',
      lines: 6,
      off: (n) => [
        new RegExp(`ucB_SIP_ACCOUNT_IS_ACTIVE_${n}" class="symb_item" value="0x0"`),
        new RegExp(`aucS_SIP_USER_ID_${n}" class="symb_item" value='""'`),
        new RegExp(`aucS_SIP_PASSWORD_${n}" class="symb_item" value='""'`),
        // On no handset (bit n-1 of a mask is handset n, Wazo N510 base.tpl:34-35).
        new RegExp(`astAccounts\\[${n - 1}\\]\\.uiSendMask" class="symb_item" value="0x0"`),
        new RegExp(`astAccounts\\[${n - 1}\\]\\.uiReceiveMask" class="symb_item" value="0x0"`),
      ],
      any: (n) => new RegExp(`_${n}"|astAccounts\\[${n - 1}\\]`),
    },
    {
      vendor: 'gigaset',
      model: 'N720 DM PRO',
      mac: '7c2f80000311',
      file: '7C2F80000311.xml',
      lines: 16,
      off: (n) => [
        new RegExp(
          `astVoipAccounts\\[${n - 1}\\]\\.ucB_SIP_ACCOUNT_IS_ACTIVE_1" class="symb_item" value="0"`,
        ),
        new RegExp(`astVoipAccounts\\[${n - 1}\\]\\.aucS_SIP_USER_ID\\[0\\]" class="symb_item" value='""'`),
        new RegExp(`astVoipAccounts\\[${n - 1}\\]\\.aucS_SIP_PASSWORD\\[0\\]" class="symb_item" value='""'`),
      ],
      any: (n) => new RegExp(`astVoipAccounts\\[${n - 1}\\]`),
    },
    // Wazo wazo_panasonic/v01_133/plugin-info (KX-UT133: 3 lines), FusionPBX panasonic/ut670 (6).
    ...(
      [
        ['KX-UT133', 3],
        ['KX-UT670', 6],
        ['KX-TGP500', 16],
      ] as const
    ).map(([model, lines], i) => ({
      vendor: 'panasonic' as const,
      model,
      mac: `0080f000031${i}`,
      file: `Config0080F000031${i}.cfg`,
      lines,
      // FusionPBX panasonic/ut670/{$mac}.cfg:405-440: every line written, empty without an account.
      off: (n: number) => [
        new RegExp(`^PHONE_NUMBER_${n}=""$`, 'm'),
        new RegExp(`^SIP_AUTHID_${n}=""$`, 'm'),
        new RegExp(`^SIP_PASS_${n}=""$`, 'm'),
      ],
      any: (n: number) => new RegExp(`_${n}=`),
    })),
  ];

  for (const v of VACANT) {
    it(`${v.vendor} ${v.model}: accounts 2..${v.lines} switched off and cleared in every minimal file and a one-account full one`, () => {
      const d = device(v.vendor, v.model, v.mac, [ACCOUNT, SECOND]);
      const files = [
        ...(['needed', 'failed', 'blocked', 'reset', 'disabled'] as const).map((display) => ({
          what: `minimal ${display}`,
          body: render(d, v.file, 'minimal', config, display),
        })),
        {
          what: 'full, one account',
          body: render(device(v.vendor, v.model, v.mac, [ACCOUNT]), v.file, 'full'),
        },
      ];
      for (const { what, body } of files) {
        for (let n = 2; n <= v.lines; n++)
          for (const re of v.off(n)) assert.match(body, re, `${what}: account ${n}`);
        assert.doesNotMatch(body, v.any(v.lines + 1), `${what}: nothing beyond account ${v.lines}`);
        assert.ok(
          !body.includes(SECOND.password) && !body.includes(SECOND.user),
          `${what}: nothing of account 2`,
        );
      }
    });
  }

  it('Grandstream writes accounts 2 to 6 at P{n+2}01.., Patton its whole configuration', () => {
    const gs = device('grandstream', 'GXP2170', '000b82000310', [ACCOUNT, SECOND]);
    // P271/P47/P35/P34 are account 1's (Wazo wazo_grandstream base.tpl:46-53); account n's are
    // P{n+2}01 (active), 02 (server), 04 (user), 05 (auth ID), 06 (password), 07 (name) (:60-75).
    const minimal = render(gs, 'cfg000b82000310.xml', 'minimal');
    assert.ok(!minimal.includes(SECOND.password));
    assert.match(minimal, /<P401>0<\/P401>[^]*<P406><\/P406>/);
    const full = render(gs, 'cfg000b82000310.xml', 'full');
    assert.match(full, new RegExp(`<P401>1</P401>[^]*<P406>${SECOND.password}</P406>`));
    assert.match(full, /<P801>0<\/P801>/);
    const sn = device('patton', 'SN4112', '00a0ba000310', [ACCOUNT, SECOND]);
    const snMinimal = render(sn, '00a0ba000310.cfg', 'minimal');
    assert.equal(snMinimal.match(/^\s+interface sip /gm)?.length, 1);
    assert.match(snMinimal, /^\s+activation reload graceful$/m);
  });

  it('Yealink DECT bases and managers: every handset receives and dials out on account 1 in the minimal file; the full one resets them (FusionPBX yealink/w60b/y000000000077.cfg:503-547)', () => {
    const handset = (body: string, h: number) =>
      ['incoming_lines', 'dial_out_lines', 'dial_out_default_line'].map(
        (item) => new RegExp(`^handset\\.${h}\\.${item} = (.*)$`, 'm').exec(body)?.[1],
      );
    // Handsets: FusionPBX's (W52P 5, W60B 8), never fewer than the model's accounts (Wazo v87 W70B 10, W80DM 30).
    for (const [model, handsets] of [
      ['W52P', 5],
      ['W56P', 16],
      ['W60B', 8],
      ['W70B', 10],
      ['W80DM', 30],
      ['W80B', 16],
    ] as const) {
      const mac = '249ad8000320';
      for (const accounts of [[ACCOUNT, SECOND], [ACCOUNT], []]) {
        const d = device('yealink', model, mac, accounts);
        const minimal = render(d, `${mac}.cfg`, 'minimal');
        const full = render(d, `${mac}.cfg`, 'full');
        for (let h = 1; h <= handsets; h++) {
          assert.deepEqual(handset(minimal, h), ['1', '1', '1'], `${model} minimal handset ${h}`);
          assert.deepEqual(handset(full, h), ['%NULL%', '%NULL%', '%NULL%'], `${model} full handset ${h}`);
        }
        assert.deepEqual(handset(minimal, handsets + 1), [undefined, undefined, undefined], model);
      }
    }
    for (const model of ['T54W', 'T46G']) {
      const body = render(device('yealink', model, '001565000320', [ACCOUNT]), '001565000320.cfg', 'minimal');
      assert.doesNotMatch(body, /^handset\./m, model);
    }
  });

  it('Yealink DECT systems: every account names its server template (Wazo v87 base-dect.tpl, FusionPBX yealink/w80)', () => {
    const get = (body: string, key: string) =>
      new RegExp(`^${key.replace(/\./g, '\\.')} = (.*)$`, 'm').exec(body)?.[1];
    for (const model of ['W80DM', 'W75DM', 'W90DM', 'W70B', 'W75B', 'W80B', 'W90B']) {
      const mac = '249ad8000199';
      const minimal = render(device('yealink', model, mac, [ACCOUNT]), `${mac}.cfg`, 'minimal');
      assert.equal(get(minimal, 'template.1.sip_server.1.address'), 'auth.papgate.test', model);
      assert.equal(get(minimal, 'template.1.sip_server.1.port'), '5070');
      assert.equal(get(minimal, 'account.1.sip_server.template'), '1');
      // Firmware without templates (W70B before 146.87, Wazo v85 W70B.tpl:77-78) reads the account's own items.
      assert.equal(get(minimal, 'account.1.sip_server.1.address'), 'auth.papgate.test');
      assert.ok(!/features\.hotline_number = \*89/.test(minimal), `${model}: no hot line`);

      // Accounts on one server share a template, another server gets the next one (Wazo v87 common.py _add_sip_templates).
      const third: SipAccount = { ...ACCOUNT, user: 'acme-4713', server: 'sip2.acme.example' };
      const full = render(device('yealink', model, mac, [ACCOUNT, SECOND, third]), `${mac}.cfg`, 'full');
      assert.equal(get(full, 'template.1.sip_server.1.address'), 'sip.acme.example');
      assert.equal(get(full, 'template.1.sip_server.1.port'), '5080');
      assert.equal(get(full, 'template.2.sip_server.1.address'), 'sip2.acme.example');
      assert.equal(get(full, 'template.2.sip_server.1.port'), '5060');
      // Templates no account uses are cleared, up to the ten a DECT system takes (F w80/y000000000175.cfg:909).
      assert.equal(get(full, 'template.3.sip_server.1.address'), '%NULL%');
      assert.equal(get(full, 'template.10.name'), '%NULL%');
      assert.equal(get(full, 'template.11.name'), undefined);
      assert.deepEqual(
        [1, 2, 3].map((n) => get(full, `account.${n}.sip_server.template`)),
        ['1', '1', '2'],
      );

      const none = render(device('yealink', model, mac, []), `${mac}.cfg`, 'full');
      assert.equal(get(none, 'account.1.sip_server.template'), '%NULL%');
      assert.equal(get(none, 'template.1.sip_server.1.address'), '%NULL%');
    }
    // Desk phones and the single-cell W60B keep the account's own items only.
    for (const model of ['T54W', 'W60B', 'W52P']) {
      const body = render(device('yealink', model, '001565000199', [ACCOUNT]), '001565000199.cfg', 'minimal');
      assert.ok(!/^template\./m.test(body) && !/sip_server\.template/.test(body), model);
    }
  });

  it('Poly: emergency numbers route to server 1, which is papgate (minimal) or the account server (FusionPBX polycom/6.x)', () => {
    const server = (body: string) =>
      /dialplan\.routing\.server\.1\.address="([^"]*)" dialplan\.routing\.server\.1\.port="([^"]*)"/
        .exec(body)
        ?.slice(1);
    for (const vendor of ['poly', 'spectralink'] as const) {
      const d = device(vendor, POLY_MODEL[vendor], '0004f2000309', [ACCOUNT, SECOND]);
      const minimal = render(d, '0004f2000309-phone.cfg', 'minimal');
      assert.deepEqual(server(minimal), ['auth.papgate.test', '5070']);
      assert.match(minimal, /dialplan\.routing\.emergency\.1\.server\.1="1"/);
      assert.deepEqual(server(render(d, '0004f2000309-phone.cfg', 'full')), ['sip.acme.example', '5080']);
      const none = device(vendor, POLY_MODEL[vendor], '0004f2000309', []);
      assert.deepEqual(server(render(none, '0004f2000309-phone.cfg', 'full')), ['', '']);
    }
  });

  it('Poly: polling never below 3600 s, whatever the configured intervals (FusionPBX app_config.php:793)', () => {
    const short = loadConfig({
      PROVISIONING_BASE_URL: 'http://prov.papgate.test:8081',
      SIP_REGISTRAR: 'auth.papgate.test:5070',
      PROVISIONING_INTERVAL_SECONDS: '600',
      PROVISIONING_MINIMAL_INTERVAL_SECONDS: '60',
    });
    for (const vendor of ['poly', 'spectralink'] as const) {
      const d = device(vendor, POLY_MODEL[vendor], '00907a000309', [ACCOUNT]);
      for (const kind of ['minimal', 'full'] as const)
        assert.match(
          render(d, '00907a000309-phone.cfg', kind, short),
          /prov\.polling\.period="3600"/,
          `${vendor} ${kind}`,
        );
    }
  });

  it('Gigaset N510: account 1 has no suffix, account 2 has _2 (Wazo N510 base.tpl)', () => {
    const body = render(
      device('gigaset', 'N510 IP PRO', '7c2f80000503', [ACCOUNT, SECOND]),
      '7C2F80000503.xml',
      'full',
    );
    for (const id of ['aucS_SIP_USER_ID', 'aucS_SIP_PASSWORD', 'aucS_SIP_SERVER', 'aucS_SIP_DISPLAYNAME'])
      assert.match(body, new RegExp(`BS_IP_Data1\\.${id}" class`));
    assert.match(body, /BS_IP_Data1\.aucS_SIP_USER_ID_2" class="symb_item" value='"acme-4712"'/);
    assert.match(body, /ucB_SIP_ACCOUNT_IS_ACTIVE_1"/);
    assert.match(body, /aucS_SIP_ACCOUNT_NAME_1"/);
    assert.ok(!/aucS_SIP_USER_ID_1"/.test(body));
  });

  it("Gigaset N510: the data server stays Gigaset's, the profile URL keeps an https scheme", () => {
    // papgate does not serve the master.bin chain (Wazo wazo_gigaset/common/var/tftpboot/42/2/...):
    // a data server pointing at papgate would fail the base's firmware and language checks for good.
    const d = device('gigaset', 'N510 IP PRO', '7c2f80000505', [ACCOUNT]);
    for (const kind of ['minimal', 'full'] as const) {
      const body = render(d, '7C2F80000505.xml', kind);
      assert.match(
        body,
        /BS_IP_Data1\.aucS_DATA_SERVER\[0\]" class="symb_item" value='"profile\.gigaset\.net\/device"'/,
      );
      assert.ok(!/aucS_DATA_SERVER[^\n]*papgate/.test(body), kind);
    }
    const secure = loadConfig({
      PROVISIONING_BASE_URL: 'https://prov.papgate.test:8443',
      SIP_REGISTRAR: 'auth.papgate.test:5070',
    });
    for (const [model, mac] of [
      ['N510 IP PRO', '7c2f80000506'],
      ['N720 DM PRO', '7c2f80000507'],
    ] as const) {
      const body = render(
        device('gigaset', model, mac, [ACCOUNT]),
        `${mac.toUpperCase()}.xml`,
        'full',
        secure,
      );
      assert.match(
        body,
        new RegExp(
          `<S_CONFIGFILE_URL class="string" value='"https://prov\\.papgate\\.test:8443/d/c{32}/${mac.toUpperCase()}\\.xml"'/>`,
        ),
        model,
      );
    }
    // Plain HTTP keeps Wazo's scheme-less form (N510 base.tpl:117).
    assert.match(
      render(d, '7C2F80000505.xml', 'full'),
      /<S_CONFIGFILE_URL class="string" value='"prov\.papgate\.test:8081\/d\/c{32}\/7C2F80000505\.xml"'/,
    );
  });

  it('Gigaset N510: account n on handset n (Wazo N510 base.tpl:34-35); account 1 also on every handset without its own, as the base assigns it (papgate)', () => {
    const masks = (body: string) =>
      [
        ...body.matchAll(
          /BS_Accounts\.astAccounts\[([0-9]+)\]\.ui(Send|Receive)Mask" class="symb_item" value="(0x[0-9a-f]+)"/g,
        ),
      ].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    const third: SipAccount = { ...ACCOUNT, user: 'acme-4713' };
    const mac = '7c2f80000508';
    const file = '7C2F80000508.xml';
    // Accounts from..6 not in use: on no handset.
    const off = (from: number) =>
      Array.from({ length: 7 - from }, (_, k) => from - 1 + k).flatMap((i) => [
        `${i} Send 0x0`,
        `${i} Receive 0x0`,
      ]);
    assert.deepEqual(masks(render(device('gigaset', 'N510 IP PRO', mac, [ACCOUNT]), file, 'minimal')), [
      '0 Send 0x3f',
      '0 Receive 0x3f',
      ...off(2),
    ]);
    assert.deepEqual(masks(render(device('gigaset', 'N510 IP PRO', mac, [ACCOUNT]), file, 'full')), [
      '0 Send 0x3f',
      '0 Receive 0x3f',
      ...off(2),
    ]);
    assert.deepEqual(
      masks(render(device('gigaset', 'N510 IP PRO', mac, [ACCOUNT, SECOND, third]), file, 'full')),
      [
        ...['0 Send 0x39', '0 Receive 0x39', '1 Send 0x2', '1 Receive 0x2', '2 Send 0x4', '2 Receive 0x4'],
        ...off(4),
      ],
    );
    assert.deepEqual(masks(render(device('gigaset', 'N510 IP PRO', mac, []), file, 'full')), off(1));
  });

  it('Gigaset N720: the handsets show the account name when idle, minimal and full (Wazo N720 base.tpl:183)', () => {
    const d = device('gigaset', 'N720 DM PRO', '7c2f80000509', [ACCOUNT]);
    for (const kind of ['minimal', 'full'] as const)
      assert.match(
        render(d, '7C2F80000509.xml', kind),
        /<SYMB_ITEM ID="BS_VOIP_Data\.NameOnIdleDisplay" class="symb_item" value="1"\/>/,
        kind,
      );
  });

  it('Gigaset N720: its own tree (astVoipProviders / astVoipAccounts, N720_general.xsd)', () => {
    const body = render(
      device('gigaset', 'N720 DM PRO', '7c2f80000504', [ACCOUNT]),
      '7C2F80000504.xml',
      'full',
    );
    assert.match(body, /N720_general\.xsd/);
    assert.match(
      body,
      /BS_VOIP_Data\.astVoipAccounts\[0\]\.aucS_SIP_PASSWORD\[0\]" class="symb_item" value='"S3cret-acme-pw"'/,
    );
    assert.match(
      body,
      /astVoipProviders\[0\]\.aucSIP_SERVER\[%\]" class="symb_item" value='"sip\.acme\.example"'/,
    );
    assert.ok(!body.includes('BS_IP_Data1.'));
  });
});

describe('provisioning: User-Agents of the references', () => {
  // [vendor, model, mac, User-Agent, mismatch expected]
  const SAMPLES: [Vendor, string, string, string, boolean][] = [
    ['yealink', 'T46G', '0015654aa937', 'Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37', false],
    ['yealink', 'T46G', '0015654aa938', 'Yealink SIP-T46G 28.72.0.1 00:15:65:4a:a9:37', true],
    ['yealink', 'T49G', '0015659b5a44', 'Yealink SIP VP-T49G 51.80.0.10 00:15:65:9b:5a:44', false],
    ['yealink', 'T38G', '0015652fc35e', 'Yealink SIP-T38G  38.70.0.125 00:15:65:2f:c3:5e', false],
    ['yealink', 'W52P', '00156544b37c', 'W52P 25.30.0.2 00:15:65:44:b3:7c', false],
    // Wazo wazo_yealink/v87/common.py:81-85.
    ['yealink', 'W80DM', '249ad8d1a631', 'Yealink W80DM 103.87.0.10 24:9a:d8:d1:a6:31', false],
    ['yealink', 'W80DM', '249ad8d1a631', 'Yealink W80B 103.87.0.10 24:9a:d8:d1:a6:31', false],
    ['yealink', 'W90DM', '805ec0d9c745', 'Yealink W90DM 130.87.0.10 80:5e:c0:d9:c7:44', true],
    ['yealink', 'W70B', '805e0c1d654e', 'Yealink W70B 146.87.0.15 80:5e:0c:1d:65:4e', false],
    ['yealink', 'W52P', '00156544b37d', 'W52P 25.30.0.2 00:15:65:44:b3:7c', true],
    ['yealink', 'T46G', '001565000001', 'Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0', false],
    ['yealink', 'T54W', '001565000001', 'Yealink-T46G 28.71.0.81 28.1.0.128.0.0.0', true],
    // T5x firmware sends the MAC without colons (F app/provision/index.php:181-187).
    ['yealink', 'T56A', '001565f429a4', 'Yealink SIP-T56A 58.80.0.25 001565f429a4', false],
    ['yealink', 'T56A', '001565f429a5', 'Yealink SIP-T56A 58.80.0.25 001565f429a4', true],
    [
      'snom',
      'D785',
      '000413922d24',
      'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)',
      false,
    ],
    [
      'snom',
      'D785',
      '000413922d25',
      'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)',
      true,
    ],
    ['snom', '320', '000413000001', 'Mozilla/4.0 (compatible; snom320-SIP 8.4.18 1.1.3-s)', false],
    // A build date in parentheses before the MAC (F app/provision/index.php:174-178).
    [
      'snom',
      'D785',
      '00041396d9b4',
      'Mozilla/4.0 (compatible; snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 00041396D9B4 SXM:0 UXM:0 UXMC:0)',
      false,
    ],
    [
      'snom',
      'D785',
      '00041396d9b5',
      'Mozilla/4.0 (compatible; snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 00041396D9B4 SXM:0 UXM:0 UXMC:0)',
      true,
    ],
    [
      'poly',
      'VVX 400',
      '0004f2000001',
      'FileTransport PolycomVVX-VVX_400-UA/4.1.4.7430 Type/Application',
      false,
    ],
    ['poly', 'SPIP 335', '0004f2000001', 'FileTransport PolycomSoundPointIP-SPIP_335-UA/3.2.1.0078', false],
    // The group after a Linksys model is a serial number, even when it looks like a MAC.
    ['linksys', 'SPA942', '0018f8000001', 'Linksys/SPA-942-6.1.5(a) (88019FA42805)', false],
    ['linksys', 'SPA962', '0018f8000001', 'Linksys/SPA-962-6.1.5(a) (4MM00F903042)', false],
    ['linksys', 'SPA922', '0018f8000001', 'Linksys/SPA-942-6.1.5(a) (88019FA42805)', true],
    ['cisco', 'SPA501G', '8843e157ddcc', 'Cisco/SPA501G-7.4.4 (8843E157DDCC)(CBT141100HR)', false],
    ['cisco', 'SPA501G', '8843e157ddcd', 'Cisco/SPA501G-7.4.4 (8843E157DDCC)(CBT141100HR)', true],
    ['cisco', 'SPA525G', '0002fdff2103', 'Cisco/SPA525G-7.4.4 (CBT141900G7)', false],
    ['gigaset', 'N720 DM PRO', '7c2f80ca21e4', 'Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4', false],
    ['gigaset', 'N720 DM PRO', '7c2f80ca21e5', 'Gigaset N720 DM PRO/70.089.00.000.000;7C2F80CA21E4', true],
    ['gigaset', 'N510 IP PRO', '7c2f804df9a9', 'N510 IP PRO/42.245.00.000.000;7C2F804DF9A9', false],
    ['gigaset', 'N510 IP PRO', '7c2f804df9aa', 'N510 IP PRO/42.245.00.000.000;7C2F804DF9A9', true],
    ['gigaset', 'N720 DM PRO', '7c2f80000001', 'N720-DM-PRO/70.040.00.000.000', false],
    ['gigaset', 'N510 IP PRO', '7c2f80000001', 'N720-DM-PRO/70.040.00.000.000', true],
    [
      'grandstream',
      'GXP2200',
      '000b82462d97',
      'Grandstream Model HW GXP2200 V2.2A SW 1.0.1.33 DevId 000b82462d97',
      false,
    ],
    [
      'grandstream',
      'GXP2000',
      '000b822726c8',
      'Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8',
      false,
    ],
    [
      'grandstream',
      'GXP2000',
      '000b822726c9',
      'Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8',
      true,
    ],
    ['panasonic', 'KX-UT113', '0080f0c8c381', 'Panasonic_KX-UT113/01.133 (0080f0c8c381)', false],
    ['panasonic', 'KX-UT113', '0080f0c8c382', 'Panasonic_KX-UT113/01.133 (0080f0c8c381)', true],
    // The SmartNode's serial is not read as a MAC: a wrong guess would lock the device out.
    [
      'patton',
      'SN4112',
      '00a0ba000001',
      'SmartNode (Model:SN4112/JS/EUI; Serial:00A0BA08933C; Software Version:R6.2 2012-09-11 H323 SIP FXS FXO; Hardware Version:4.4)',
      false,
    ],
    [
      'patton',
      'SN4316',
      '00a0ba000001',
      'SmartNode (Model:SN4112/JS/EUI; Serial:00A0BA08933C; Software Version:R6.2)',
      true,
    ],
    ['yealink', 'T54W', '001565000001', 'SomePhone/1.0', false],
  ];
  for (const [vendor, model, mac, ua, mismatch] of SAMPLES) {
    it(`${vendor} ${model} ${mac}: ${ua.slice(0, 60)} -> ${mismatch ? 'mismatch' : 'accepted'}`, () => {
      const d = device(vendor, model, mac, []);
      assert.equal(userAgentMismatch(moduleFor(vendor), d, ua), mismatch);
    });
  }
});

describe('provisioning: boot and master files', () => {
  const f = new ProvisioningFixture({ PROVISIONING_MISS_LIMIT: '5' });
  before(() => f.start());
  after(() => f.stop());

  it('a factory-reset ATA gets a boot profile pointing at <mac>.xml in Profile_Rule_C, fetched in the same resync (Wazo spa100 model.cfg.tpl:3-4)', async () => {
    for (const file of ['spa112.cfg', 'spa122.cfg', 'spa2102.cfg', 'init.cfg']) {
      const res = await request(f.port, `/${file}`, { from: '127.0.2.1' });
      assert.equal(res.status, 200, file);
      assert.match(
        res.body,
        /<Profile_Rule_C>http:\/\/prov\.papgate\.test:8081\/\$MA\.xml<\/Profile_Rule_C>/,
      );
      // Profile_Rule itself stays as the ATA had it: replacing it would defer <mac>.xml to the next resync.
      assert.doesNotMatch(res.body, /<Profile_Rule>/, file);
    }
    // <mac>.xml moves the rule to Profile_Rule (with the credential in the full file) and clears
    // Profile_Rule_C, which would otherwise be asked without the credential on every resync.
    for (const [vendor, model, mac] of [
      ['cisco', 'SPA112', '00d0b8000499'],
      ['linksys', 'PAP2T', '0018f8000499'],
    ] as const) {
      const d = device(vendor, model, mac, [ACCOUNT]);
      for (const kind of ['minimal', 'full'] as const) {
        const body = render(d, `${mac}.xml`, kind);
        assert.match(body, /<Profile_Rule_C><\/Profile_Rule_C>/, `${vendor} ${kind}`);
        assert.match(body, /<Profile_Rule>[^<]*\$MA\.xml<\/Profile_Rule>/, `${vendor} ${kind}`);
      }
    }
  });

  it('200 phones behind one NAT rebooting at once never get 429', async () => {
    const boot = [
      'y000000000000.boot',
      '001565000999.boot',
      'snomD785.htm',
      'snomD785.xml',
      'snomD785-firmware.xml',
      'gui_lang.xml',
      '0004f2000999-directory.xml',
      'sip.ld',
      '42/2/master.bin',
      '70/1/master.bin',
    ];
    for (const b of boot)
      assert.ok(
        matchFile(b.slice(b.lastIndexOf('/') + 1)).some((c) => c.match.role === 'boot'),
        `${b} is a boot file`,
      );
    await f.device('yealink', 'T54W', '001565000998');
    for (let phone = 0; phone < 200; phone++) {
      for (const file of [boot[phone % boot.length]!, boot[(phone + 3) % boot.length]!]) {
        const res = await request(f.port, `/${file}`, { from: '127.0.2.2' });
        assert.equal(res.status, 404, `${file} (phone ${phone})`);
      }
    }
    const cfg = await request(f.port, '/001565000998.cfg', { from: '127.0.2.2' });
    assert.equal(cfg.status, 200, 'a configuration after the storm');
    // Real misses are still counted and throttled.
    let last = 0;
    for (let i = 0; i < 7; i++)
      last = (await request(f.port, `/00156500f${String(i).padStart(3, '0')}.cfg`, { from: '127.0.2.3' }))
        .status;
    assert.equal(last, 429);
  });

  it('31 Grandstream phones behind one address each ask cfg<mac>, cfg<mac>.bin, then get cfg<mac>.xml', async () => {
    // Grandstream SIP Device Provisioning Guide: the legacy binary `cfgMAC` (newer firmware
    // `cfgMAC.bin`) is asked for before `cfgMAC.xml`, and `cfg<model>.xml`, `cfg.xml` after a failure.
    for (let phone = 0; phone < 31; phone++) {
      const mac = `000b8210${String(phone).padStart(4, '0')}`;
      await f.device('grandstream', 'GXP2170', mac);
      for (const legacy of [`cfg${mac}`, `cfg${mac}.bin`]) {
        const res = await request(f.port, `/${legacy}`, { from: '127.0.2.4' });
        assert.equal(res.status, 404, `${legacy} (phone ${phone + 1})`);
      }
      const res = await request(f.port, `/cfg${mac}.xml`, { from: '127.0.2.4' });
      assert.equal(res.status, 200, `cfg${mac}.xml (phone ${phone + 1})`);
      assert.match(res.body, new RegExp(`<mac>${mac}</mac>`));
    }
    for (let i = 0; i < 10; i++)
      for (const file of ['cfggxp2170.xml', 'cfggrp2614.xml', 'cfght802.xml', 'cfg.xml'])
        assert.equal((await request(f.port, `/${file}`, { from: '127.0.2.4' })).status, 404, file);
  });

  it('Panasonic {MODEL}.cfg (DHCP option 66 without a file name) points at Config{MAC}.cfg, never counted', async () => {
    // Wazo wazo_panasonic/common/templates/common/KX-UT136.tpl:3, FusionPBX panasonic/ut136/KX-UT136.cfg:3.
    for (let i = 0; i < 10; i++)
      for (const model of ['KX-HDV130', 'KX-UT136', 'KX-TGP500B04']) {
        const res = await request(f.port, `/${model}.cfg`, { from: '127.0.2.5' });
        assert.equal(res.status, 200, model);
        const lines = res.body.split('\n');
        assert.match(lines[0]!, /^# Panasonic SIP Phone Standard Format File #/);
        assert.ok(
          lines.includes('CFG_STANDARD_FILE_PATH="http://prov.papgate.test:8081/Config{MAC}.cfg"'),
          res.body,
        );
        assert.equal(credentialIn(res.body), null);
      }
    await f.device('panasonic', 'KX-UT136', '0080f0000899');
    assert.equal((await request(f.port, '/Config0080F0000899.cfg', { from: '127.0.2.5' })).status, 200);
  });
});
