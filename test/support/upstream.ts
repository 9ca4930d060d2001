import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Files as an existing provisioning server (FusionPBX) serves them, rendered for one phone each:
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
} as const;

/** What the loopback upstream does with the next requests. */
export type UpstreamMode = 'serve' | 'status500' | 'hang' | 'huge' | 'dtd';

/** A provisioning server on 127.0.0.1 serving `files` by path, counting what it was asked. */
export class LoopbackUpstream {
  readonly requests: { url: string; userAgent?: string; authorization?: string }[] = [];
  mode: UpstreamMode = 'serve';
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
      res.writeHead(200, { 'content-type': 'text/plain' }).end(body);
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
