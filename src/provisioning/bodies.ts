import { randomBytes } from 'node:crypto';
import { BoundedMap } from '../lib/bounded';

/** What a credential spliced into a cached body may consist of: no escaper changes these. */
const SPLICEABLE = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Rendered configuration files, kept by everything they are made of. A key names the template
 * and every value the file's scope is built from (see files.ts), so an entry is never stale: a
 * reset, a new credential, another account or tenant setting makes another key, and the decision
 * itself is taken on Redis's current state for every request before a body is looked up here.
 *
 * A full configuration carries the credential issued with it, new on every bypass; it is kept as
 * the pieces around the credential. Whether a template uses the credential only as it is (and not,
 * say, cut or transformed) is checked by rendering it with two different stand-ins: only when the
 * pieces around them agree is the body kept; otherwise it is rendered for every request.
 */
export class BodyCache {
  private readonly entries: BoundedMap<string, readonly Buffer[] | null>;

  constructor(max: number) {
    this.entries = new BoundedMap(max);
  }

  /**
   * The body for `key` with `credential` in it (null: the file carries none), as the bytes sent.
   * `render` renders it with the credential it is given.
   */
  body(key: string, credential: string | null, render: (credential: string | null) => string): Buffer {
    if (credential !== null && !SPLICEABLE.test(credential)) return Buffer.from(render(credential));
    let pieces = this.entries.get(key);
    if (pieces === undefined) {
      pieces = credential === null ? [Buffer.from(render(null))] : this.pieces(render);
      this.entries.set(key, pieces);
    }
    if (pieces === null) return Buffer.from(render(credential));
    return credential === null ? pieces[0]! : splice(pieces, credential);
  }

  private pieces(render: (credential: string) => string): readonly Buffer[] | null {
    const a = randomBytes(16).toString('hex');
    const b = randomBytes(16).toString('hex');
    const withA = render(a).split(a);
    const withB = render(b).split(b);
    return withA.length === withB.length && withA.every((p, i) => p === withB[i])
      ? withA.map((p) => Buffer.from(p))
      : null;
  }
}

/** The pieces with `credential` (SPLICEABLE: one byte a character) between them, in one buffer. */
function splice(pieces: readonly Buffer[], credential: string): Buffer {
  let size = credential.length * (pieces.length - 1);
  for (const p of pieces) size += p.length;
  const out = Buffer.allocUnsafe(size);
  let at = pieces[0]!.copy(out, 0);
  for (let i = 1; i < pieces.length; i++) {
    at += out.write(credential, at, 'latin1');
    at += pieces[i]!.copy(out, at);
  }
  return out;
}
