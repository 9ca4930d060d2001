import { randomBytes } from 'node:crypto';
import type { RedisClient } from './connect';
import { keys } from './keys';
import { scripts } from './scripts';

/**
 * A source's wrong PAPs across all tenants. Its key cannot share a tenant's Cluster slot, so it is
 * kept apart from `attempt.lua`: a wrong PAP is reserved here first (atomically refused at the
 * limit), then the tenant's attempt runs, then the reservation is kept or released. The limit is
 * therefore never exceeded, even by concurrent attempts; near it, an attempt in flight that turns
 * out not to be a wrong PAP may briefly hold a place another attempt was refused for (fail closed).
 */
export class SourceGuesses {
  constructor(private readonly redis: RedisClient) {}

  /** A reservation, or when the source is let in again (ms) when it is at its limit. */
  async reserve(
    source: string,
    now: number,
    limit: number,
    windowSeconds: number,
  ): Promise<{ member: string; count: number } | { retryAt: number }> {
    const member = `${now}-${randomBytes(6).toString('hex')}`;
    const [ok, value] = (await scripts.guess.run(
      this.redis,
      [keys.guesses(source)],
      [now, limit, windowSeconds, member],
    )) as [number, string];
    return ok === 1 ? { member, count: Number(value) } : { retryAt: Number(value) };
  }

  async release(source: string, member: string): Promise<void> {
    await this.redis.zRem(keys.guesses(source), member);
  }

  /** True once per crossing: not again until a window after the last alert (see prelude.lua). */
  async firstCrossing(source: string, now: number, windowSeconds: number): Promise<boolean> {
    return (await scripts.crossing.run(this.redis, [keys.guessAlerted(source)], [now, windowSeconds])) === 1;
  }
}
