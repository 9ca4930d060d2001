import assert from 'node:assert/strict';

/** The SIP account a configuration file gives the phone. */
export interface FileAccount {
  user: string;
  authUser: string;
  password: string;
  /** host:port */
  registrar: string;
}

/** Yealink `<mac>.cfg`: `key = value` lines. */
export function yealinkAccount(body: string): FileAccount {
  const kv = yealinkItems(body);
  const get = (k: string) => {
    const v = kv.get(k);
    assert.ok(v !== undefined, `${k} missing in:\n${body}`);
    return v;
  };
  return {
    user: get('account.1.user_name'),
    authUser: get('account.1.auth_name'),
    password: get('account.1.password'),
    registrar: `${get('account.1.sip_server.1.address')}:${get('account.1.sip_server.1.port')}`,
  };
}

/** A Yealink file's `key = value` items, the last of a key winning as on the phone. */
export function yealinkItems(body: string): Map<string, string> {
  const kv = new Map<string, string>();
  for (const line of body.split('\n')) {
    const m = /^([^#=\s][^=]*?)\s*=\s*(.*)$/.exec(line.trim());
    if (m) kv.set(m[1]!, m[2]!);
  }
  return kv;
}
