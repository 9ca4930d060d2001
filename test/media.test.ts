import assert from 'node:assert/strict';
import { offerForMediaServer, offerProtection } from '../src/domain/media';

const sdp = (m: string, ...a: string[]) =>
  ['v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', m, ...a, ''].join('\r\n');
const CRYPTO = 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';

describe('domain: how an offer or answer protects the media the PAP travels in', () => {
  it('SDES only for one audio stream on a port, RTP/SAVP, with keys of its own', () => {
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0 101', CRYPTO)), 'sdes');
    assert.equal(offerProtection(sdp('m=audio 4000 rtp/SaVp 0 101', 'A=CRYPTO:1 X inline:k')), 'sdes');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0 101', CRYPTO).replace(/\r\n/g, '\n')), 'sdes');
    // FreeSWITCH 1.10.12 answered these in clear (attacker review of the branch)
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVPF 0 101', CRYPTO)), 'rtp');
    assert.equal(offerProtection(sdp('m=audio 0 RTP/SAVP 0', CRYPTO, 'm=audio 4002 RTP/AVP 0')), 'rtp');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0', CRYPTO, 'm=audio 4002 RTP/AVP 0')), 'rtp');
    assert.equal(offerProtection(sdp('m=audio 0 RTP/SAVP 0', CRYPTO)), 'rtp');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/AVP 0 101')), 'rtp');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/AVP 0 101', CRYPTO)), 'rtp', 'keys on a clear stream');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0 101')), 'rtp', 'SAVP without keys');
    // the keys of another stream are not the audio's
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0', 'm=video 4002 RTP/SAVP 96', CRYPTO)), 'rtp');
  });

  it('DTLS for a DTLS transport or a fingerprint or setup attribute, even on RTP/SAVP', () => {
    assert.equal(
      offerProtection(sdp('m=audio 4000 UDP/TLS/RTP/SAVPF 0', 'a=fingerprint:sha-256 AB')),
      'dtls',
    );
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0', CRYPTO, 'a=fingerprint:sha-256 AB')), 'dtls');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0', CRYPTO, 'a=setup:actpass')), 'dtls');
  });

  it('none without an audio stream', () => {
    assert.equal(offerProtection(sdp('m=video 4000 RTP/SAVP 96', CRYPTO)), 'none');
    assert.equal(offerProtection(undefined), 'none');
    assert.equal(offerProtection(''), 'none');
  });

  it("hands FreeSWITCH an SDES offer past drachtio-fsmrf's DTLS test (/m=audio.*SAVP/), all else as it came", () => {
    const sdes = sdp('m=audio 4000 RTP/SAVP 0 101', CRYPTO);
    const handed = offerForMediaServer(sdes);
    assert.ok(!/m=audio.*SAVP/.test(handed));
    assert.equal(handed, sdes.replace('RTP/SAVP ', 'rtp/savp '));
    for (const other of [sdp('m=audio 4000 RTP/AVP 0 101'), sdp('m=audio 4000 UDP/TLS/RTP/SAVPF 0')])
      assert.equal(offerForMediaServer(other), other);
  });
});
