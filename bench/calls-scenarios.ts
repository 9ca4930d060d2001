/**
 * sipp scenarios of `npm run bench:calls`, written into the run's folder. Every call logs one line
 * (`-trace_logs`) naming how it ended, so the driver counts served, shed (503) and lost calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dtmfPcap } from '../test/e2e/dtmf-pcap';

const HEAD = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">`;

// Field 1 of the injection file is the whole `[authentication username=.. password=..]` keyword
// (sipp expands keywords in fields; a keyword nested in another is not parsed). A blank line would
// end the headers, so an optional line is appended to the one before.
const AUTH = '\n      [field1]';

const log = (what: string) => `<nop><action><log message="${what} [field0]"/></action></nop>`;

function ok200(): string {
  return `<send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>`;
}

function register(cseq: number, auth: boolean): string {
  return `<send retrans="500"${cseq === 1 ? ' start_rtd="1"' : ''}>
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]>;tag=[pid]reg[call_number]
      To: <sip:[field0]@[remote_ip]>
      Call-ID: [call_id]
      CSeq: ${cseq} REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Expires: 300
      Max-Forwards: 70${auth ? AUTH : ''}
      User-Agent: papgate-bench
      Content-Length: 0

    ]]>
  </send>`;
}

/**
 * REGISTER with digest: 401 then 200 (`REG <mac>`); a 503 at either step ends the call as shed
 * (`SHED <mac>`). rtd 1: first REGISTER to the 200; rtd 2: to the 503.
 */
export function registerScenario(): string {
  return `${HEAD}
<scenario name="bench register">
  <nop start_rtd="2"/>
  ${register(1, false)}
  <recv response="503" optional="true" next="shed" rtd="2"/>
  <recv response="401" auth="true"/>
  ${register(2, true)}
  <recv response="503" optional="true" next="shed" rtd="2"/>
  <recv response="200" rtd="1"/>
  ${log('REG')}
  <nop next="end"/>
  <label id="shed"/>
  ${log('SHED')}
  <label id="end"/>
</scenario>
`;
}

/** sipp's offer, and the emergency route's answer: PCMU and RFC 2833 events at sipp's address. */
const SDP = `v=0
      o=- 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=ptime:20
      a=sendrecv`;

function invite(cseq: number, auth: boolean): string {
  return `<send retrans="500"${cseq === 1 ? ' start_rtd="1"' : ''}>
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]>;tag=[pid]inv[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: ${cseq} INVITE
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Max-Forwards: 70${auth ? AUTH : ''}
      Content-Type: application/sdp
      Content-Length: [len]

      ${SDP}

    ]]>
  </send>`;
}

function ack(cseq: number, inDialog: boolean): string {
  return `<send>
    <![CDATA[
      ACK ${inDialog ? '[next_url]' : 'sip:[service]@[remote_ip]:[remote_port]'} SIP/2.0
      ${inDialog ? 'Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]' : '[last_Via:]'}
      From: <sip:[field0]@[remote_ip]>;tag=[pid]inv[call_number]
      ${inDialog ? 'To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]\n      [routes]' : '[last_To:]'}
      Call-ID: [call_id]
      CSeq: ${cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`;
}

const DIGITS = [...'0123456789'];

/**
 * Gives every RTP packet of a dtmfPcap() file the sequence numbers, timestamp and SSRC of its place
 * in the call. dtmfPcap() draws them at random per file, and FreeSWITCH drops a telephone-event
 * whose sequence number lies up to 100 below the last one it took as out of order: with one file
 * per digit about one call in thirty lost a digit. Layout: 24-byte file header, then per packet a
 * 16-byte record header, Ethernet (14), IPv4 (20), UDP (8) and the RTP header.
 */
function restamp(pcap: Buffer, position: number): Buffer {
  const rtpAt = 16 + 14 + 20 + 8;
  let seq = 1000 + position * 100;
  for (let at = 24; at < pcap.length; at += 16 + pcap.readUInt32LE(at + 8)) {
    pcap.writeUInt16BE(seq++, at + rtpAt + 2);
    pcap.writeUInt32BE(160000 + position * 80000, at + rtpAt + 4);
    pcap.writeUInt32BE(0x5eed0001, at + rtpAt + 8);
  }
  return pcap;
}

/**
 * The phone of the IVR benchmark: INVITE with digest (407), then its own PAP (injection fields
 * 2-7, one digit each) and `#` as RFC 2833 events `gapMs` apart, then it waits for papgate's BYE
 * (`BYE <mac>`; rtd 1 from the first INVITE, rtd 2 to a 503, rtd 3 from the authenticated INVITE
 * to its 200). sipp reads its pcaps when it loads
 * the scenario, so every digit of every position is a pcap of its own (its own RTP timestamp and
 * sequence numbers: the same file twice would be one repeated event to FreeSWITCH) and the scenario
 * branches to it. A 503 ends the call as `SHED <mac>`.
 */
export function ivrScenario(dir: string, gapMs: number, waitMs: number): string {
  const play = (position: number, key: string) => {
    const file = path.join(dir, `dtmf-${position}-${key === '#' ? 'hash' : key}.pcap`);
    fs.writeFileSync(file, restamp(dtmfPcap(key, { leadMs: 0 }), position));
    return `<nop><action><exec play_pcap_audio="${file}"/></action></nop>
  <pause milliseconds="${gapMs}"/>`;
  };
  const digits: string[] = [];
  for (let pos = 0; pos < 6; pos++) {
    digits.push(`<nop><action>
    <assignstr assign_to="d" value="[field${pos + 2}]"/>
  </action></nop>`);
    for (const k of DIGITS) {
      digits.push(`<nop><action>
    <strcmp assign_to="c" variable="d" value="${k}"/>
    <test assign_to="is" variable="c" compare="equal" value="0"/>
  </action></nop>
  <nop next="p${pos}d${k}" test="is"/>`);
    }
    digits.push(`<nop next="badpap"/>`);
    for (const k of DIGITS)
      digits.push(`<label id="p${pos}d${k}"/>\n  ${play(pos, k)}\n  <nop next="p${pos + 1}"/>`);
    digits.push(`<label id="p${pos + 1}"/>`);
  }
  return `${HEAD}
<scenario name="bench ivr call">
  <nop start_rtd="2"/>
  ${invite(1, false)}
  <recv response="100" optional="true"/>
  <recv response="503" optional="true" next="shed_ack1" rtd="2"/>
  <recv response="407" auth="true"/>
  ${ack(1, false)}
  <nop start_rtd="3"/>
  ${invite(2, true)}
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="503" optional="true" next="shed_ack2" rtd="2"/>
  <recv response="200" rrs="true" rtd="3"/>
  ${ack(2, true)}
  <pause milliseconds="1500"/>
  ${digits.join('\n  ')}
  ${play(6, '#')}
  <recv request="BYE" timeout="${waitMs}" rtd="1"/>
  ${ok200()}
  ${log('BYE')}
  <nop next="end"/>
  <label id="shed_ack1"/>
  ${ack(1, false)}
  <nop next="shed"/>
  <label id="shed_ack2"/>
  ${ack(2, false)}
  <label id="shed"/>
  ${log('SHED')}
  <nop next="end"/>
  <label id="badpap"/>
  ${log('BADPAP')}
  <label id="end"/>
  <Reference variables="d,c,is"/>
</scenario>
`;
}

function bye(cseq: number): string {
  return `<send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[field0]@[remote_ip]>;tag=[pid]inv[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      [routes]
      Call-ID: [call_id]
      CSeq: ${cseq} BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>`;
}

/** How long the emergency phone waits for each answer before its call counts as failed. */
const ANSWER_MS = 10_000;

/**
 * A phone that never registered calls an emergency number (`-s`): INVITE with digest (407; its
 * retransmission, when the ACK came late, is let by), the route's 200 relayed by papgate, then its
 * BYE (`EMERGENCY <mac>`). rtd 1: from the authenticated
 * INVITE to the route's 200, the time to reach the emergency route and back; rtd 2: to a 503.
 */
export function emergencyScenario(): string {
  return `${HEAD}
<scenario name="bench emergency call">
  ${invite(1, false)}
  <recv response="100" optional="true"/>
  <recv response="407" auth="true" timeout="${ANSWER_MS}"/>
  ${ack(1, false)}
  <nop start_rtd="1"/>
  <nop start_rtd="2"/>
  ${invite(2, true)}
  <label id="answer"/>
  <recv response="100" optional="true"/>
  <recv response="407" optional="true" next="answer"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="503" optional="true" next="shed" rtd="2"/>
  <recv response="200" rrs="true" rtd="1" timeout="${ANSWER_MS}"/>
  ${ack(2, true)}
  ${bye(3)}
  <recv response="200" timeout="${ANSWER_MS}"/>
  ${log('EMERGENCY')}
  <nop next="end"/>
  <label id="shed"/>
  ${ack(2, false)}
  ${log('SHED')}
  <label id="end"/>
</scenario>
`;
}

/** The emergency route: answers every INVITE at once with 200 and SDP, then the caller's BYE. */
export function emergencyRouteScenario(): string {
  return `${HEAD}
<scenario name="bench emergency route">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]route[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:route@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      ${SDP}

    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  ${ok200()}
</scenario>
`;
}
