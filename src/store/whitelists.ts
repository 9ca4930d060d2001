import ipaddr from 'ipaddr.js';
import {
  checkCoverage,
  coverageChange,
  entriesAround,
  parseWhitelistEntry,
  whitelistCoverage,
  type Coverage,
  type WhitelistEntry,
} from '../domain/whitelist';
import { temporaryEntriesToRemove } from '../domain/auth';
import { BoundedMap } from '../lib/bounded';
import { StorePart, type Actor } from './context';
import { keys, tempWhitelistMember } from './keys';
import { scripts } from './scripts';

/** Whitelist entries by their stored text: every provisioning request reads them, parsing is pure. */
const parsedEntries = new BoundedMap<string, WhitelistEntry>(10_000);

export function toWhitelist(raw: readonly string[]): WhitelistEntry[] {
  return [...raw].sort().map((text) => parsedEntries.memo(text, () => parseWhitelistEntry(text)));
}

/**
 * An entry's member of the whitelist index: family, first address in hex, prefix length, so that
 * members sort by first address and the entries inside a range are one ZRANGEBYLEX.
 */
function indexMember(e: WhitelistEntry): string {
  const [addr, bits] = e.range;
  const hex = Buffer.from(addr.toByteArray()).toString('hex');
  return `${addr.kind() === 'ipv4' ? 4 : 6}${hex}/${String(bits).padStart(3, '0')}`;
}

function fromIndexMember(m: string): WhitelistEntry {
  const [hex = '', bits = ''] = m.slice(1).split('/');
  const addr = ipaddr.fromByteArray([...Buffer.from(hex, 'hex')]);
  return parseWhitelistEntry(`${addr.toString()}/${Number(bits)}`);
}

/** The index members of the entries that lie inside `e`, as ZRANGEBYLEX bounds. */
function insideBounds(e: WhitelistEntry): [string, string] {
  const [addr, bits] = e.range;
  const width = addr.kind() === 'ipv4' ? 32 : 128;
  const bytes = addr.toByteArray();
  const last = [...bytes];
  for (let bit = bits; bit < width; bit++) last[bit >> 3]! |= 0x80 >> (bit & 7);
  const fam = addr.kind() === 'ipv4' ? 4 : 6;
  return [`[${fam}${Buffer.from(bytes).toString('hex')}`, `[${fam}${Buffer.from(last).toString('hex')}~`];
}

/** What a whitelist at `version` covers, as whitelist.lua takes it. */
interface Counted {
  readonly version: string;
  readonly covered: Coverage;
}

/**
 * A tenant's whitelists: the permanent one (admins' entries, bounded by WHITELIST_BOUND), written
 * here, and the temporary one (an address lets one site's devices in until it expires), only read
 * here: `attempt.lua` creates its entries on a PAP success, `record_full` in `lua/prelude.lua`
 * extends them on every full provisioning, each in the script of the change that causes it.
 */
export class Whitelists extends StorePart {
  async whitelist(tenant: string): Promise<WhitelistEntry[]> {
    return toWhitelist(await this.redis.sMembers(keys.tenant(tenant).whitelist));
  }

  /**
   * Adds a permanent entry: true, false when it was listed already, 'full' when the whitelist holds
   * `maxEntries` (WHITELIST_MAX_ENTRIES; none: no cap, for tests and benchmarks). Refused with InputError when the whitelist would then cover more than
   * WHITELIST_BOUND: the coverage kept with it changed by what the entry adds (coverageChange, from
   * the entries around it alone), so an addition costs the same at 10 entries as at 1,000.
   */
  async addWhitelist(
    tenant: string,
    entry: WhitelistEntry,
    actor: Actor,
    maxEntries?: number,
  ): Promise<boolean | 'full'> {
    return this.changeWhitelist(tenant, 'add', entry, actor, maxEntries);
  }

  async removeWhitelist(tenant: string, entry: WhitelistEntry, actor: Actor): Promise<boolean> {
    return (await this.changeWhitelist(tenant, 'remove', entry, actor)) === true;
  }

  private async changeWhitelist(
    tenant: string,
    op: 'add' | 'remove',
    entry: WhitelistEntry,
    actor: Actor,
    maxEntries?: number,
  ): Promise<boolean | 'full'> {
    const k = keys.tenant(tenant);
    const around = entriesAround(entry);
    const member = indexMember(entry);
    for (let tries = 1; ; tries++) {
      const { version, covered } = await this.counted(tenant);
      const [listed, outer, inner] = await Promise.all([
        this.redis.sIsMember(k.whitelist, entry.text),
        around.length === 0 ? Promise.resolve([]) : this.redis.smIsMember(k.whitelist, around),
        this.redis.zRangeByLex(k.whitelistIndex, ...insideBounds(entry)),
      ]);
      if (Boolean(listed) !== (op === 'remove')) return false;
      const change = coverageChange(
        entry,
        outer.some(Boolean),
        inner.filter((m) => m !== member).map(fromIndexMember),
      );
      const sign = op === 'add' ? 1n : -1n;
      const after = { ipv4: covered.ipv4 + sign * change.ipv4, ipv6: covered.ipv6 + sign * change.ipv6 };
      if (op === 'add') checkCoverage(after);
      const r = await scripts.whitelist.run(
        this.redis,
        [k.whitelist, k.whitelistIndex, k.whitelistCoverage, k.events],
        [
          op,
          entry.text,
          member,
          version,
          String(after.ipv4),
          String(after.ipv6),
          maxEntries ?? '',
          this.now(),
          this.maxlen,
          'entry',
          entry.text,
          'actor',
          actor,
        ],
      );
      if (r === 'full') return 'full';
      if (r !== 'changed') return r === 1;
      if (tries === 10) throw new Error('the whitelist changed under ten changes in a row');
    }
  }

  /**
   * The coverage kept with the whitelist and its version. A whitelist kept before the coverage was
   * (no version, entries) is counted whole once, and its index written.
   */
  private async counted(tenant: string): Promise<Counted> {
    const k = keys.tenant(tenant);
    for (;;) {
      const [v4, v6, version] = await this.redis.hmGet(k.whitelistCoverage, ['4', '6', 'v']);
      if (version) return { version, covered: { ipv4: BigInt(v4 ?? 0), ipv6: BigInt(v6 ?? 0) } };
      const listed = await this.redis.sMembers(k.whitelist);
      if (listed.length === 0) return { version: '', covered: { ipv4: 0n, ipv6: 0n } };
      const entries = listed.map((text) => parseWhitelistEntry(text));
      const covered = whitelistCoverage(entries);
      await scripts.whitelist.run(
        this.redis,
        [k.whitelist, k.whitelistIndex, k.whitelistCoverage, k.events],
        [
          'index',
          listed.length,
          ...listed,
          ...entries.map(indexMember),
          String(covered.ipv4),
          String(covered.ipv6),
        ],
      );
    }
  }

  /**
   * The live temporary entries: an address, the site whose devices it lets in (null: an entry made
   * before entries were scoped to a site, for the whole tenant), and its expiry (twl_member in
   * lua/prelude.lua).
   */
  async temporaryWhitelist(
    tenant: string,
  ): Promise<{ ip: string; site: string | null; expiresAt: number }[]> {
    const rows = await this.redis.zRangeByScoreWithScores(
      keys.tenant(tenant).tempWhitelist,
      `(${this.now()}`,
      '+inf',
    );
    return rows.map((r) => {
      // see tempWhitelistMember
      const cut = r.value.lastIndexOf('\x1f');
      return cut === -1
        ? { ip: r.value, site: null, expiresAt: r.score }
        : { ip: r.value.slice(cut + 1), site: r.value.slice(0, cut), expiresAt: r.score };
    });
  }

  /**
   * Whether `ip` is where the devices of `site` are known to be: a live temporary entry of that
   * site, which a PAP success of one of its phones made there. Permanent entries are the tenant's,
   * not a site's, so they prove no site (a guest network behind another office's address would
   * otherwise send this site's address to an emergency service).
   */
  async isSiteNetwork(tenant: string, site: string, ip: string): Promise<boolean> {
    const until = await this.redis.zScore(keys.tenant(tenant).tempWhitelist, tempWhitelistMember(site, ip));
    return until !== null && until > this.now();
  }

  /**
   * Removes the live temporary entries of `ip` (for `site`, or every site when null; see
   * temporaryEntriesToRemove), each audited; answers how many went (an entry that expired
   * meanwhile is not counted).
   */
  async removeTemporary(tenant: string, ip: string, site: string | null, actor: Actor): Promise<number> {
    const k = keys.tenant(tenant);
    const chosen = temporaryEntriesToRemove(await this.temporaryWhitelist(tenant), ip, site);
    if (chosen.length === 0) return 0;
    return Number(
      await scripts.untemp.run(
        this.redis,
        [k.tempWhitelist, k.events],
        [
          this.now(),
          this.maxlen,
          actor,
          ...chosen.flatMap((e) => [
            e.site === null ? e.ip : tempWhitelistMember(e.site, e.ip),
            e.site ?? '',
          ]),
        ],
      ),
    );
  }
}
