import { checkWhitelistCoverage, parseWhitelistEntry, type WhitelistEntry } from '../domain/whitelist';
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
   * Adds a permanent entry (false: it was listed already). Refused with InputError when the
   * whitelist would then cover more than WHITELIST_BOUND (checkWhitelistCoverage). The check is
   * made on the entries read, and whitelist.lua adds only while the whitelist still holds exactly
   * those: an addition made meanwhile is seen, and the check made again.
   */
  async addWhitelist(tenant: string, entry: WhitelistEntry, actor: Actor): Promise<boolean> {
    const k = keys.tenant(tenant);
    for (let tries = 1; ; tries++) {
      const listed = await this.redis.sMembers(k.whitelist);
      if (listed.includes(entry.text)) return false;
      checkWhitelistCoverage([...toWhitelist(listed), entry]);
      const r = await scripts.whitelist.run(
        this.redis,
        [k.whitelist, k.events],
        [entry.text, this.now(), this.maxlen, listed.length, ...listed, 'entry', entry.text, 'actor', actor],
      );
      if (r !== 'changed') return r === 1;
      if (tries === 10) throw new Error('the whitelist changed under ten additions in a row');
    }
  }

  async removeWhitelist(tenant: string, entry: WhitelistEntry, actor: Actor): Promise<boolean> {
    const k = keys.tenant(tenant);
    const n = await scripts.audit.run(
      this.redis,
      [k.whitelist, k.events],
      ['srem', entry.text, this.now(), this.maxlen, 'whitelist_removed', 'entry', entry.text, 'actor', actor],
    );
    return n === 1;
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
}
