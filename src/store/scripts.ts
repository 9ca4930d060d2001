import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import type { RedisClient } from './connect';

const LUA_DIR = path.join(PROJECT_ROOT, 'src', 'store', 'lua');
const PRELUDE = fs.readFileSync(path.join(LUA_DIR, 'prelude.lua'), 'utf8');

class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(readonly name: string) {
    this.source = `${PRELUDE}\n${fs.readFileSync(path.join(LUA_DIR, `${name}.lua`), 'utf8')}`;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  /** EVALSHA, falling back to EVAL once when the server has not cached the script (restart, failover). */
  async run(redis: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    // On a cluster, node-redis sends the script to the node of keys[0].
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
  provisioning: new LuaScript('provisioning'),
  provision: new LuaScript('provision'),
  note: new LuaScript('note'),
  delete: new LuaScript('delete'),
  audit: new LuaScript('audit'),
  traffic: new LuaScript('traffic'),
  emergency: new LuaScript('emergency'),
  probe: new LuaScript('probe'),
  whitelist: new LuaScript('whitelist'),
  nonce: new LuaScript('nonce'),
  register: new LuaScript('register'),
  release: new LuaScript('release'),
  guess: new LuaScript('guess'),
  crossing: new LuaScript('crossing'),
  migrate: new LuaScript('migrate'),
  site: new LuaScript('site'),
  token: new LuaScript('token'),
  settings: new LuaScript('settings'),
  tenant: new LuaScript('tenant'),
  edit: new LuaScript('edit'),
  unlock: new LuaScript('unlock'),
  endbypass: new LuaScript('endbypass'),
  untemp: new LuaScript('untemp'),
  accept: new LuaScript('accept'),
  disable: new LuaScript('disable'),
};
