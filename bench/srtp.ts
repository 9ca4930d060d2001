import { createCipheriv, createHmac } from 'node:crypto';

/**
 * SRTP protection of outgoing RTP packets, AES_CM_128_HMAC_SHA1_80 (RFC 3711, key derivation rate
 * 0): the benchmark's phones send the PAP's RFC 2833 events in it, as a phone asked for SRTP does.
 * Only what a sender needs; FreeSWITCH decrypting them (and the device ending `successful`) is the
 * check that it is right.
 */
export class SrtpSender {
  private readonly encKey: Buffer;
  private readonly authKey: Buffer;
  private readonly salt: Buffer;
  private roc = 0;
  private lastSeq = -1;

  /** `master`: the 30 bytes of `a=crypto ... inline:<base64>` (16 key, 14 salt). */
  constructor(master: Buffer) {
    const key = master.subarray(0, 16);
    const salt = master.subarray(16, 30);
    this.encKey = derive(key, salt, 0, 16);
    this.authKey = derive(key, salt, 1, 20);
    this.salt = derive(key, salt, 2, 14);
  }

  /** The SRTP packet of an RTP packet (a 12-byte header, no CSRC or extension). */
  protect(rtp: Buffer): Buffer {
    const seq = rtp.readUInt16BE(2);
    if (this.lastSeq !== -1 && seq < this.lastSeq && this.lastSeq - seq > 0x8000) this.roc += 1;
    this.lastSeq = seq;
    const ssrc = rtp.readUInt32BE(8);
    // IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16), index = ROC * 2^16 + SEQ
    const iv = Buffer.alloc(16);
    this.salt.copy(iv, 0);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    const index = Buffer.alloc(6);
    index.writeUInt32BE(this.roc, 0);
    index.writeUInt16BE(seq, 4);
    for (let i = 0; i < 6; i++) iv[8 + i]! ^= index[i]!;
    const c = createCipheriv('aes-128-ctr', this.encKey, iv);
    const payload = Buffer.concat([c.update(rtp.subarray(12)), c.final()]);
    const packet = Buffer.concat([rtp.subarray(0, 12), payload]);
    const roc = Buffer.alloc(4);
    roc.writeUInt32BE(this.roc, 0);
    const tag = createHmac('sha1', this.authKey).update(packet).update(roc).digest().subarray(0, 10);
    return Buffer.concat([packet, tag]);
  }
}

/** RFC 3711 4.3.1 with the AES-CM PRF: `length` bytes of session key `label`. */
function derive(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const x = Buffer.alloc(16);
  masterSalt.copy(x, 0);
  x[7]! ^= label; // key_id = label || index DIV kdr (0), right-aligned on the 112-bit salt
  const c = createCipheriv('aes-128-ctr', masterKey, x);
  return Buffer.concat([c.update(Buffer.alloc(length)), c.final()]);
}
