import assert from 'node:assert/strict';
import { offerForMediaServer, offerProtection } from '../src/domain/media';

const sdp = (m: string, ...a: string[]) =>
  ['v=0', 'o=- 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', m, ...a, ''].join('\r\n');
const CRYPTO = 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz';

describe('domain: how an offer protects the media the PAP travels in', () => {
  it('tells SDES SRTP from plain RTP, DTLS-SRTP and no audio at all', () => {
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0 101', CRYPTO)), 'sdes');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVPF 0 101', CRYPTO)), 'sdes');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/AVP 0 101')), 'rtp');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/AVP 0 101', CRYPTO)), 'rtp', 'keys on a clear stream');
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0 101')), 'rtp', 'SAVP without keys');
    assert.equal(
      offerProtection(sdp('m=audio 4000 UDP/TLS/RTP/SAVPF 0', 'a=fingerprint:sha-256 AB')),
      'dtls',
    );
    assert.equal(offerProtection(sdp('m=video 4000 RTP/SAVP 96', CRYPTO)), 'none');
    assert.equal(offerProtection(undefined), 'none');
    assert.equal(offerProtection(''), 'none');
    // the keys of the second stream are not the audio's
    assert.equal(offerProtection(sdp('m=audio 4000 RTP/SAVP 0', 'm=video 4002 RTP/SAVP 96', CRYPTO)), 'rtp');
  });

  it("hands FreeSWITCH an SDES offer past drachtio-fsmrf's DTLS test (/m=audio.*SAVP/), all else as it came", () => {
    const sdes = sdp('m=audio 4000 RTP/SAVP 0 101', CRYPTO);
    const handed = offerForMediaServer(sdes);
    assert.ok(!/m=audio.*SAVP/.test(handed));
    assert.equal(handed, sdes.replace('RTP/SAVP ', 'rtp/savp '));
    assert.match(
      offerForMediaServer(sdp('m=audio 4000 RTP/SAVPF 0', CRYPTO)),
      /^m=audio 4000 rtp\/savpf 0$/m,
    );
    const plain = sdp('m=audio 4000 RTP/AVP 0 101');
    assert.equal(offerForMediaServer(plain), plain);
    const dtls = sdp('m=audio 4000 UDP/TLS/RTP/SAVPF 0');
    assert.equal(offerForMediaServer(dtls), dtls);
  });
});
