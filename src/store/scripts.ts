import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../paths';

/** The slice of the `redis` client the store needs; both a client and a cluster satisfy it. */
export interface ScriptRunner {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

const LUA_DIR = path.join(PROJECT_ROOT, 'src', 'store', 'lua');
const PRELUDE = fs.readFileSync(path.join(LUA_DIR, 'prelude.lua'), 'utf8');

export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(readonly name: string) {
    this.source = `${PRELUDE}\n${fs.readFileSync(path.join(LUA_DIR, `${name}.lua`), 'utf8')}`;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  /** EVALSHA, falling back to EVAL once when the server has not cached the script (restart, failover). */
  async run(redis: ScriptRunner, keys: string[], args: (string | number)[]): Promise<unknown> {
    const options = { keys, arguments: args.map(String) };
    try {
      return await redis.evalSha(this.sha, options);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) return redis.eval(this.source, options);
      throw err;
    }
  }
}

export const scripts = {
  attempt: new LuaScript('attempt'),
  create: new LuaScript('create'),
  reset: new LuaScript('reset'),
  suspend: new LuaScript('suspend'),
  settle: new LuaScript('settle'),
  full: new LuaScript('full'),
  note: new LuaScript('note'),
  delete: new LuaScript('delete'),
  audit: new LuaScript('audit'),
  nonce: new LuaScript('nonce'),
  release: new LuaScript('release'),
};
