import { createHash, randomBytes } from 'node:crypto';
import { InputError } from '../domain/errors';
import { scripts } from './scripts';
import type { RedisClient } from './connect';
import { keys } from './keys';

/**
 * Tenant admin tokens. A token is `pgt.<tenant>.<43 base64url characters>`: the tenant in it says
 * which slot holds its record, so checking one is a single lookup in that tenant's hash, and a bearer
 * that does not have this shape is refused without asking the store. Only SHA-256 of the token is
 * stored; the token itself is shown once, when it is created.
 */

interface TenantToken {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

const TOKEN = /^pgt\.([a-z0-9][a-z0-9_-]{0,62})\.([A-Za-z0-9_-]{43})$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
/**
 * Tokens of a tenant that are not revoked, at most: a customer's IT staff and an integration or
 * two. Every token is an admin of the tenant; unlimited, a customer admin could make thousands.
 */
export const MAX_TOKENS_PER_TENANT = 20;
/** Last use is a write; once a minute per token is precise enough for "is it still in use?". */
const LAST_USED_RESOLUTION_MS = 60_000;

export function parseTokenName(v: unknown): string {
  if (typeof v !== 'string' || !NAME.test(v))
    throw new InputError(
      'name must be 1-64 characters of letters, digits, space, ".", "_" and "-", starting with a letter or digit',
      'name',
    );
  return v;
}

/** The tenant a bearer claims to belong to and its digest, or null when it is not a tenant token. */
export function tenantTokenClaim(bearer: string): { tenant: string; sha: string } | null {
  const m = TOKEN.exec(bearer);
  return m ? { tenant: m[1]!, sha: createHash('sha256').update(bearer).digest('hex') } : null;
}

interface Stored {
  id: string;
  name: string;
  createdAt: number;
  revokedAt?: number;
}

export class TenantTokens {
  private readonly now: () => number;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: { eventsMaxLen: number; now?: () => number },
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Creates a token; answers it (the only time it is ever shown), or why not: the name is taken, or
   * the tenant has MAX_TOKENS_PER_TENANT tokens that are not revoked.
   */
  async create(
    tenant: string,
    name: string,
    actor: string,
  ): Promise<{ token: string; id: string } | 'name_taken' | 'too_many'> {
    const token = `pgt.${tenant}.${randomBytes(32).toString('base64url')}`;
    const id = randomBytes(6).toString('hex');
    const k = keys.tenant(tenant);
    const sha = tenantTokenClaim(token)!.sha;
    const r = await scripts.token.run(
      this.redis,
      [k.tokens, k.events],
      ['create', this.now(), this.opts.eventsMaxLen, actor, sha, id, name, MAX_TOKENS_PER_TENANT],
    );
    return r === 'ok' ? { token, id } : (r as 'name_taken' | 'too_many');
  }

  async list(tenant: string): Promise<TenantToken[]> {
    const k = keys.tenant(tenant);
    const [all, used] = await Promise.all([this.redis.hGetAll(k.tokens), this.redis.hGetAll(k.tokensUsed)]);
    return Object.entries(all)
      .map(([sha, json]) => view(JSON.parse(json) as Stored, used[sha]))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  async revoke(tenant: string, id: string, actor: string): Promise<'ok' | 'revoked' | 'unknown'> {
    const k = keys.tenant(tenant);
    return (await scripts.token.run(
      this.redis,
      [k.tokens, k.events],
      ['revoke', this.now(), this.opts.eventsMaxLen, actor, id],
    )) as 'ok' | 'revoked' | 'unknown';
  }

  /** The live token behind a claim, or null (unknown or revoked). Reads only. */
  async check(claim: { tenant: string; sha: string }): Promise<TenantToken | null> {
    const k = keys.tenant(claim.tenant);
    const [json, used] = await Promise.all([
      this.redis.hGet(k.tokens, claim.sha),
      this.redis.hGet(k.tokensUsed, claim.sha),
    ]);
    if (!json) return null;
    const t = view(JSON.parse(json) as Stored, used);
    return t.revokedAt === null ? t : null;
  }

  /** Notes a use of a checked token, unless one was noted within the last minute. */
  async noteUse(claim: { tenant: string; sha: string }, token: TenantToken): Promise<void> {
    const now = this.now();
    if (token.lastUsedAt !== null && now - token.lastUsedAt < LAST_USED_RESOLUTION_MS) return;
    await this.redis.hSet(keys.tenant(claim.tenant).tokensUsed, claim.sha, String(now));
  }
}

function view(s: Stored, used: string | undefined | null): TenantToken {
  return {
    id: s.id,
    name: s.name,
    createdAt: s.createdAt,
    lastUsedAt: used ? Number(used) : null,
    revokedAt: s.revokedAt ?? null,
  };
}
