import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/lib/paths';

/**
 * The documentation holds together: every relative link and `#anchor` in README.md and docs/*.md
 * names a file of the repository and, in a Markdown file, one of its headings or `<a id>` anchors;
 * and the README stays short enough to be read to the end.
 */

const README_MAX_LINES = 260;

const read = (rel: string) => fs.readFileSync(path.join(PROJECT_ROOT, rel), 'utf8');

/** The pages checked: the README and every page under docs/. */
function pages(): string[] {
  const docs = fs
    .readdirSync(path.join(PROJECT_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs.sort()];
}

/**
 * The text outside code: fenced blocks and inline code spans become blanks of the same length, so
 * that what they show is neither a link nor a heading, and offsets (line numbers) stay as they were.
 */
function outsideCode(md: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  return md
    .replace(/^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\2[^\n]*$/gm, blank)
    .replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, blank);
}

/** GitHub's anchor of a heading: its text lower-cased, punctuation dropped, spaces to `-`. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link shows its text
    .replace(/<[^>]+>/g, '') // inline HTML shows nothing of its tags
    .replace(/[`*~]/g, '') // code spans and emphasis show their content
    .replace(/(^|\W)_+|_+(?=\W|$)/g, '$1');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file defines: its headings' (numbered when repeated) and `<a id>`/`<a name>`. */
function anchorsOf(md: string): Set<string> {
  const text = outsideCode(md);
  const original = md.split('\n');
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  text.split('\n').forEach((line, i) => {
    if (!/^ {0,3}#{1,6}\s/.test(line)) return;
    // The heading as written (code spans included), without its marker and closing hashes.
    const heading = original[i]!.replace(/^ {0,3}#{1,6}\s+/, '').replace(/\s+#+\s*$/, '');
    const slug = githubSlug(heading);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  });
  for (const m of text.matchAll(/<a\s+(?:[^>]*\s)?(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** The links of a page outside code: inline links and images, and reference definitions. */
function linksOf(md: string): Link[] {
  const text = outsideCode(md);
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  const links: Link[] = [];
  for (const m of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ line: lineAt(m.index), target: m[1]! });
  }
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    links.push({ line: lineAt(m.index), target: m[1]! });
  }
  return links;
}

/** What is wrong with one link of `page` (a path from the repository's root), or null. */
function problem(page: string, target: string, anchorCache: Map<string, Set<string>>): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // http:, https:, mailto:
  if (target === '') return 'empty link';
  const hash = target.indexOf('#');
  const file = hash < 0 ? target : target.slice(0, hash);
  const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
  const rel =
    file === '' ? page : path.posix.normalize(path.posix.join(path.posix.dirname(page), decodeURI(file)));
  if (rel.startsWith('../') || path.posix.isAbsolute(rel)) return `${target} leaves the repository`;
  if (!fs.existsSync(path.join(PROJECT_ROOT, rel))) return `${target}: no file ${rel}`;
  if (anchor === null) return null;
  if (!rel.endsWith('.md')) return `${target}: an anchor into a file that is not Markdown`;
  let anchors = anchorCache.get(rel);
  if (!anchors) anchorCache.set(rel, (anchors = anchorsOf(read(rel))));
  return anchors.has(anchor) ? null : `${target}: ${rel} has no heading or <a id> "${anchor}"`;
}

describe('documentation', () => {
  it("computes GitHub's anchors of headings", () => {
    assert.equal(githubSlug('Node.js'), 'nodejs');
    assert.equal(
      githubSlug('Capacity per part (measured on the 2-core development machine)'),
      'capacity-per-part-measured-on-the-2-core-development-machine',
    );
    assert.equal(githubSlug('Calls: SIP registrar, routing, IVR'), 'calls-sip-registrar-routing-ivr');
    assert.equal(githubSlug("A phone's identity"), 'a-phones-identity');
    assert.equal(githubSlug('The `deviceCertificate` policy'), 'the-devicecertificate-policy');
    assert.equal(githubSlug('HTTPS and [device certificates](x.md)'), 'https-and-device-certificates');
    assert.equal(githubSlug('snake_case stays'), 'snake_case-stays');
    const twice = anchorsOf('# A\n\n## Same\n\n```\n## Not a heading\n```\n\n## Same\n\n<a id="own"></a>x\n');
    assert.deepEqual([...twice].sort(), ['a', 'own', 'same', 'same-1']);
  });

  it('finds the links of a page outside code, across line breaks', () => {
    const md =
      'See [a\nb](x.md#y) and `[not](z.md)`.\n\n```\n[no](w.md)\n```\n\n[ref]: ./r.md\n![img](i.png)\n';
    assert.deepEqual(
      linksOf(md).map((l) => `${l.line}:${l.target}`),
      ['1:x.md#y', '9:i.png', '8:./r.md'],
    );
  });

  it('every relative link and #anchor of README.md and docs/*.md resolves', () => {
    const anchorCache = new Map<string, Set<string>>();
    const broken: string[] = [];
    let checked = 0;
    for (const page of pages()) {
      for (const { line, target } of linksOf(read(page))) {
        checked++;
        const why = problem(page, target, anchorCache);
        if (why) broken.push(`${page}:${line}: ${why}`);
      }
    }
    assert.deepEqual(broken, []);
    assert.ok(checked > 50, `only ${checked} links found: the link pattern no longer matches`);
  });

  it(`README.md is at most ${README_MAX_LINES} lines`, () => {
    const lines = read('README.md').replace(/\n$/, '').split('\n').length;
    assert.ok(lines <= README_MAX_LINES, `README.md has ${lines} lines; move detail to docs/`);
  });
});
