import assert from 'node:assert/strict';
import {
  challengeHeader,
  checkDigest,
  digestResponse,
  ha1,
  parseDigestHeader,
  sameDigest,
} from '../src/domain/digest';
import { nonceIssuedAt, signedNonce } from '../src/domain/nonce';

describe('sip: digest (RFC 2617 / 7616 MD5, qop=auth)', () => {
  it('RFC 2617 section 3.5 example', () => {
    const r = digestResponse({
      ha1: ha1('Mufasa', 'testrealm@host.com', 'Circle Of Life'),
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    assert.equal(r, '6629fae49393a05397450978507c4ef1');
  });

  it('RFC 7616 section 3.9.1 example (MD5)', () => {
    const r = digestResponse({
      ha1: ha1('Mufasa', 'http-auth@example.org', 'Circle of Life'),
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      method: 'GET',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    });
    assert.equal(r, '8ca523f5e9506fed4657c9700eebdbec');
  });

  it('parses and checks the RFC 2617 Authorization header', () => {
    const h =
      'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", ' +
      'qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"';
    const c = parseDigestHeader(h);
    assert.ok(c);
    assert.equal(c.username, 'Mufasa');
    assert.equal(c.nc, '00000001');
    assert.equal(c.opaque, '5ccc069c403ebaf9f0171e9517f40e41');
    assert.equal(
      checkDigest(c, { method: 'GET', realm: 'testrealm@host.com', password: 'Circle Of Life' }),
      'ok',
    );
    assert.equal(
      checkDigest(c, { method: 'GET', realm: 'testrealm@host.com', password: 'circle of life' }),
      'bad_response',
    );
    assert.equal(
      checkDigest(c, { method: 'POST', realm: 'testrealm@host.com', password: 'Circle Of Life' }),
      'bad_response',
    );
    assert.equal(
      checkDigest(c, { method: 'GET', realm: 'other', password: 'Circle Of Life' }),
      'bad_response',
    );
    assert.equal(
      checkDigest(
        { ...c, algorithm: 'SHA-256' },
        { method: 'GET', realm: 'testrealm@host.com', password: 'Circle Of Life' },
      ),
      'unsupported',
    );
  });

  it('accepts RFC 2069 style (no qop) responses', () => {
    const h1 = ha1('001565aabbcc', 'papgate', 'pw');
    const response = digestResponse({
      ha1: h1,
      nonce: 'n1',
      method: 'REGISTER',
      uri: 'sip:papgate',
      qop: null,
      nc: null,
      cnonce: null,
    });
    const c = parseDigestHeader(
      `Digest username="001565aabbcc",realm="papgate",nonce="n1",uri="sip:papgate",response="${response}",algorithm=MD5`,
    );
    assert.ok(c);
    assert.equal(checkDigest(c, { method: 'REGISTER', realm: 'papgate', password: 'pw' }), 'ok');
  });

  it('refuses malformed headers', () => {
    assert.equal(parseDigestHeader(undefined), null);
    assert.equal(parseDigestHeader('Basic Zm9vOmJhcg=='), null);
    assert.equal(parseDigestHeader('Digest username="a", realm="r"'), null); // missing fields
    assert.equal(
      parseDigestHeader('Digest username="a", username="b", realm="r", nonce="n", uri="u", response="x"'),
      null,
    );
    // qop without nc/cnonce
    assert.equal(
      parseDigestHeader('Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth'),
      null,
    );
    assert.equal(
      parseDigestHeader(
        'Digest username="a", realm="r", nonce="n", uri="u", response="x", qop=auth, nc=1, cnonce="c"',
      ),
      null,
    );
  });

  it('handles escaped quotes and case-insensitive parameter names', () => {
    const c = parseDigestHeader(
      'digest USERNAME="a\\"b", Realm="r", nonce="n", uri="sip:x@y;transport=udp", response="abc"',
    );
    assert.ok(c);
    assert.equal(c.username, 'a"b');
    assert.equal(c.uri, 'sip:x@y;transport=udp');
  });

  it('compares digests in constant time, case-insensitively', () => {
    assert.ok(sameDigest('6629fae49393a05397450978507c4ef1', '6629FAE49393A05397450978507C4EF1'));
    assert.ok(!sameDigest('6629fae49393a05397450978507c4ef1', '6629fae49393a05397450978507c4ef2'));
    assert.ok(!sameDigest('6629', '6629fae49393a05397450978507c4ef1'));
  });

  it('offers MD5 with qop=auth', () => {
    assert.equal(
      challengeHeader('papgate', 'abc'),
      'Digest realm="papgate", nonce="abc", algorithm=MD5, qop="auth"',
    );
    assert.match(challengeHeader('papgate', 'abc', true), /stale=true$/);
  });

  it('signs nonces: each one new, its issue time read back only under the same secret, untouched', () => {
    const secret = Buffer.alloc(32, 1);
    const t = 1_700_000_000_123;
    const n = signedNonce(secret, t);
    assert.match(n, /^[0-9a-f]{60}$/);
    assert.notEqual(signedNonce(secret, t), n, 'each one new');
    assert.equal(nonceIssuedAt(secret, n), t);
    assert.equal(nonceIssuedAt(Buffer.alloc(32, 2), n), null, 'another secret');
    const later = (t + 60_000).toString(16).padStart(12, '0') + n.slice(12);
    assert.equal(nonceIssuedAt(secret, later), null, 'issue time moved');
    const flipped = n.slice(0, 59) + (n[59] === '0' ? '1' : '0');
    assert.equal(nonceIssuedAt(secret, flipped), null, 'signature changed');
    for (const bad of ['', n.toUpperCase(), n.slice(0, 59), `${n}0`, 'ab'.repeat(16)])
      assert.equal(nonceIssuedAt(secret, bad), null, bad);
  });
});
