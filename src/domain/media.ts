import ipaddr from 'ipaddr.js';
import { tryCanonicalIp } from './whitelist';

/**
 * Where FreeSWITCH takes an IVR call's RTP (and so the PAP's RFC 2833 digits) from. FreeSWITCH
 * accepts packets from any address on a channel's port while its "auto adjust" is armed (NAT
 * traversal: it moves the channel to whoever sent, switch_rtp.c rtp_common_read), and only from the
 * remote address once it is off; a drill's stranger sprayed "123456#" over the RTP range and typed
 * a wrong PAP into someone else's call.
 *
 * - `strict`: only the address and port the caller's SDP names (`disable_rtp_auto_adjust`). The SDP
 *   names an address packets can come from: a routable one, or the very address the INVITE came
 *   from.
 * - `learn`: the SDP names an address behind a NAT (private, shared, link-local; or none, a late
 *   offer), which packets never come from. FreeSWITCH moves the channel to the first packet's sender
 *   (`rtp_auto_adjust_threshold` 1) and takes nothing from anyone else after it; mediaFromCaller
 *   then checks that sender before an entry counts.
 */
export type MediaSource = 'strict' | 'learn';

/** The connection address of an SDP's first audio stream (its own `c=`, else the session's), or null. */
export function sdpAudioAddress(sdp: string | undefined): string | null {
  if (!sdp) return null;
  let session: string | null = null;
  let audio: string | null = null;
  let inAudio = false;
  let seenAudio = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      if (seenAudio) break;
      inAudio = line.startsWith('m=audio ');
      seenAudio = inAudio;
    } else if (line.startsWith('c=')) {
      const address = /^c=IN IP[46] ([^\s/]+)/.exec(line)?.[1] ?? null;
      if (inAudio) audio = address;
      else if (!seenAudio) session = address;
    }
  }
  return seenAudio ? (audio ?? session) : null;
}

/** How FreeSWITCH may take the media of a call whose SDP names `sdpAddress` and whose INVITE came from `source`. */
export function mediaSource(sdpAddress: string | null, source: string): MediaSource {
  const sdp = sdpAddress === null ? null : tryCanonicalIp(sdpAddress);
  if (sdp === null) return 'learn';
  if (sdp === tryCanonicalIp(source)) return 'strict';
  return ipaddr.parse(sdp).range() === 'unicast' ? 'strict' : 'learn';
}

/**
 * Whether the address FreeSWITCH moved the call's media to (`learned`; null: it did not move it)
 * is the caller's: the address its INVITE came from (the NAT's public side). A phone whose RTP
 * leaves through another public address than its SIP fails this, as it fails the restricted
 * password's binding (SIP_BIND_TO_PROVISIONING_IP).
 */
export function mediaFromCaller(learned: string | null, source: string): boolean {
  if (learned === null) return true;
  const l = tryCanonicalIp(learned);
  return l !== null && l === tryCanonicalIp(source);
}

/** How an SDP offer (or answer) protects its audio. */
export type MediaProtection = 'rtp' | 'sdes' | 'dtls' | 'none';

/**
 * The SDES suites that encrypt and authenticate (RFC 4568, RFC 6188, RFC 7714). A NULL_AUTH suite
 * lets anyone on the path change the stream, and an unknown one FreeSWITCH answered in clear.
 */
const SDES_SUITES = new Set([
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AES_192_CM_HMAC_SHA1_80',
  'AES_192_CM_HMAC_SHA1_32',
  'AES_256_CM_HMAC_SHA1_80',
  'AES_256_CM_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
  'AEAD_AES_256_GCM',
]);
/** Session parameters that switch part of SRTP off (RFC 4568 6.3.x). */
const WEAKENED = /\bUNENCRYPTED_SRTP\b|\bUNENCRYPTED_SRTCP\b|\bUNAUTHENTICATED_SRTP\b/i;

/**
 * The tag of an `a=crypto:` line, as a number (NaN: none). RFC 4568 allows 1 to 9 digits, which
 * FreeSWITCH's atoi reads alike; a tenth could wrap (4294967297 is read as 1).
 */
function cryptoTag(line: string): number {
  const tag = /^a=crypto:(\d{1,9})\s/i.exec(line)?.[1];
  return tag === undefined ? NaN : Number(tag);
}

/** The suite an `a=crypto:` line names, in upper case ('' for none). */
function cryptoSuite(line: string): string {
  return (line.slice('a=crypto:'.length).trim().split(/\s+/)[1] ?? '').toUpperCase();
}

/** An `a=crypto:` line keying with a suite of SDES_SUITES, nothing switched off. */
function strongCrypto(line: string): boolean {
  return SDES_SUITES.has(cryptoSuite(line)) && !WEAKENED.test(line);
}

/**
 * `sdes`: one audio stream, on a port, RTP/SAVP with an `a=crypto` line of its own naming a suite
 * that encrypts and authenticates (RFC 4568: the keys travel in the SDP, so only over TLS do they
 * stay secret); `dtls`: keyed by a DTLS handshake (UDP/TLS/RTP/SAVP(F), or a fingerprint), which
 * papgate's media path does not do; `rtp`: anything else, plain RTP/AVP, crypto lines on a plain
 * stream or of a weak suite, RTP/SAVPF (FreeSWITCH answered it in clear), a second audio stream
 * (answered in clear beside the first); `none`: no audio stream (a late offer).
 */
export function offerProtection(sdp: string | undefined): MediaProtection {
  if (!sdp) return 'none';
  const audio: { proto: string; port: string; crypto: boolean; dtls: boolean; tags: number[] }[] = [];
  let current: (typeof audio)[number] | null = null;
  for (const line of sdp.split(/\r\n|\r|\n/)) {
    if (/^m=/i.test(line)) {
      const [, port = '', proto = ''] = line.slice(2).split(/\s+/);
      current = /^m=audio\s/i.test(line) ? { proto, port, crypto: false, dtls: false, tags: [] } : null;
      if (current) audio.push(current);
    } else if (current && /^a=crypto:/i.test(line)) {
      current.crypto ||= strongCrypto(line);
      current.tags.push(cryptoTag(line));
    } else if (current && /^a=fingerprint:/i.test(line)) current.dtls = true;
  }
  const a = audio[0];
  if (a === undefined) return 'none';
  if (audio.some((s) => s.dtls || /^UDP\/TLS\/RTP\/SAVPF?$/i.test(s.proto))) return 'dtls';
  // A tag names one line (RFC 4568 9.1): FreeSWITCH reads it as a number and keys with the first
  // line it can use, so a repeated one (1 and 01 alike) could hide which line that was.
  const unique = new Set(a.tags).size === a.tags.length && !a.tags.some(Number.isNaN);
  return audio.length === 1 && a.port !== '0' && /^RTP\/SAVP$/i.test(a.proto) && a.crypto && unique
    ? 'sdes'
    : 'rtp';
}

/** drachtio-fsmrf 4.1's test for an offer needing a DTLS handshake, which createEndpoint refuses. */
const FSMRF_DTLS_TEST = /m=audio.*SAVP/;
/** An audio stream asking for SRTP of some kind, as sofia-sip reads it (without regard to case). */
const ASKS_SRTP = /^m=audio\b[^\r\n]*savp/im;

/**
 * Whether FreeSWITCH's `answer` to an SDES `offer` keys the stream with a line the offer made
 * strong: FreeSWITCH answers the first offered line it can use, and its answer does not repeat
 * the offer's session parameters (an `UNENCRYPTED_SRTP` on that line would pass unseen).
 */
export function answerKeysStrong(offer: string, answer: string): boolean {
  const line = /^a=crypto:.*$/im.exec(answer)?.[0];
  if (line === undefined) return false;
  const offered = offer
    .split(/\r\n|\r|\n/)
    .find((l) => /^a=crypto:/i.test(l) && cryptoTag(l) === cryptoTag(line));
  return offered !== undefined && cryptoSuite(offered) === cryptoSuite(line) && strongCrypto(offered);
}

/**
 * The offer as FreeSWITCH is handed it through drachtio-fsmrf, or null when the media path cannot
 * take it (answered 488, not 503: the phone's offer is refused, not the media server). fsmrf 4.1
 * refuses any offer whose audio line matches /m=audio.*SAVP/ (its test for a DTLS offer, which
 * SDES offers match too); sofia-sip reads the transport protocol without regard to case
 * (sdp_media_transport), so an SDES offer's `RTP/SAVP` is written `rtp/savp`, and FreeSWITCH
 * answers it with `RTP/SAVP` and its keys. Any other offer whose audio asks for SRTP in any
 * spelling (SAVPF, a weak or unknown suite, a tab in the audio line, `m=Audio`) is one papgate would
 * otherwise see answered in clear or refused by fsmrf; a body without an audio stream is no offer
 * FreeSWITCH can answer either (a late offer has no body at all).
 */
export function offerForMediaServer(sdp: string, protection = offerProtection(sdp)): string | null {
  // SDP starts with its one version line (RFC 4566 5); drachtio-srf takes nothing else for SDP and
  // throws instead of sending it (fsmrf rewrites the offer, a second v= line last).
  if (!/^v=0\r?\n/.test(sdp) || /[\r\n]v=/i.test(sdp)) return null;
  if (protection === 'sdes') {
    const handed = strongKeysOnly(sdp).replace(/^(m=audio \S+ )RTP\/SAVP /im, '$1rtp/savp ');
    return FSMRF_DTLS_TEST.test(handed) ? null : handed;
  }
  return protection === 'none' || ASKS_SRTP.test(sdp) || FSMRF_DTLS_TEST.test(sdp) ? null : sdp;
}

/**
 * An SDES offer with no key line but the audio stream's strong ones. FreeSWITCH keys with the first
 * line it can use, as fsmrf's rewrite (sdp-transform) hands it the offer: lines of another section,
 * of the session, or moved by that rewrite (a line it cannot parse goes last, an `M=` line it drops)
 * could otherwise be that first line, and its answer would not show a weakened one.
 */
function strongKeysOnly(sdp: string): string {
  let section: 'session' | 'audio' | 'other' = 'session';
  const kept: string[] = [];
  for (const line of sdp.split(/\r\n|\r|\n/)) {
    if (/^m=/i.test(line)) section = /^m=audio\s/i.test(line) ? 'audio' : 'other';
    if (!KEYING.test(line)) kept.push(line);
    else if (section === 'audio' && CANONICAL_KEY.test(line) && strongCrypto(line))
      kept.push(`a=crypto:${line.slice('a=crypto:'.length)}`);
  }
  return kept.join('\r\n');
}

/**
 * A line sofia-sip reads as a crypto or fingerprint attribute: it skips blanks after `a=`, ends the
 * name at the first character a token cannot hold and compares it without regard to case, so
 * `a= crypto:1`, `a=crypto 1` and `a=Crypto;1` key the stream as `a=crypto:1` does.
 */
const KEYING = /^a=[ \t]*(?:crypto|fingerprint)(?![A-Za-z0-9!#$%&'*+.^_`{|}~-])/i;
/** A crypto line as RFC 4568 writes it: `a=crypto:<tag> <suite> inline:<key>...`, single spaces. */
const CANONICAL_KEY = /^a=crypto:\d{1,9} [A-Za-z0-9_]+ inline:\S+(?: \S+)*$/i;
