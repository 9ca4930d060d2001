import { RESP_TYPES } from 'redis';
import type { Site } from '../domain/site';
import type { RedisClient } from './connect';
import { keys } from './keys';
import { scripts } from './scripts';

const AS_MAP = { [RESP_TYPES.MAP]: Map };

/** A stored record; one without a known setter (older than the field) counts as a tenant's. */
function toSite(name: string, json: string): Site {
  const r = JSON.parse(json) as Omit<Site, 'name'>;
  return { name, ...r, emergencyCallerIdBy: r.emergencyCallerIdBy === 'operator' ? 'operator' : 'tenant' };
}

/**
 * Site records of a tenant: one hash field per site name, so any name a device carries (spaces,
 * slashes, non-ASCII) is a record without escaping. Devices keep naming their site; a site
 * without a record is just a name, as before sites had records.
 */
export class Sites {
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: { eventsMaxLen: number; now?: () => number },
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Audited with the caller ID, who set it and the route, and what they were before. */
  async put(tenant: string, site: Site, actor: string): Promise<'created' | 'updated'> {
    const k = keys.tenant(tenant);
    return (await scripts.site.run(
      this.redis,
      [k.sites, k.events],
      [
        'put',
        this.now(),
        this.opts.eventsMaxLen,
        actor,
        site.name,
        JSON.stringify({ ...site, name: undefined }),
        site.emergencyCallerId,
        site.emergencyCallerIdBy,
        site.emergencyRoute ?? '',
      ],
    )) as 'created' | 'updated';
  }

  async get(tenant: string, name: string): Promise<Site | null> {
    const json = await this.redis.hGet(keys.tenant(tenant).sites, name);
    return json ? toSite(name, json) : null;
  }

  async list(tenant: string): Promise<Site[]> {
    // As a Map: node-redis 6 answers a hash as a plain object, in which a site named `__proto__`
    // would be dropped (test/sites.test.ts).
    const all = await this.redis.withTypeMapping(AS_MAP).hGetAll(keys.tenant(tenant).sites);
    return [...all]
      .map(([name, json]) => toSite(name, json))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async delete(tenant: string, name: string, actor: string): Promise<boolean> {
    const k = keys.tenant(tenant);
    return (
      (await scripts.site.run(
        this.redis,
        [k.sites, k.events],
        ['delete', this.now(), this.opts.eventsMaxLen, actor, name],
      )) === 1
    );
  }
}
