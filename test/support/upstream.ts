import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Files as an existing provisioning server serves them (FusionPBX; Wazo for Gigaset, for which FusionPBX has no template), rendered for one phone each:
 * the shapes of fusionpbx/fusionpbx resources/templates/provision/yealink/t54w/{$mac}.cfg,
 * snom/720/{$mac}.xml, grandstream/gxp2160/{$mac}.xml and those named below, with values filled in
 * and most items left out. Each also tries to
 * set what papgate owns: the accounts (and a second server of account 1), the provisioning server
 * and its credentials, DHCP/PnP provisioning, check-sync handling.
 */
export const UPSTREAM_FILES = {
  yealink: `#!version:1.0.0.1
##File header "#!version:1.0.0.1" can not be edited or deleted.##

account.1.enable = 1
account.1.label = 101
account.1.display_name = Old Name
account.1.auth_name = 101
account.1.user_name = 101
account.1.password = upstream-secret
account.1.sip_server.1.address = pbx.upstream.example
account.1.sip_server.1.port = 5060
account.1.sip_server.2.address = backup.upstream.example
account.1.codec.1.enable = 1
account.1.codec.1.payload_type = PCMU
account.2.enable = 1
account.2.user_name = 102
local_time.time_zone = +1
local_time.time_zone_name = Germany(Berlin)
local_time.ntp_server1 = pool.ntp.org
lang.gui = German
linekey.2.type = 16
linekey.2.value = 102
linekey.2.label = Bob
sip.notify_reboot_enable = 0
static.auto_provision.server.url = http://fusionpbx.example/app/provision/
static.auto_provision.server.username = prov
static.auto_provision.server.password = provpass
static.auto_provision.dhcp_option.enable = 1
static.firmware.url = http://fusionpbx.example/firmware/T54W.rom
`,
  snom: `<?xml version="1.0" encoding="utf-8"?>
<settings>
<phone-settings e="2">
<language perm="">Deutsch</language>
<setting_server perm="RW">http://fusionpbx.example/app/provision/{mac}.xml</setting_server>
<pnp_config perm="">on</pnp_config>
<timezone perm="">GER+1</timezone>
<challenge_checksync perm="">on</challenge_checksync>
<settings_refresh_timer perm="RW">7200</settings_refresh_timer>
<user_active idx="1" perm="">on</user_active>
<user_name idx="1" perm="">101</user_name>
<user_pass idx="1" perm="">upstream-secret</user_pass>
<user_host idx="1" perm="">pbx.upstream.example</user_host>
<user_proxy idx="1" perm="">rogue.upstream.example</user_proxy>
<user_host idx="2" perm="">pbx.upstream.example</user_host>
<codec1_name idx="1" perm="">8</codec1_name>
<tone_scheme perm="">GER</tone_scheme>
</phone-settings>
<functionKeys e="2">
<fkey idx="0" context="active" perm="">blf &lt;sip:102@pbx.upstream.example&gt;</fkey>
</functionKeys>
</settings>
`,
  grandstream: `<?xml version="1.0" encoding="UTF-8" ?>
<!-- Grandstream XML Provisioning Configuration -->
<gs_provision version="1">
<mac>000b82aabbcc</mac>
  <config version="1">
    <!-- # Account Active. 0 - No, 1 - Yes. Default is 1 -->
    <P271>1</P271>
    <P270>101</P270>
    <P47>pbx.upstream.example:5060</P47>
    <P2312>backup.upstream.example:5060</P2312>
    <P35>101</P35>
    <P36>101</P36>
    <P34>upstream-secret</P34>
    <P3>Old Name</P3>
    <P33>*97</P33>
    <P237>fusionpbx.example/app/provision</P237>
    <P1360>prov</P1360>
    <P1361>provpass</P1361>
    <P64>CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00</P64>
    <P30>pool.ntp.org</P30>
  </config>
</gs_provision>
`,
  // fusionpbx/fusionpbx resources/templates/provision/cisco/spa112/{$mac}.xml
  cisco: `<?xml version="1.0" encoding="UTF-8"?>
<flat-profile>
<!--<Restricted_Access_Domains/>-->
<Provision_Enable>Yes</Provision_Enable>
<Resync_On_Reset>Yes</Resync_On_Reset>
<Resync_Periodic>0</Resync_Periodic>
<Resync_From_SIP>Yes</Resync_From_SIP>
<Profile_Rule>[--uid prov --pwd provpass]http://fusionpbx.example/app/provision/?mac=$MA</Profile_Rule>
<Upgrade_Enable>Yes</Upgrade_Enable>
<Line_Enable_1_>Yes</Line_Enable_1_>
<Mailbox_ID_1_>*97</Mailbox_ID_1_>
<Proxy_1_>pbx.upstream.example</Proxy_1_>
<SIP_Port_1_ group="Ext_1/SIP_Settings">5060</SIP_Port_1_>
<Register_1_>Yes</Register_1_>
<Display_Name_1_>Old Name</Display_Name_1_>
<User_ID_1_>101</User_ID_1_>
<Password_1_>upstream-secret</Password_1_>
<Line_Enable_2_>Yes</Line_Enable_2_>
<Proxy_2_>pbx.upstream.example</Proxy_2_>
<Time_Zone>GMT+01:00</Time_Zone>
</flat-profile>
`,
  // fusionpbx/fusionpbx resources/templates/provision/panasonic/tgp550/{$mac}.cfg
  panasonic: `# PCC Standard Format File # DO NOT CHANGE THIS LINE!

## System Time Settings
TIME_ZONE="60"
## Provisioning Settings
OPTION66_ENABLE="Y"
PROVISION_ENABLE="Y"
CFG_MASTER_FILE_PATH="tftp://pbx.upstream.example/{mac}.cfg"
CFG_CYCLIC="N"
NTP_ADDR="pool.ntp.org"
SDP_CODEC0_1="G722"
SIP_AUTHID_1="101"
SIP_PASS_1="upstream-secret"
SIP_PRXY_ADDR_1="pbx.upstream.example"
SIP_2NDPROXY_ADDR_1="backup.upstream.example"
SIP_RGSTR_ADDR_1="pbx.upstream.example"
PHONE_NUMBER_1="101"
DISPLAY_NAME_1="Old Name"
VM_NUMBER_1="*97"
`,
  // fusionpbx/fusionpbx resources/templates/provision/polycom/6.x/{$mac}.cfg (the phone's one file)
  poly: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<PHONE>
	<REGISTRATION
	reg.1.displayName="Old Name"
		reg.1.address="101@pbx.upstream.example"
		reg.1.label="101"
		reg.1.type="private"
		reg.1.auth.userId="101"
		reg.1.auth.password="upstream-secret"
		reg.1.lineKeys="2"
		reg.1.outboundProxy.port="5060"
		reg.1.server.1.address="pbx.upstream.example"
		reg.1.server.1.transport="TCPOnly"
		reg.1.server.2.address="backup.upstream.example"
		reg.2.address="102@pbx.upstream.example"
	/>
	<DEVICE_SETTINGS
		device.set="1"
		device.sntp.serverName="pool.ntp.org"
		device.prov.upgradeServer.set="1"
		device.prov.upgradeServer="http://fusionpbx.example/firmware"
		device.prov.serverName.set="1"
		device.prov.serverName="fusionpbx.example/app/provision/"
		device.prov.user.set="1"
		device.prov.user="prov"
		device.prov.password.set="1"
		device.prov.password="provpass"
		device.dhcp.bootSrvUseOpt.set="1"
		device.dhcp.bootSrvUseOpt="Default"
	/>
	<DIALPLAN
		dialplan.routing.emergency.2.value="112"
		dialplan.routing.emergency.2.server.1="2"
		dialplan.digitmap="[2-9]11|0T|xxx.T"
	/>
	<GENERAL
		voIpProt.SIP.specialEvent.checkSync.alwaysReboot="1"
		voIpProt.SIP.requestValidation.1.method="digest"
		voIpProt.SIP.requestValidation.1.request="NOTIFY"
		voIpProt.server.2.address="backup.upstream.example"
		prov.polling.enabled="1"
		prov.polling.period="86400"
		lcl.ml.lang="Deutsch_Deutschland"
	/>
</PHONE>
`,
  // wazo-platform/wazo-provd-plugins plugins/wazo_gigaset/N510/templates/base.tpl, rendered
  // (its raw `&` in S_SPECIAL_DATA_SRV included, :11)
  gigaset: `<?xml version="1.0" encoding="ISO-8859-1"?>
<ProviderFrame xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="N510.xsd">
  <Provider>
<!-- Please enter the correct MAC Address example: 3E2F800E1234 -->
    <MAC_ADDRESS value="7C2F80AABBCC"/>
    <PROFILE_NAME class="string" value="N510"/>
    <S_SPECIAL_DATA_SRV class="string" value='"http://wazo.example:8667/42/fw262.bin?mac=7C2F80AABBCC&fw262.bin"'/>
    <SYMB_ITEM ID="BS_Accounts.astAccounts[0].aucAccountName[0]" class="symb_item" value='"Old Name 101"'/>
    <SYMB_ITEM ID="BS_Accounts.astAccounts[0].uiSendMask" class="symb_item" value="0x1"/>
    <SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_ACCOUNT_NAME_1" class="symb_item" value='"Old Name 101"'/>
    <SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_PASSWORD" class="symb_item" value='"upstream-secret"'/>
    <SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_SERVER" class="symb_item" value='"pbx.upstream.example"' />
    <SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_PASSWORD_2" class="symb_item" value='"upstream-secret"'/>
    <SYMB_ITEM ID="BS_IP_Data1.aucS_SIP_SERVER_7" class="symb_item" value='"pbx.upstream.example"' />
    <SYMB_ITEM ID="BS_IP_Data1.aucS_OUTBOUND_PROXY" class="symb_item" value='"rogue.upstream.example"'/>
    <SYMB_ITEM ID="BS_IP_Data1.ucI_SIP_PREFERRED_VOCODER" class="symb_item" value="0x05,0x01,0x00,0x02,0x03"/>
<!-- Needed to enable Provisioning, After Reboot -->	 -->
    <SYMB_ITEM ID="BS_IP_Data.ucB_AUTO_UPDATE_PROFILE" class="symb_item" value="0x0"/>
    <SYMB_ITEM ID="BS_IP_Data3.ucI_ONESHOT_PROVISIONING_MODE_1" class="symb_item" value="0x1"/>
    <SYMB_ITEM ID="BS_IP_Data1.aucS_DATA_SERVER[0]" class="symb_item" value='"wazo.example:8667"'/>
    <S_CONFIGFILE_URL class="string" value='"wazo.example:8667/7C2F80AABBCC.xml"'/>
    <SYMB_ITEM ID="BS_AE_SwConfig.ucCountryCodeTone" class="symb_item" value="12"/>
    <SYMB_ITEM ID="BS_IP_Data1.aucS_TIME_NTP_SERVER" class="symb_item" value='"pool.ntp.org"'/>
  </Provider>
</ProviderFrame>
`,
} as const;

/**
 * Files as other servers serve them, for the merges alone: Wazo's Poly file (the settings on the
 * root, itself empty: wazo_polycom/common/templates/base.tpl, listed as `[PHONE_MAC_ADDRESS]-user.cfg`
 * by v6_4_6/var/tftpboot/000000000000.cfg), FusionPBX's SoundPoint master file (polycom/650/{$mac}.cfg),
 * and Wazo's N720 profile (wazo_gigaset/N720/templates/base.tpl).
 */
export const OTHER_UPSTREAM_FILES = {
  polyWazo: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<polycomConfig

device.set="1"
device.prov.tagSerialNo.set="1"
device.prov.tagSerialNo="1"
device.auth.localAdminPassword.set="1"
device.auth.localAdminPassword="9486"
tcpIpApp.sntp.address="pool.ntp.org"
lcl.ml.lang="Deutsch_Deutschland"
tone.dtmf.viaRtp="1"
reg.1.server.1.address="pbx.upstream.example"
reg.1.server.1.port="5060"
reg.1.displayName="Old Name"
reg.1.address="101"
reg.1.auth.userId="101"
reg.1.auth.password="upstream-secret"
msg.mwi.1.callBack="*97"
call.callWaiting.enable="1"

/>
`,
  polyMaster: `<?xml version="1.0" standalone="yes"?>
<!-- Default Master SIP Configuration File-->
<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="001122334455-registration.cfg, phone1.cfg, sip.cfg, custom.cfg" MISC_FILES="" LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts" LICENSE_DIRECTORY="">
<APPLICATION_VVX1500 CONFIG_FILES_VVX1500="phone1.cfg, sip.cfg"/>
</APPLICATION>
`,
  gigasetN720: `<?xml version="1.0" encoding="ISO-8859-1"?>
<ProviderFrame xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="N720_general.xsd">
	<Provider>
        <MAC_ADDRESS value="7C2F80AABBCD"/>
        <PROFILE_NAME class="string" value="N720"/>
        <S_SPECIAL_DATA_SRV_IWU class="string" value='"http://wazo.example:8667/Gigaset/einsteiniwu117_70.bin?mac=7C2F80AABBCD&server_einstein_iwu117.bin"'/>
        <SYMB_ITEM ID="BS_IP_Data.ucB_DO_CHECK_FOR_PROFILE_UPDATES" class="symb_item" value="0"/>
        <SYMB_ITEM ID="BS_VOIP_Data.astVoipAccounts[%].aucS_AUTOPROVISIONING_CODE[%]" class="symb_item" value='"960"'/>
        <SYMB_ITEM ID="BS_VOIP_Data.astVoipAccounts[%].ucB_CALL_MANAGER_SUPPORT" class="symb_item" value="0"/>
        <SYMB_ITEM ID="BS_VOIP_Data.astVoipAccounts[%].ucVoipProviderIndex" class="symb_item" value="1"/>
        <SYMB_ITEM ID="BS_VOIP_Data.astVoipProviders[1].aucSIP_SERVER[%]" class="symb_item" value='"rogue.upstream.example"'/>
        <SYMB_ITEM ID="BS_VOIP_Data.astVoipProviders[0].aucSIP_PROVIDER_NAME[%]" class="symb_item" value='"WazoPBX"'/>
        <SYMB_ITEM ID="BS_VOIP_Data.astVoipProviders[0].aucSIP_DOMAIN[%]" class="symb_item" value='"pbx.upstream.example"'/>
        <SYMB_ITEM ID="BS_VOIP_Data.astVoipProviders[0].ucSIP_PREFERRED_TRANSPORT_LAYER" class="symb_item" value="17"/> <!-- UDP -->
    <!--Bit-Masks for I_DTMF_TX_MODE_BITS: Audio=1, RFC2833=2, SIP-INFO=4
            <SYMB_ITEM ID="BS_VOIP_Data.ucI_DTMF_TX_MODE_BITS" class="symb_item" value="1"/>
    -->
        <SYMB_ITEM ID="BS_VOIP_Data.astVoipAccounts[3].aucS_SIP_PASSWORD[0]" class="symb_item" value='"upstream-secret"'/>
        <SYMB_ITEM ID="BS_VOIP_Data.astVoipAccounts[3].aucS_VOIP_NET_AM_NUMBER_1[%]" class="symb_item" value='"*97"'/>
	</Provider>
</ProviderFrame>
`,
} as const;

/** What the loopback upstream does with the next requests. */
export type UpstreamMode = 'serve' | 'status500' | 'hang' | 'huge' | 'dtd';

/** A provisioning server on 127.0.0.1 serving `files` by path, counting what it was asked. */
export class LoopbackUpstream {
  readonly requests: { url: string; userAgent?: string; authorization?: string }[] = [];
  mode: UpstreamMode = 'serve';
  /** How long a served file waits before it is sent (an upstream that answers slowly). */
  delayMs = 0;
  private readonly server: http.Server;
  private readonly hanging = new Set<http.ServerResponse>();

  constructor(private readonly files: Readonly<Record<string, string>>) {
    this.server = http.createServer((req, res) => {
      this.requests.push({
        url: req.url ?? '',
        userAgent: req.headers['user-agent'],
        authorization: req.headers.authorization,
      });
      const body = this.files[req.url ?? ''];
      if (this.mode === 'hang') {
        this.hanging.add(res);
        return;
      }
      if (this.mode === 'status500') return void res.writeHead(500).end('upstream broke');
      if (this.mode === 'huge')
        return void res.writeHead(200).end('#!version:1.0.0.1\n'.padEnd(64 * 1024, 'x'));
      if (this.mode === 'dtd')
        return void res
          .writeHead(200)
          .end('<?xml version="1.0"?><!DOCTYPE settings [<!ENTITY x "boom">]><settings>&x;</settings>');
      if (body === undefined) return void res.writeHead(404).end();
      if (this.delayMs === 0) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
      this.hanging.add(res);
      setTimeout(() => {
        this.hanging.delete(res);
        res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
      }, this.delayMs);
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
