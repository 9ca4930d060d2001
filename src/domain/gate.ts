/**
 * Gate mode (docs/gate-mode.md): papgate in front of an existing provisioning server. A full
 * decision fetches the phone's file from the operator's server (the upstream) and puts papgate's
 * own items over it; the rules that need no I/O live here.
 */

/** The vendor families whose files papgate can merge (one format each, src/provisioning/merge). */
export const GATED_FAMILIES = [
  'yealink',
  'snom',
  'grandstream',
  'cisco',
  'panasonic',
  'poly',
  'gigaset',
] as const;
export type GatedFamily = (typeof GATED_FAMILIES)[number];

/** Families named in PROVISIONING_UPSTREAM that are refused at start-up, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  patton:
    'a Patton file is a CLI script whose commands depend on the ones before them: no item of it can be replaced on its own',
};

/** What an upstream request came to: the label of papgate_upstream_requests_total. */
export const UPSTREAM_OUTCOMES = [
  /** Fetched, 200, a file of the family's format. */
  'ok',
  /** Answered from the cache (an earlier `ok` within PROVISIONING_UPSTREAM_CACHE_SECONDS). */
  'cached',
  /** Answered another status than 200 (a redirect included). */
  'status',
  'timeout',
  /** The body was larger than PROVISIONING_UPSTREAM_MAX_BYTES. */
  'too_large',
  /** Not a file of the family's format (or one papgate refuses to parse: a DTD). */
  'format',
  /** No answer: connection refused, reset, TLS, DNS. */
  'error',
] as const;
export type UpstreamOutcome = (typeof UPSTREAM_OUTCOMES)[number];

const PLACEHOLDER = /\{([^{}]*)\}/g;
const PLACEHOLDERS = new Set(['mac', 'MAC', 'file']);
const URL_SHAPE = /^https?:\/\/[^/\s@]+(\/[^\s]*)?$/;

/**
 * PROVISIONING_UPSTREAM: comma-separated `family=URL pattern` entries, each family once. A pattern
 * is an http(s) URL whose placeholders are `{mac}` (12 lower-case hex digits), `{MAC}` (upper-case)
 * and `{file}` (the file name the phone asked for); credentials go in PROVISIONING_UPSTREAM_USER and
 * _PASSWORD, not the URL, which logs and metrics may show. Throws with what is wrong.
 */
export function parseUpstreams(text: string): Partial<Record<GatedFamily, string>> {
  const out: Partial<Record<GatedFamily, string>> = {};
  for (const entry of text.split(',').map((e) => e.trim())) {
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    if (eq === -1) throw new Error(`expected family=URL, got "${entry}"`);
    const family = entry.slice(0, eq).trim();
    const pattern = entry.slice(eq + 1).trim();
    if (family in REFUSED) throw new Error(`${family}: gate mode is not available: ${REFUSED[family]}`);
    if (!(GATED_FAMILIES as readonly string[]).includes(family))
      throw new Error(`unknown family "${family}" (gate mode knows ${GATED_FAMILIES.join(', ')})`);
    if (family in out) throw new Error(`${family} is named twice`);
    for (const [, name] of pattern.matchAll(PLACEHOLDER))
      if (!PLACEHOLDERS.has(name!))
        throw new Error(`${family}: unknown placeholder {${name}} (known: {mac}, {MAC}, {file})`);
    const sample = upstreamUrl(pattern, '001565aabbcc', 'file.cfg');
    if (/[{}]/.test(sample)) throw new Error(`${family}: an unmatched brace in "${pattern}"`);
    if (!URL_SHAPE.test(sample))
      throw new Error(
        `${family}: expected an http(s) URL without credentials in it (PROVISIONING_UPSTREAM_USER and _PASSWORD carry them), got "${pattern}"`,
      );
    out[family as GatedFamily] = pattern;
  }
  return out;
}

/** The URL of `mac`'s file `file` on the upstream. */
export function upstreamUrl(pattern: string, mac: string, file: string): string {
  return pattern.replace(PLACEHOLDER, (whole, name: string) =>
    name === 'mac' ? mac : name === 'MAC' ? mac.toUpperCase() : name === 'file' ? file : whole,
  );
}
