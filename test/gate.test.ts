import assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import { loadConfig } from '../src/config';
import type { AddressInfo } from 'node:net';
import { parseWhitelistEntry } from '../src/domain/whitelist';
import { keys } from '../src/store/keys';
import { Metrics } from '../src/lib/metrics';
import { createProvisioningServer } from '../src/provisioning/server';
import { FORMATS, FormatError, type Format } from '../src/provisioning/merge';
import { Gate } from '../src/provisioning/upstream';
import { ACCOUNT, credentialIn, ProvisioningFixture, request } from './support/http';
import { silentLog } from './support/redis';
import { LoopbackUpstream, OTHER_UPSTREAM_FILES, UPSTREAM_FILES } from './support/upstream';

const YEALINK = '001565aabbcc';
const SNOM = '000413aabbcc';
const GRANDSTREAM = '000b82aabbcc';
const CISCO = '000e08aabbcc';
const PANASONIC = '080023aabbcc';
const POLY = '0004f2aabbcc';
const GIGASET = '7c2f80aabbcc';
const UA = `Yealink SIP-T54W 96.86.0.70 00:15:65:aa:bb:cc`;

/** The lines of a key = value file that set `key`. */
const setting = (body: string, key: string) => body.split('\n').filter((l) => l.startsWith(`${key} =`));

describe('gate mode: merges', () => {
  it('yealink: the upstream keeps its own items, papgate replaces the accounts and the provisioning server', () => {
    const own = [
      '#!version:1.0.0.1',
      '## papgate full configuration for 001565aabbcc',
      'account.1.enable = 1',
      'account.1.password = papgate-pw',
      'account.1.sip_server.1.address = sip.acme.example',
      'static.auto_provision.server.url = http://prov.papgate.test/d/cred/',
      'static.auto_provision.server.password = cred',
      'static.auto_provision.dhcp_option.enable = 0',
    ].join('\n');
    const merged = FORMATS.yealink.merge(UPSTREAM_FILES.yealink, own);
    assert.equal(merged.split('\n')[0], '#!version:1.0.0.1');
    for (const secret of [
      'upstream-secret',
      'provpass',
      'fusionpbx.example/app/provision',
      'backup.upstream',
    ])
      assert.ok(!merged.includes(secret), secret);
    assert.deepEqual(setting(merged, 'account.1.password'), ['account.1.password = papgate-pw']);
    assert.deepEqual(setting(merged, 'static.auto_provision.dhcp_option.enable'), [
      'static.auto_provision.dhcp_option.enable = 0',
    ]);
    // Owned even where papgate's file says nothing: another account's identity, the check-sync switch.
    assert.deepEqual(setting(merged, 'account.2.user_name'), []);
    assert.deepEqual(setting(merged, 'sip.notify_reboot_enable'), []);
    for (const kept of [
      'account.1.codec.1.payload_type = PCMU',
      'lang.gui = German',
      'linekey.2.label = Bob',
      'local_time.ntp_server1 = pool.ntp.org',
      'static.firmware.url = http://fusionpbx.example/firmware/T54W.rom',
    ])
      assert.ok(merged.includes(kept), kept);
  });

  it('snom: items by name and idx in phone-settings; function keys pass as written', () => {
    const own = `<?xml version="1.0" encoding="utf-8"?>
<settings>
  <phone-settings e="2">
    <user_active idx="1" perm="R">on</user_active>
    <user_pass idx="1" perm="R">papgate-pw</user_pass>
    <user_host idx="1" perm="R">sip.acme.example</user_host>
    <user_host idx="2" perm="R"></user_host>
    <setting_server perm="R">http://001565aabbcc:cred@prov.papgate.test/d/cred/{mac}.xml</setting_server>
    <pnp_config perm="R">off</pnp_config>
    <challenge_checksync perm="R">off</challenge_checksync>
  </phone-settings>
</settings>`;
    const merged = FORMATS.snom.merge(UPSTREAM_FILES.snom, own);
    assert.equal(XMLValidator.validate(merged), true);
    for (const gone of ['upstream-secret', 'fusionpbx.example', 'rogue.upstream', '>pbx.upstream.example<'])
      assert.ok(!merged.includes(gone), gone);
    assert.match(merged, /<user_pass idx="1" perm="R">papgate-pw<\/user_pass>/);
    assert.match(merged, /<user_host idx="2" perm="R"><\/user_host>/);
    assert.match(merged, /<pnp_config perm="R">off<\/pnp_config>/);
    assert.equal(merged.match(/<challenge_checksync/g)?.length, 1);
    assert.match(merged, /<challenge_checksync perm="R">off</);
    // Not set by papgate's file, owned all the same.
    assert.ok(!merged.includes('settings_refresh_timer'));
    assert.match(merged, /<language perm="">Deutsch<\/language>/);
    assert.match(merged, /<codec1_name idx="1" perm="">8<\/codec1_name>/);
    assert.match(
      merged,
      /<fkey idx="0" context="active" perm="">blf &lt;sip:102@pbx.upstream.example&gt;<\/fkey>/,
    );
  });

  it("grandstream: P-values; account 1 and the config server are papgate's", () => {
    const own = `<?xml version="1.0" encoding="UTF-8"?>
<gs_provision version="1">
  <mac>000b82aabbcc</mac>
  <config version="1">
    <P271>1</P271>
    <P34>papgate-pw</P34>
    <P47>sip.acme.example:5080</P47>
    <P237>prov.papgate.test/d/cred</P237>
    <P1361>cred</P1361>
  </config>
</gs_provision>`;
    const merged = FORMATS.grandstream.merge(UPSTREAM_FILES.grandstream, own);
    assert.equal(XMLValidator.validate(merged), true);
    for (const gone of [
      'upstream-secret',
      'provpass',
      'fusionpbx.example',
      'backup.upstream',
      '<P35>',
      '<P1360>',
    ])
      assert.ok(!merged.includes(gone), gone);
    assert.match(merged, /<P34>papgate-pw<\/P34>/);
    assert.match(merged, /<P64>CET-1CEST-2,M3.5.0\/02:00:00,M10.5.0\/03:00:00<\/P64>/);
    assert.match(merged, /<P33>\*97<\/P33>/);
  });

  it("cisco: flat-profile elements by name; the lines and the resync rules are papgate's", () => {
    const own = `<?xml version="1.0" encoding="UTF-8"?>
<flat-profile>
  <Provision_Enable>Yes</Provision_Enable>
  <Profile_Rule>[--uid 000e08aabbcc --pwd cred]http://prov.papgate.test/d/cred/$MA.xml</Profile_Rule>
  <Line_Enable_1_>Yes</Line_Enable_1_>
  <Proxy_1_>sip.acme.example:5080</Proxy_1_>
  <Password_1_>papgate-pw</Password_1_>
  <Line_Enable_2_>No</Line_Enable_2_>
</flat-profile>`;
    const merged = FORMATS.cisco.merge(UPSTREAM_FILES.cisco, own);
    assert.equal(XMLValidator.validate(merged), true);
    for (const gone of ['upstream-secret', 'provpass', 'pbx.upstream.example', 'Old Name', '<Register_1_>'])
      assert.ok(!merged.includes(gone), gone);
    assert.equal(merged.match(/<Profile_Rule>/g)?.length, 1);
    assert.match(merged, /<Line_Enable_2_>No<\/Line_Enable_2_>/);
    assert.match(merged, /<SIP_Port_1_ group="Ext_1\/SIP_Settings">5060<\/SIP_Port_1_>/);
    assert.match(merged, /<Time_Zone>GMT\+01:00<\/Time_Zone>/);
  });

  it('panasonic: KEY="value" lines under the upstream\'s header; provisioning and lines are papgate\'s', () => {
    const own = [
      '# Panasonic SIP Phone Standard Format File # DO NOT CHANGE THIS LINE!',
      'SIP_PASS_1="papgate-pw"',
      'SIP_RGSTR_ADDR_1="sip.acme.example"',
      'CFG_STANDARD_FILE_PATH="http://prov.papgate.test/d/cred/Config{MAC}.cfg"',
      'OPTION66_ENABLE="N"',
    ].join('\n');
    const merged = FORMATS.panasonic.merge(UPSTREAM_FILES.panasonic, own);
    assert.equal(merged.split('\n')[0], '# PCC Standard Format File # DO NOT CHANGE THIS LINE!');
    for (const gone of [
      'upstream-secret',
      'pbx.upstream.example',
      'backup.upstream',
      'Old Name',
      'PROVISION_ENABLE',
      'CFG_CYCLIC=',
    ])
      assert.ok(!merged.includes(gone), gone);
    assert.deepEqual(
      merged.split('\n').filter((l) => l.startsWith('OPTION66_ENABLE=')),
      ['OPTION66_ENABLE="N"'],
    );
    for (const kept of [
      'TIME_ZONE="60"',
      'SDP_CODEC0_1="G722"',
      'VM_NUMBER_1="*97"',
      'NTP_ADDR="pool.ntp.org"',
    ])
      assert.ok(merged.includes(kept), kept);
  });

  // papgate's phone.cfg as it renders a full file (config/templates/poly): attributes on elements.
  const ownPoly = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!-- papgate full configuration for 0004f2aabbcc -->
<polycomConfig>
  <reg reg.1.address="101" reg.1.auth.userId="101" reg.1.auth.password="papgate-pw" reg.1.displayName="Alice" reg.1.label="101" reg.1.server.1.address="sip.acme.example" reg.1.server.1.port="5080"/>
  <reg reg.2.address="" reg.2.auth.userId="" reg.2.auth.password="" reg.2.displayName="" reg.2.label="" reg.2.server.1.address="" reg.2.server.1.port=""/>
  <reg reg.1.outboundProxy.address="" reg.1.outboundProxy.port=""/>
  <dialplan dialplan.routing.server.1.address="sip.acme.example" dialplan.routing.server.1.port="5080" dialplan.routing.emergency.1.value="112" dialplan.routing.emergency.1.server.1="1"/>
  <device device.set="1" device.prov.serverName.set="1" device.prov.serverName="http://prov.papgate.test/d/cred/" device.prov.password.set="1" device.prov.password="cred"/>
</polycomConfig>
`;
  /** The values `name` is set to, wherever in the file. */
  const attr = (body: string, name: string) =>
    [...body.matchAll(new RegExp(`\\s${name.replace(/\./g, '\\.')}="([^"]*)"`, 'g'))].map((m) => m[1]);

  it("poly: attributes by name on any element (FusionPBX's <PHONE>); lines, provisioning, check-sync and emergency routing are papgate's", () => {
    const merged = FORMATS.poly.merge(UPSTREAM_FILES.poly, ownPoly);
    assert.equal(XMLValidator.validate(merged), true);
    for (const gone of [
      'upstream-secret',
      'provpass',
      'fusionpbx.example/app',
      'backup.upstream',
      'Old Name',
      '102@',
    ])
      assert.ok(!merged.includes(gone), gone);
    assert.deepEqual(attr(merged, 'reg.1.auth.password'), ['papgate-pw']);
    assert.deepEqual(attr(merged, 'device.prov.serverName'), ['http://prov.papgate.test/d/cred/']);
    assert.deepEqual(attr(merged, 'device.set'), ['1']);
    // Owned where papgate's file says nothing: the DHCP boot server, line 1's outbound proxy, the
    // check-sync handling and its challenge, polling, the global backup server, a second emergency
    // route. A server's transport is the customer's (below).
    for (const owned of [
      'device.dhcp.bootSrvUseOpt',
      'reg.1.outboundProxy.port',
      'voIpProt.SIP.specialEvent.checkSync.alwaysReboot',
      'voIpProt.SIP.requestValidation.1.request',
      'prov.polling.period',
      'dialplan.routing.emergency.2.value',
      // Every dial plan is papgate's (it could block an emergency number), as no setting may set one.
      'dialplan.digitmap',
    ])
      assert.deepEqual(attr(merged, owned), owned === 'reg.1.outboundProxy.port' ? [''] : [], owned);
    assert.deepEqual(attr(merged, 'reg.1.server.1.transport'), ['TCPOnly']);
    for (const kept of [
      'reg.1.lineKeys="2"',
      'device.prov.upgradeServer="http://fusionpbx.example/firmware"',
      'lcl.ml.lang="Deutsch_Deutschland"',
    ])
      assert.ok(merged.includes(kept), kept);
    // papgate's elements close the upstream's root, whose layout is kept.
    assert.match(merged, /^<\?xml[^\n]*\?>\n<PHONE>\n\t<REGISTRATION\n/);
    assert.match(merged, /<device device\.set="1"[^>]*\/>\n<\/PHONE>\n$/);
  });

  it("poly: Wazo's settings on an empty root (-user.cfg); a master file is refused", () => {
    const merged = FORMATS.poly.merge(OTHER_UPSTREAM_FILES.polyWazo, ownPoly);
    assert.equal(XMLValidator.validate(merged), true);
    assert.ok(!merged.includes('upstream-secret') && !merged.includes('pbx.upstream.example'));
    assert.deepEqual(attr(merged, 'reg.1.displayName'), ['Alice']);
    assert.ok(merged.includes('\ndevice.auth.localAdminPassword="9486"\n'));
    assert.ok(merged.includes('\nmsg.mwi.1.callBack="*97"\n'));
    assert.match(merged, /<\/polycomConfig>\n$/);
    assert.throws(() => FORMATS.poly.check(OTHER_UPSTREAM_FILES.polyMaster), /master file/);
  });

  // papgate's Gigaset provider.xml as it renders a full file (config/templates/gigaset), shortened.
  const ownGigaset = (items: string) => `<?xml version="1.0" encoding="UTF-8"?>
<!-- papgate full configuration -->
<ProviderFrame xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="N510.xsd">
  <Provider>
    <MAC_ADDRESS value="7C2F80AABBCC"/>
    <PROFILE_NAME class="string" value="papgate"/>
${items}
    <SYMB_ITEM ID="BS_IP_Data1.aucS_DATA_SERVER[0]" class="symb_item" value='"profile.gigaset.net/device"'/>
    <S_CONFIGFILE_URL class="string" value='"prov.papgate.test/d/cred/7C2F80AABBCC.xml"'/>
    <S_PROV_PASSWORD class="string" value='"cred"'/>
  </Provider>
</ProviderFrame>`;

  it("gigaset N510: SYMB_ITEM by ID, as written (a raw & included); accounts, handsets and provisioning are papgate's", () => {
    const own =
      ownGigaset(`    <SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_PASSWORD" class="symb_item" value='"papgate-pw"'/>
    <SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_PASSWORD_2" class="symb_item" value='""'/>`);
    const merged = FORMATS.gigaset.merge(UPSTREAM_FILES.gigaset, own);
    for (const gone of [
      'upstream-secret',
      'pbx.upstream.example',
      'rogue.upstream',
      'Old Name',
      'wazo.example:8667/7C2F80AABBCC.xml',
      '"wazo.example:8667"',
      'ucB_AUTO_UPDATE_PROFILE',
      'ONESHOT_PROVISIONING',
      'value="N510"',
    ])
      assert.ok(!merged.includes(gone), gone);
    assert.equal(merged.match(/aucS_SIP_PASSWORD"/g)?.length, 1);
    assert.ok(
      merged.includes(
        `<SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_PASSWORD" class="symb_item" value='"papgate-pw"'/>`,
      ),
    );
    for (const kept of [
      `<SYMB_ITEM ID="BS_AE_SwConfig.ucCountryCodeTone" class="symb_item" value="12"/>`,
      `<SYMB_ITEM ID="BS_IP_Data1.aucS_TIME_NTP_SERVER" class="symb_item" value='"pool.ntp.org"'/>`,
      `value='"http://wazo.example:8667/42/fw262.bin?mac=7C2F80AABBCC&fw262.bin"'`,
      '<!-- Needed to enable Provisioning, After Reboot -->\t -->',
    ])
      assert.ok(merged.includes(kept), kept);
    // papgate's declaration (UTF-8, as the answer is sent), the upstream's comments, no blank lines
    // where items went.
    assert.ok(merged.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<ProviderFrame'));
    assert.ok(!/\n\s*\n/.test(merged));
    assert.match(
      merged,
      /<S_PROV_PASSWORD class="string" value='"cred"'\/>\n {2}<\/Provider>\n<\/ProviderFrame>\n$/,
    );
  });

  it("gigaset N720: an array index papgate writes is papgate's on every index and on [%]", () => {
    const own =
      ownGigaset(`    <SYMB_ITEM ID="BS_VOIP_Data.astVoipAccounts[0].ucVoipProviderIndex" class="symb_item" value="0"/>
    <SYMB_ITEM ID="BS_VOIP_Data.astVoipAccounts[0].aucS_SIP_PASSWORD[0]" class="symb_item" value='"papgate-pw"'/>
    <SYMB_ITEM ID="BS_IP_Data.ucB_DO_CHECK_FOR_PROFILE_UPDATES" class="symb_item" value="1"/>`);
    const merged = FORMATS.gigaset.merge(OTHER_UPSTREAM_FILES.gigasetN720, own);
    for (const gone of ['upstream-secret', 'rogue.upstream', 'pbx.upstream.example', 'AUTOPROVISIONING_CODE'])
      assert.ok(!merged.includes(gone), gone);
    assert.equal(merged.match(/ucVoipProviderIndex/g)?.length, 1);
    assert.equal(merged.match(/DO_CHECK_FOR_PROFILE_UPDATES" class="symb_item" value="1"/g)?.length, 1);
    for (const kept of [
      'astVoipAccounts[%].ucB_CALL_MANAGER_SUPPORT',
      'aucSIP_PROVIDER_NAME[%]" class="symb_item" value=\'"WazoPBX"\'',
      'ucSIP_PREFERRED_TRANSPORT_LAYER" class="symb_item" value="17"/> <!-- UDP -->',
      'astVoipAccounts[3].aucS_VOIP_NET_AM_NUMBER_1[%]',
      // A tag inside a comment is no item.
      '<SYMB_ITEM ID="BS_VOIP_Data.ucI_DTMF_TX_MODE_BITS" class="symb_item" value="1"/>\n    -->',
    ])
      assert.ok(merged.includes(kept), kept);
  });

  it('reads the value the upstream gives an item, named as a setting names it (what papgate writes back gives way to it)', () => {
    const { yealink, snom, grandstream, poly, gigaset } = FORMATS;
    const value = (f: Format, upstream: string, item: string) => f.values(upstream, [item])[0];
    assert.equal(value(yealink, UPSTREAM_FILES.yealink, 'LANG.GUI'), 'German');
    assert.equal(
      value(yealink, `${UPSTREAM_FILES.yealink}\nlang.gui = English`, 'lang.gui'),
      'English',
      'the last line',
    );
    assert.equal(value(yealink, UPSTREAM_FILES.yealink, 'account.1.srtp_encryption'), null);
    assert.equal(value(snom, UPSTREAM_FILES.snom, 'user_host[2]'), 'pbx.upstream.example');
    assert.equal(value(snom, UPSTREAM_FILES.snom, 'user_host[3]'), null);
    assert.equal(value(snom, UPSTREAM_FILES.snom, 'user_srtp[1]'), null);
    const noIdx = UPSTREAM_FILES.snom.replace(
      '</phone-settings>',
      '<user_srtp perm="">o&amp;n</user_srtp></phone-settings>',
    );
    assert.equal(
      value(snom, noIdx, 'user_srtp[1]'),
      'o&n',
      'an element without idx is that item too, its text read',
    );
    assert.equal(value(grandstream, UPSTREAM_FILES.grandstream, 'P47'), 'pbx.upstream.example:5060');
    const padded = UPSTREAM_FILES.grandstream.replace('<P47>', '<P0047>').replace('</P47>', '</P0047>');
    assert.equal(value(grandstream, padded, 'P47'), 'pbx.upstream.example:5060');
    assert.equal(value(grandstream, UPSTREAM_FILES.grandstream, 'P130'), null);
    assert.equal(value(poly, UPSTREAM_FILES.poly, 'REG.1.server.1.transport'), 'TCPOnly');
    assert.equal(value(poly, UPSTREAM_FILES.poly, 'sec.srtp.require'), null);
    assert.equal(value(gigaset, UPSTREAM_FILES.gigaset, 'BS_AE_SwConfig.ucCountryCodeTone'), '12');
    assert.equal(
      value(
        gigaset,
        UPSTREAM_FILES.gigaset,
        'BS_VOIP_Data.astVoipProviders[0].ucSIP_PREFERRED_TRANSPORT_LAYER',
      ),
      null,
    );
  });

  it('what papgate writes back gives way to an upstream that sets the item, or one of its names on other firmware', () => {
    const gate = new Gate(null, new Metrics(), silentLog);
    const transport = [
      { name: 'account.1.sip_server.1.transport_type', value: '0' },
      { name: 'account.1.transport', value: '0' },
    ];
    const srtp = [{ name: 'account.1.srtp_encryption', value: '0' }];
    const other = { name: 'lang.gui', value: 'English' };
    const settings = { key: 'k', items: [...transport, ...srtp, other], yielding: [transport, srtp] };
    const upstream = (extra: string) => ({
      family: 'yealink' as const,
      body: `${UPSTREAM_FILES.yealink}\n${extra}`,
    });
    // the older name alone: the transport is the upstream's on every firmware, its value written
    // for the name it left out (final attacker look, A4: a V8x phone kept papgate's TLS)
    const y = gate.yieldTo(upstream('account.1.transport = 2'), settings);
    assert.deepEqual(y.items, [
      { name: 'account.1.sip_server.1.transport_type', value: '2' },
      ...srtp,
      other,
    ]);
    assert.notEqual(y.key, settings.key, 'another body');
    assert.deepEqual(gate.yieldTo(upstream('ACCOUNT.1.SRTP_ENCRYPTION = 2'), settings).items, [
      ...transport,
      other,
    ]);
    // a silent upstream: all written back
    assert.equal(gate.yieldTo(upstream(''), settings), settings);
  });

  it('refuses what it cannot merge: no header, a DTD, broken XML, another version of the format', () => {
    const refused: [keyof typeof FORMATS, string][] = [
      ['yealink', 'account.1.enable = 1\n'],
      ['yealink', '<html>Login</html>'],
      ['snom', '<?xml version="1.0"?><!DOCTYPE settings [<!ENTITY x "boom">]><settings>&x;</settings>'],
      ['snom', '<settings><phone-settings></settings>'],
      ['snom', '<html><body>Login</body></html>'],
      [
        'grandstream',
        '<gs_provision version="1"><config version="2"><item name="a">1</item></config></gs_provision>',
      ],
      ['poly', '<html><body>Login</body></html>'],
      ['poly', '<polycomConfig reg.1.address="1">'],
      ['poly', '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x "boom">]><polycomConfig a.b="&x;"/>'],
      ['gigaset', '<settings><phone-settings/></settings>'],
      ['gigaset', '<ProviderFrame><Provider><SYMB_ITEM ID="a"><x/></SYMB_ITEM></Provider></ProviderFrame>'],
      ['gigaset', '<ProviderFrame><Provider><SYMB_ITEM ID="a" value=\'"1"\'/>'],
      ['gigaset', '<!DOCTYPE p [<!ENTITY x "boom">]><ProviderFrame><Provider/></ProviderFrame>'],
    ];
    for (const [family, body] of refused) assert.throws(() => FORMATS[family].check(body), FormatError, body);
    for (const family of ['yealink', 'snom', 'grandstream', 'cisco', 'panasonic', 'poly', 'gigaset'] as const)
      FORMATS[family].check(UPSTREAM_FILES[family]);
  });
});

describe('gate mode: what an upstream could smuggle past the merge', () => {
  const ownSnom = `<?xml version="1.0" encoding="utf-8"?>
<settings>
  <phone-settings e="2">
    <user_pass idx="1" perm="R">papgate-pw</user_pass>
    <setting_server perm="R">http://prov.papgate.test/d/cred/{mac}.xml</setting_server>
  </phone-settings>
</settings>`;

  it('refuses CDATA and processing instructions (a phone may read the elements inside)', () => {
    const refused: [keyof typeof FORMATS, string][] = [
      [
        'snom',
        '<settings><phone-settings e="2"><![CDATA[<setting_server>http://evil/</setting_server>]]></phone-settings></settings>',
      ],
      [
        'snom',
        '<settings><phone-settings e="2"><language><![CDATA[<setting_server>x</setting_server>]]></language></phone-settings></settings>',
      ],
      ['snom', '<settings><phone-settings e="2"><?setting_server http://evil/?></phone-settings></settings>'],
      [
        'grandstream',
        '<gs_provision version="1"><config version="1"><![CDATA[<P237>evil</P237>]]></config></gs_provision>',
      ],
      ['cisco', '<flat-profile><![CDATA[<Profile_Rule_B>http://evil/</Profile_Rule_B>]]></flat-profile>'],
      ['cisco', '<flat-profile><Time_Zone><![CDATA[<Proxy_2_>evil</Proxy_2_>]]></Time_Zone></flat-profile>'],
      ['poly', '<polycomConfig a.b="1"><![CDATA[<x device.prov.serverName="evil"/>]]></polycomConfig>'],
      [
        'gigaset',
        `<ProviderFrame><Provider><![CDATA[<S_CONFIGFILE_URL value='"evil"'/>]]></Provider></ProviderFrame>`,
      ],
    ];
    for (const [family, body] of refused) assert.throws(() => FORMATS[family].check(body), FormatError, body);
    // What was taken before: the CDATA's element came out of the merge as a real one.
    assert.throws(() => FORMATS.snom.merge(refused[0]![1], ownSnom), FormatError);
  });

  it('refuses a second container, items outside it, items holding elements, IDs written to be misread', () => {
    const refused: [keyof typeof FORMATS, string][] = [
      [
        'snom',
        '<settings><phone-settings e="2"><language>en</language></phone-settings><phone-settings e="2"><setting_server>http://evil/</setting_server></phone-settings></settings>',
      ],
      ['snom', '<settings><phone-settings e="2"/><setting_server>http://evil/</setting_server></settings>'],
      [
        'snom',
        '<settings><phone-settings e="2"><user_host idx=" 1">evil</user_host></phone-settings></settings>',
      ],
      [
        'grandstream',
        '<gs_provision version="1"><config version="1"><P30>a</P30></config><config version="1"><P237>evil</P237></config></gs_provision>',
      ],
      [
        'grandstream',
        '<gs_provision version="1"><P237>evil</P237><config version="1"><P30>a</P30></config></gs_provision>',
      ],
      [
        'cisco',
        '<flat-profile><Time_Zone><Profile_Rule_B>http://evil/</Profile_Rule_B></Time_Zone></flat-profile>',
      ],
      [
        'gigaset',
        `<ProviderFrame><Provider><MAC_ADDRESS value="1"/></Provider><Provider><S_CONFIGFILE_URL value='"evil"'/></Provider></ProviderFrame>`,
      ],
      [
        'gigaset',
        `<ProviderFrame><SYMB_ITEM ID="S_CONFIGFILE_URL" value='"evil"'/><Provider><MAC_ADDRESS value="1"/></Provider></ProviderFrame>`,
      ],
      [
        'gigaset',
        `<ProviderFrame><Provider><MAC_ADDRESS value="1"/></Provider><S_CONFIGFILE_URL value='"evil"'/></ProviderFrame>`,
      ],
      [
        'gigaset',
        `<ProviderFrame><Provider><SYMB_ITEM ID="BS_X.y" ID="S_CONFIGFILE_URL" value='"evil"'/></Provider></ProviderFrame>`,
      ],
      [
        'gigaset',
        `<ProviderFrame><Provider><SYMB_ITEM id="S_CONFIGFILE_URL" value='"evil"'/></Provider></ProviderFrame>`,
      ],
      [
        'gigaset',
        `<ProviderFrame><Provider><SYMB_ITEM ID=" S_CONFIGFILE_URL " value='"evil"'/></Provider></ProviderFrame>`,
      ],
    ];
    for (const [family, body] of refused) assert.throws(() => FORMATS[family].check(body), FormatError, body);
  });

  it('grandstream: a P-value is compared by number (P0237 is P237)', () => {
    const own = `<gs_provision version="1"><config version="1"><P237>prov.papgate.test/d/cred</P237><P34>papgate-pw</P34></config></gs_provision>`;
    const merged = FORMATS.grandstream.merge(
      '<gs_provision version="1"><config version="1"><P0237>evil</P0237><P034>upstream-secret</P034><P047>evil</P047><P30>pool.ntp.org</P30></config></gs_provision>',
      own,
    );
    assert.ok(!merged.includes('evil') && !merged.includes('upstream-secret'), merged);
    assert.ok(merged.includes('<P30>pool.ntp.org</P30>'));
  });

  it('cisco: an empty element stays empty (it leaves the value as it is, <X></X> would clear it)', () => {
    const own = `<?xml version="1.0" encoding="UTF-8"?>
<flat-profile>
  <Password_1_>papgate-pw</Password_1_>
</flat-profile>`;
    const merged = FORMATS.cisco.merge(
      `<?xml version="1.0" encoding="UTF-8"?>
<flat-profile>
<IVR_Admin_Passwd ua="na"/>
<Speed_Dial_2_ ua="rw" />
<Password_1_>upstream-secret</Password_1_>
<Time_Zone>GMT+01:00</Time_Zone>
</flat-profile>
`,
      own,
    );
    assert.ok(merged.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<flat-profile>\n'), merged);
    assert.ok(merged.includes('\n<IVR_Admin_Passwd ua="na"/>\n<Speed_Dial_2_ ua="rw" />\n'), merged);
    assert.ok(!merged.includes('upstream-secret') && !merged.includes('</IVR_Admin_Passwd>'));
    assert.ok(merged.includes('<Password_1_>papgate-pw</Password_1_>'));
  });

  const ownYealink = [
    '#!version:1.0.0.1',
    'account.1.password = papgate-pw',
    'static.auto_provision.server.url = http://prov.papgate.test/d/cred/',
  ].join('\n');
  const urls = (body: string) =>
    body.split(/\r\n|\r|\n/).filter((l) => l.includes('auto_provision.server.url') || l.includes('evil'));

  it('yealink: a lone CR ends a line, in the header too', () => {
    const merged = FORMATS.yealink.merge(
      '#!version:1.0.0.1\rstatic.auto_provision.server.url = http://evil/a\nlang.gui = German\rstatic.auto_provision.server.url = http://evil/b\n',
      ownYealink,
    );
    assert.deepEqual(urls(merged), ['static.auto_provision.server.url = http://prov.papgate.test/d/cred/']);
    assert.ok(merged.includes('lang.gui = German'));
  });

  it('yealink: a line that is no comment and no key = value (include:config) is dropped', () => {
    const merged = FORMATS.yealink.merge(
      '#!version:1.0.0.1\n# a comment\n\ninclude:config "http://evil/more.cfg"\nlang.gui = German\n',
      ownYealink,
    );
    assert.ok(!merged.includes('include:config'), merged);
    assert.ok(merged.includes('# a comment\n') && merged.includes('lang.gui = German'));
  });

  it('yealink: a 1 MiB line without = and long whitespace runs is merged in linear time', function () {
    this.timeout(2000); // the backtracking key pattern took minutes on this line
    const line = `${'a'.repeat(16)}${' \t'.repeat(512 * 1024)}a`;
    const merged = FORMATS.yealink.merge(`#!version:1.0.0.1\n${line}\nlang.gui = German\n`, ownYealink);
    assert.equal(
      merged,
      `#!version:1.0.0.1\nlang.gui = German\n${ownYealink.split('\n').slice(1).join('\n')}`,
    );
  });
});

describe('gate mode: configuration', () => {
  const load = (env: Record<string, string>) => () => loadConfig({ SIP_REGISTRAR: 'a.test:5070', ...env });
  it('refuses Patton (a CLI script), unknown families and placeholders, credentials in the URL, half credentials; takes Poly and Gigaset', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { PROVISIONING_UPSTREAM: 'patton=http://p.test/{mac}.cfg' },
        /PROVISIONING_UPSTREAM: patton: .*CLI script/,
      ],
      [{ PROVISIONING_UPSTREAM: 'avaya=http://p.test/{mac}.cfg' }, /unknown family "avaya"/],
      [{ PROVISIONING_UPSTREAM: 'yealink=http://p.test/{serial}.cfg' }, /unknown placeholder \{serial\}/],
      [{ PROVISIONING_UPSTREAM: 'yealink=http://u:p@p.test/{mac}.cfg' }, /without credentials/],
      [{ PROVISIONING_UPSTREAM: 'yealink=ftp://p.test/{mac}.cfg' }, /http\(s\) URL/],
      [{ PROVISIONING_UPSTREAM: 'yealink=http://a.test/{mac},yealink=http://b.test/{mac}' }, /named twice/],
      [{ PROVISIONING_UPSTREAM_USER: 'papgate' }, /PROVISIONING_UPSTREAM_PASSWORD: goes with/],
    ];
    for (const [env, message] of cases) assert.throws(load(env), message, JSON.stringify(env));
    const c = load({
      PROVISIONING_UPSTREAM:
        'yealink=https://prov.internal/{mac}.cfg, snom=http://prov.internal/snom/{MAC}/{file}',
      PROVISIONING_UPSTREAM_USER: 'papgate',
      PROVISIONING_UPSTREAM_PASSWORD: 'pw',
    })();
    assert.deepEqual(c.provisioningUpstream?.patterns, {
      yealink: 'https://prov.internal/{mac}.cfg',
      snom: 'http://prov.internal/snom/{MAC}/{file}',
    });
    assert.deepEqual(
      load({ PROVISIONING_UPSTREAM: 'poly=http://p.test/{mac}-user.cfg,gigaset=http://p.test/{MAC}.xml' })()
        .provisioningUpstream?.patterns,
      { poly: 'http://p.test/{mac}-user.cfg', gigaset: 'http://p.test/{MAC}.xml' },
    );
    assert.equal(load({})().provisioningUpstream, null);
  });
});

describe('gate mode: provisioning over a loopback upstream', () => {
  let upstream: LoopbackUpstream;
  let f: ProvisioningFixture;

  const start = async (env: Record<string, string> = {}) => {
    upstream = await new LoopbackUpstream({
      [`/yealink/${YEALINK}.cfg`]: UPSTREAM_FILES.yealink,
      [`/yealink/001565aabbcd.cfg`]: UPSTREAM_FILES.yealink,
      [`/yealink/001565aabbce.cfg`]: UPSTREAM_FILES.yealink,
      [`/yealink/001565aabbd0.cfg`]: `\uFEFF${UPSTREAM_FILES.yealink}`,
      [`/snom/${SNOM.toUpperCase()}.xml`]: UPSTREAM_FILES.snom,
      [`/gs/cfg${GRANDSTREAM}.xml`]: UPSTREAM_FILES.grandstream,
      [`/cisco/${CISCO}.xml`]: UPSTREAM_FILES.cisco,
      [`/pana/Config${PANASONIC.toUpperCase()}.cfg`]: UPSTREAM_FILES.panasonic,
      [`/fusion/${POLY}.cfg`]: UPSTREAM_FILES.poly,
      [`/wazo/${GIGASET.toUpperCase()}.xml`]: UPSTREAM_FILES.gigaset,
    }).start();
    const base = `http://127.0.0.1:${upstream.port}`;
    f = await new ProvisioningFixture({
      PROVISIONING_UPSTREAM: `yealink=${base}/yealink/{mac}.cfg,snom=${base}/snom/{MAC}.xml,grandstream=${base}/gs/{file},cisco=${base}/cisco/{mac}.xml,panasonic=${base}/pana/{file},poly=${base}/fusion/{mac}.cfg,gigaset=${base}/wazo/{MAC}.xml`,
      PROVISIONING_UPSTREAM_USER: 'papgate-upstream',
      PROVISIONING_UPSTREAM_PASSWORD: 'upstream-pw',
      PROVISIONING_UPSTREAM_TIMEOUT_MS: '300',
      PROVISIONING_UPSTREAM_MAX_BYTES: '16384',
      ...env,
    }).start();
    await f.store.addWhitelist('acme', parseWhitelistEntry('127.0.0.3'), 'test');
  };
  afterEach(async () => {
    await f.stop();
    await upstream.stop();
  });
  const get = (path: string, from: string, headers = {}) => request(f.port, path, { from, headers });

  it('minimal decisions and challenges never ask the upstream', async () => {
    await start();
    await f.device('yealink', 'T54W', YEALINK);
    for (let i = 0; i < 3; i++) {
      const res = await get(`/${YEALINK}.cfg`, '127.0.0.2');
      assert.equal(res.status, 200);
      assert.match(res.body, /Dial \*89 to authenticate/);
    }
    assert.equal((await get(`/${YEALINK}.cfg`, '127.0.0.3')).status, 200); // full: one request
    assert.equal(upstream.requests.length, 1);
    assert.equal((await get(`/${YEALINK}.cfg`, '127.0.0.2')).status, 401); // holds a credential now
    assert.equal(upstream.requests.length, 1);
  });

  it("full files of five vendors: the upstream's with papgate's items over them, asked with the phone's User-Agent and papgate's credentials", async () => {
    await start();
    await f.device('yealink', 'T54W', YEALINK);
    await f.device('snom', 'D785', SNOM);
    await f.device('grandstream', 'GXP2160', GRANDSTREAM);

    const y = await get(`/${YEALINK}.cfg`, '127.0.0.3', { 'user-agent': UA });
    assert.equal(y.status, 200);
    const cred = credentialIn(y.body)!;
    assert.ok(cred);
    assert.ok(y.body.startsWith('#!version:1.0.0.1\n'));
    assert.deepEqual(setting(y.body, 'account.1.password'), [`account.1.password = ${ACCOUNT.password}`]);
    assert.deepEqual(setting(y.body, 'static.auto_provision.server.password'), [
      `static.auto_provision.server.password = ${cred}`,
    ]);
    assert.ok(y.body.includes('linekey.2.label = Bob'));
    assert.ok(!y.body.includes('upstream-secret') && !y.body.includes('provpass'));
    assert.deepEqual(upstream.requests[0], {
      url: `/yealink/${YEALINK}.cfg`,
      userAgent: UA,
      authorization: `Basic ${Buffer.from('papgate-upstream:upstream-pw').toString('base64')}`,
    });

    const s = await get(`/${SNOM.toUpperCase()}.xml`, '127.0.0.3');
    assert.equal(s.status, 200);
    assert.equal(XMLValidator.validate(s.body), true);
    assert.ok(s.body.includes(`>${ACCOUNT.password}</user_pass>`));
    assert.ok(s.body.includes('<language perm="">Deutsch</language>'));
    assert.ok(s.body.includes('<functionKeys e="2">'));
    assert.ok(!s.body.includes('upstream-secret') && !s.body.includes('fusionpbx.example'));

    const g = await get(`/cfg${GRANDSTREAM}.xml`, '127.0.0.3');
    assert.equal(g.status, 200);
    assert.equal(XMLValidator.validate(g.body), true);
    assert.ok(g.body.includes(`<P34>${ACCOUNT.password}</P34>`));
    assert.ok(g.body.includes('<P30>pool.ntp.org</P30>'));
    assert.ok(!g.body.includes('upstream-secret') && !g.body.includes('provpass'));
    await f.device('cisco', 'SPA112', CISCO);
    await f.device('panasonic', 'KX-TGP550', PANASONIC);
    const c = await get(`/${CISCO}.xml`, '127.0.0.3');
    assert.equal(c.status, 200);
    assert.equal(XMLValidator.validate(c.body), true);
    assert.ok(c.body.includes(`<Password_1_>${ACCOUNT.password}</Password_1_>`));
    assert.ok(c.body.includes('<Time_Zone>GMT+01:00</Time_Zone>'));
    assert.ok(!c.body.includes('upstream-secret') && !c.body.includes('provpass'));
    const p = await get(`/Config${PANASONIC.toUpperCase()}.cfg`, '127.0.0.3');
    assert.equal(p.status, 200);
    assert.ok(p.body.startsWith('# PCC Standard Format File #'));
    assert.ok(p.body.includes(`SIP_PASS_1="${ACCOUNT.password}"`));
    assert.ok(p.body.includes('SDP_CODEC0_1="G722"'));
    assert.ok(!p.body.includes('upstream-secret') && !p.body.includes('PROVISION_ENABLE'));
    assert.deepEqual(
      upstream.requests.map((r) => r.url),
      [
        `/yealink/${YEALINK}.cfg`,
        `/snom/${SNOM.toUpperCase()}.xml`,
        `/gs/cfg${GRANDSTREAM}.xml`,
        `/cisco/${CISCO}.xml`,
        `/pana/Config${PANASONIC.toUpperCase()}.cfg`,
      ],
    );

    // The phone back with its credential: the same merge (papgate's one-script path is not taken).
    const again = await get(`/d/${cred}/${YEALINK}.cfg`, '127.0.0.9', { 'user-agent': UA });
    assert.equal(again.status, 200);
    assert.ok(again.body.includes('linekey.2.label = Bob'));
    assert.equal(credentialIn(again.body), cred);
  });

  it("with SIP_TLS_REGISTRAR, what the TLS minimal file changed is written back where the upstream is silent, the upstream's own choice kept where it speaks", async () => {
    await start({ SIP_TLS_REGISTRAR: '127.0.0.1:5061', SIP_TLS_EMERGENCY_SRTP: '1' });
    await f.device('yealink', 'T54W', YEALINK);
    await f.device('poly', 'VVX450', POLY);
    // the minimal file first: TLS to papgate
    const minimal = await get(`/${YEALINK}.cfg`, '127.0.0.8', { 'user-agent': UA });
    assert.deepEqual(setting(minimal.body, 'account.1.sip_server.1.transport_type'), [
      'account.1.sip_server.1.transport_type = 2',
    ]);
    // The upstream's Yealink file names no transport and no SRTP: the factory values, once each.
    const y = await get(`/${YEALINK}.cfg`, '127.0.0.3', { 'user-agent': UA });
    assert.equal(y.status, 200);
    for (const item of [
      'account.1.sip_server.1.transport_type',
      'account.1.transport',
      'account.1.srtp_encryption',
    ])
      assert.deepEqual(setting(y.body, item), [`${item} = 0`], item);
    // FusionPBX's Poly file says TCPOnly for line 1's server: kept, papgate's DNSnaptr gone; SRTP,
    // of which it says nothing, written back.
    const p = await get(`/${POLY}-phone.cfg`, '127.0.0.3', {
      'user-agent': 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.1234',
    });
    assert.equal(p.status, 200);
    assert.equal(XMLValidator.validate(p.body), true);
    assert.deepEqual(
      [...p.body.matchAll(/reg\.1\.server\.1\.transport="([^"]*)"/g)].map((m) => m[1]),
      ['TCPOnly'],
    );
    assert.deepEqual(
      [...p.body.matchAll(/sec\.srtp\.require="([^"]*)"/g)].map((m) => m[1]),
      ['0'],
    );
  });

  it("poly and gigaset: papgate's master file points at the phone's file, which is the upstream's with papgate's items over it", async () => {
    await start();
    await f.device('poly', 'VVX450', POLY);
    await f.device('gigaset', 'N510 IP PRO', GIGASET);

    // The master file is papgate's, the same for every decision: the upstream is not asked for it.
    const master = await get(`/${POLY}.cfg`, '127.0.0.3');
    assert.equal(master.status, 200);
    assert.match(master.body, new RegExp(`CONFIG_FILES="${POLY}-phone\\.cfg"`));
    assert.equal(upstream.requests.length, 0);

    const p = await get(`/${POLY}-phone.cfg`, '127.0.0.3', {
      'user-agent': 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.1234',
    });
    assert.equal(p.status, 200);
    assert.equal(XMLValidator.validate(p.body), true);
    const cred = credentialIn(p.body);
    assert.ok(cred);
    assert.ok(p.body.includes(`reg.1.auth.password="${ACCOUNT.password}"`));
    assert.ok(p.body.includes('lcl.ml.lang="Deutsch_Deutschland"'));
    assert.ok(!p.body.includes('dialplan.digitmap'));
    assert.ok(p.body.includes('<DEVICE_SETTINGS'));
    for (const gone of ['upstream-secret', 'provpass', 'checkSync', 'NOTIFY', 'backup.upstream'])
      assert.ok(!p.body.includes(gone), gone);

    const gigasetUA = 'Gigaset N510 IP PRO/42.245.00.000.000;7C2F80AABBCC';
    const g = await get(`/${GIGASET.toUpperCase()}.xml`, '127.0.0.3', { 'user-agent': gigasetUA });
    assert.equal(g.status, 200);
    assert.ok(g.body.startsWith('<?xml version="1.0" encoding="UTF-8"?>'));
    assert.ok(g.body.includes(`value='"${ACCOUNT.password}"'`));
    assert.ok(
      g.body.includes(`<SYMB_ITEM ID="BS_AE_SwConfig.ucCountryCodeTone" class="symb_item" value="12"/>`),
    );
    assert.ok(g.body.includes('fw262.bin?mac=7C2F80AABBCC&fw262.bin'));
    for (const gone of ['upstream-secret', 'rogue.upstream', 'wazo.example:8667/7C2F80AABBCC.xml', 'ONESHOT'])
      assert.ok(!g.body.includes(gone), gone);
    assert.equal(g.body.match(/<S_PROV_PASSWORD /g)?.length, 1);
    assert.deepEqual(
      upstream.requests.map((r) => [r.url, r.userAgent]),
      [
        [`/fusion/${POLY}.cfg`, 'FileTransport PolycomVVX-VVX_450-UA/6.4.0.1234'],
        [`/wazo/${GIGASET.toUpperCase()}.xml`, gigasetUA],
      ],
    );

    // The phone back with its credential: the same merge.
    const again = await get(`/d/${cred}/${POLY}-phone.cfg`, '127.0.0.9');
    assert.equal(again.status, 200);
    assert.ok(again.body.includes('lcl.ml.lang='));
  });

  for (const mode of ['status500', 'hang', 'huge', 'dtd', 'down'] as const)
    it(`an upstream that fails (${mode}) is a 503 with Retry-After; no credential is lost`, async () => {
      await start();
      await f.device(
        mode === 'dtd' ? 'snom' : 'yealink',
        mode === 'dtd' ? 'D785' : 'T54W',
        mode === 'dtd' ? SNOM : YEALINK,
      );
      const path = mode === 'dtd' ? `/${SNOM.toUpperCase()}.xml` : `/${YEALINK}.cfg`;
      const mac = mode === 'dtd' ? SNOM : YEALINK;
      if (mode === 'down') await upstream.stop();
      else upstream.mode = mode;
      const failed = await get(path, '127.0.0.3');
      assert.equal(failed.status, 503);
      assert.equal(failed.headers['retry-after'], '5');
      assert.ok(!failed.body.includes('authenticate') && !failed.body.includes(ACCOUNT.password));
      const device = await f.store.findDevice(mac as never);
      assert.equal(device?.credentialHash, null, 'no credential recorded that the phone never received');
      assert.notEqual(device?.state, 'successful');

      if (mode === 'down')
        upstream = await new LoopbackUpstream({
          [`/yealink/${YEALINK}.cfg`]: UPSTREAM_FILES.yealink,
        }).start();
      upstream.mode = 'serve';
      if (mode === 'down') return; // the upstream is back on another port: the next test covers the way back
      const ok = await get(path, '127.0.0.3');
      assert.equal(ok.status, 200);
      const cred = credentialIn(ok.body) ?? /:([0-9a-f]{32})@/.exec(ok.body)?.[1];
      assert.ok(cred);

      // A phone holding its credential whose upstream fails: 503 again, never the minimal file,
      // and the credential still works once the upstream is back.
      upstream.mode = mode;
      f.clock += 120_000; // past the cache's 60 s
      const withCred = await get(`/d/${cred}/${path.slice(1)}`, '127.0.0.9');
      assert.equal(withCred.status, 503);
      upstream.mode = 'serve';
      assert.equal((await get(`/d/${cred}/${path.slice(1)}`, '127.0.0.9')).status, 200);
    });

  it('an upstream 404 is a 503 with Retry-After, not a 404 (no miss counted against the phone)', async () => {
    await start();
    await f.device('yealink', 'T54W', '001565aabbcf'); // no file for it upstream
    for (let i = 0; i < 8; i++) {
      const res = await get('/001565aabbcf.cfg', '127.0.0.3');
      assert.equal(res.status, 503, `request ${i}: over PROVISIONING_MISS_LIMIT (5) a miss would be 429`);
      assert.equal(res.headers['retry-after'], '5');
    }
    assert.equal((await f.store.findDevice('001565aabbcf' as never))?.credentialHash, null);
  });

  it('counts upstream requests by family and outcome, and times the fetched ones', async () => {
    await start();
    const metrics = new Metrics();
    const app = createProvisioningServer({
      config: f.config,
      store: f.store,
      log: silentLog,
      metrics,
      now: () => f.clock,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    try {
      await f.device('yealink', 'T54W', YEALINK);
      const cred = credentialIn((await request(port, `/${YEALINK}.cfg`, { from: '127.0.0.3' })).body)!;
      assert.equal((await request(port, `/d/${cred}/${YEALINK}.cfg`, { from: '127.0.0.3' })).status, 200);
      f.clock += 61_000;
      upstream.mode = 'status500';
      assert.equal((await request(port, `/d/${cred}/${YEALINK}.cfg`, { from: '127.0.0.3' })).status, 503);
      const text = await metrics.registry.metrics();
      for (const [outcome, n] of [
        ['ok', 1],
        ['cached', 1],
        ['status', 1],
        ['timeout', 0],
      ] as const)
        assert.match(
          text,
          new RegExp(`papgate_upstream_requests_total\\{family="yealink",outcome="${outcome}"\\} ${n}\n`),
        );
      assert.match(text, /papgate_upstream_duration_seconds_count\{family="yealink"\} 2\n/);
    } finally {
      await app.close();
    }
  });

  describe('what an admin withdraws while the upstream is asked is not recorded', () => {
    /** A full request answered slowly by the upstream, `withdraw` run meanwhile: no full file. */
    const withdrawn = async (from: string, withdraw: () => Promise<unknown>) => {
      upstream.delayMs = 1000;
      const pending = get(`/${YEALINK}.cfg`, from);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(upstream.requests.length, 1, 'the upstream is being asked');
      await withdraw();
      const res = await pending;
      assert.ok(res.status === 503 || /Dial \*89 to authenticate/.test(res.body), res.body);
      assert.ok(!res.body.includes(ACCOUNT.password) && credentialIn(res.body) === null);
      const device = await f.store.findDevice(YEALINK as never);
      assert.equal(device?.credentialHash, null);
      assert.notEqual(device?.state, 'successful');
    };

    it('the end of a PIN bypass', async () => {
      await start({ PROVISIONING_UPSTREAM_TIMEOUT_MS: '3000' });
      await f.device('yealink', 'T54W', YEALINK);
      await f.store.suspendDevice('acme', YEALINK as never, 'test');
      await withdrawn('127.0.0.2', () => f.store.endPinBypass('acme', YEALINK as never, 'test'));
    });

    it('the removal of the temporary whitelist entry', async () => {
      await start({ PROVISIONING_UPSTREAM_TIMEOUT_MS: '3000' });
      await f.device('yealink', 'T54W', YEALINK);
      await f.redis.client.zAdd(keys.tenant('acme').tempWhitelist, {
        score: f.clock + 60_000,
        value: '127.0.0.2',
      });
      await withdrawn('127.0.0.2', () => f.store.removeTemporary('acme', '127.0.0.2', null, 'test'));
    });

    it('an edit of the device (the file was made from the device as it was)', async () => {
      await start({ PROVISIONING_UPSTREAM_TIMEOUT_MS: '3000' });
      await f.device('yealink', 'T54W', YEALINK);
      await f.store.suspendDevice('acme', YEALINK as never, 'test');
      upstream.delayMs = 1000;
      const pending = get(`/${YEALINK}.cfg`, '127.0.0.2');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const read = (await f.store.findDevice(YEALINK as never))!;
      const accounts = read.accounts.map((a) => ({ ...a, displayName: 'Edited Name' }));
      assert.equal(await f.store.editDevice(read, { ...read, accounts }, ['accounts'], {}, 'test'), 'edited');
      const res = await pending;
      // Decided again on the edited device: the bypass still runs, so its full file, with the edit.
      assert.equal(res.status, 200);
      assert.deepEqual(setting(res.body, 'account.1.display_name'), ['account.1.display_name = Edited Name']);
    });
  });

  it('takes a file that starts with a byte order mark, without it', async () => {
    await start();
    await f.device('yealink', 'T54W', '001565aabbd0');
    const res = await get('/001565aabbd0.cfg', '127.0.0.3');
    assert.equal(res.status, 200);
    assert.ok(res.body.startsWith('#!version:1.0.0.1\n'));
    assert.ok(res.body.includes('linekey.2.label = Bob'));
  });

  it('keeps one upstream file per URL, for the latest User-Agent: new User-Agents add no entries', async () => {
    await start({ PROVISIONING_UPSTREAM_CACHE_ENTRIES: '2', PROVISIONING_UPSTREAM_CACHE_SECONDS: '60' });
    const [a, b] = [YEALINK, '001565aabbcd'];
    await f.device('yealink', 'T54W', a);
    await f.device('yealink', 'T54W', b);
    const credB = credentialIn((await get(`/${b}.cfg`, '127.0.0.3')).body)!;
    const credA = credentialIn((await get(`/${a}.cfg`, '127.0.0.3', { 'user-agent': `${UA} x1` })).body)!;
    assert.equal(upstream.requests.length, 2);
    // The holder of a's credential, with ever new User-Agents: each is asked for, none pushes b out.
    for (const ua of [`${UA} x2`, `${UA} x3`, `${UA} x4`])
      assert.equal((await get(`/d/${credA}/${a}.cfg`, '127.0.0.3', { 'user-agent': ua })).status, 200);
    assert.equal(upstream.requests.length, 5);
    assert.equal((await get(`/d/${credB}/${b}.cfg`, '127.0.0.3')).status, 200);
    assert.equal(upstream.requests.length, 5, "b's file is still kept");
    // The latest User-Agent's file is the one kept.
    assert.equal((await get(`/d/${credA}/${a}.cfg`, '127.0.0.3', { 'user-agent': `${UA} x4` })).status, 200);
    assert.equal(upstream.requests.length, 5);
  });

  it('keeps upstream files for PROVISIONING_UPSTREAM_CACHE_SECONDS, at most PROVISIONING_UPSTREAM_CACHE_ENTRIES', async () => {
    await start({ PROVISIONING_UPSTREAM_CACHE_ENTRIES: '2', PROVISIONING_UPSTREAM_CACHE_SECONDS: '60' });
    const macs = [YEALINK, '001565aabbcd', '001565aabbce'];
    const creds: string[] = [];
    for (const mac of macs) {
      await f.device('yealink', 'T54W', mac);
      creds.push(credentialIn((await get(`/${mac}.cfg`, '127.0.0.3')).body)!);
    }
    assert.equal(upstream.requests.length, 3);
    const again = (i: number) => get(`/d/${creds[i]}/${macs[i]}.cfg`, '127.0.0.3');
    // The two newest are kept; the first was dropped for the third.
    assert.equal((await again(2)).status, 200);
    assert.equal((await again(1)).status, 200);
    assert.equal(upstream.requests.length, 3);
    assert.equal((await again(0)).status, 200);
    assert.equal(upstream.requests.length, 4);
    // Run out: asked again.
    f.clock += 61_000;
    assert.equal((await again(0)).status, 200);
    assert.equal(upstream.requests.length, 5);
  });
});
