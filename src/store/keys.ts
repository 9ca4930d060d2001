/**
 * Redis key layout (see README.md in this folder). Every key of one tenant carries the hash tag
 * `{t:<tenant>}`, so each multi-key script touches a single Cluster slot. Tenant ids cannot contain
 * braces (see parseTenantId), so the tag is always the whole `t:<tenant>`.
 */
const P = 'papgate';

export const keys = {
  /** SET of tenant ids (global, single-key operations only) */
  tenants: () => `${P}:tenants`,
  /**
   * HASH mac -> tenant id: the global MAC index, in 4096 buckets by the MAC's last three hex digits
   * (a key per MAC cost 88 bytes, a field in a bucket about 20; each bucket stays a listpack up to
   * about two million devices). A MAC is claimed with HSETNX; every command touches one bucket.
   */
  macIndex: (mac: string) => `${P}:macs:{${mac.slice(-3)}}`,
  /** STRING the layout version of this database (see schema.ts) */
  schema: () => `${P}:schema`,
  /** STRING counter of provisioning 404s from one client network, `198.51.100.7/32` (rate limit) */
  provisioningMisses: (client: string) => `${P}:miss:{${client}}`,
  /** ZSET one source's wrong PAPs across all tenants (score = time); the source is the hash tag */
  guesses: (source: string) => `${P}:guess:{${source}}`,
  /** STRING + TTL: the all-tenants crossing of `source` was alerted (once per crossing) */
  guessAlerted: (source: string) => `${P}:guess:{${source}}:alerted`,
  /** STRING the secret SIP digest nonces are signed with (hex; created once with SET NX) */
  nonceSecret: () => `${P}:nonce-secret`,
  tenant: (t: string) => ({
    /** HASH name, language, createdAt */
    info: `${P}:{t:${t}}:tenant`,
    /** ZSET mac by createdAt */
    devices: `${P}:{t:${t}}:devices`,
    /** SET of canonical permanent whitelist entries */
    whitelist: `${P}:{t:${t}}:wl`,
    /**
     * ZSET (scores 0) of the permanent whitelist's entries by first address, `indexMember` (whitelists.ts):
     * the entries inside a range are one ZRANGEBYLEX
     */
    whitelistIndex: `${P}:{t:${t}}:wlx`,
    /** HASH what the permanent whitelist covers: `4`, `6` addresses (decimal), `v` version (each change) */
    whitelistCoverage: `${P}:{t:${t}}:wlc`,
    /**
     * ZSET `<site>\x1f<ip>` (tempWhitelistMember) -> expiry (ms): the address lets devices of that
     * site in. A bare `<ip>` member (written before entries were scoped to a site) lets in the
     * tenant's devices until it expires.
     */
    tempWhitelist: `${P}:{t:${t}}:twl`,
    /** ZSET mac -> failedUntil (ms), for the lock-expiry watcher */
    locks: `${P}:{t:${t}}:locks`,
    /** STREAM audit trail: what admins did and what changed a device (never trimmed by traffic) */
    events: `${P}:{t:${t}}:events`,
    /** STREAM phone traffic: provisioning answers, refused REGISTERs (per client, see trafficGate) */
    traffic: `${P}:{t:${t}}:traffic`,
    /** HASH + TTL the traffic events one client (address prefix) wrote in its window: s start, n count */
    trafficGate: (client: string) => `${P}:{t:${t}}:tg:${client}`,
    /** HASH + TTL the emergency calls of one device audited in its window (emergency.lua): s start, n count */
    emergencyGate: (mac: string) => `${P}:{t:${t}}:eg:${mac}`,
    /** STRING + TTL MACs of other tenants this tenant's tokens were told of in the current window */
    probes: `${P}:{t:${t}}:probes`,
    /** HASH one device (fields: DEVICE); the MAC is the key's last part, and not stored again */
    device: (mac: string) => `${P}:{t:${t}}:dev:${mac}`,
    /** HASH sha256(token) hex -> JSON {id, name, createdAt, revokedAt?} of tenant admin tokens */
    tokens: `${P}:{t:${t}}:tokens`,
    /** HASH sha256(token) hex -> last use (ms), written at most once a minute per token */
    tokensUsed: `${P}:{t:${t}}:tokused`,
    /** ZSET one source's wrong PAPs in this tenant (score = time) */
    guesses: (source: string) => `${P}:{t:${t}}:guess:${source}`,
    /** STRING + TTL: this tenant's crossing of `source` was alerted */
    guessAlerted: (source: string) => `${P}:{t:${t}}:guessed:${source}`,
    /** HASH site name -> JSON {emergencyCallerId, civicAddress, emergencyRoute, sendLocation} */
    sites: `${P}:{t:${t}}:sites`,
    /**
     * HASH settings layers (settings.ts): `<family>\x1f<layer>` -> JSON [{name, value}], and a site's
     * common settings `<field>\x1fs\x1f<site>` -> value; layer `t`, `s\x1f<site>` or `d\x1f<mac>`
     */
    settings: `${P}:{t:${t}}:settings`,
    /** STRING + TTL highest nonce-count seen with one signed SIP digest nonce ('single': used without qop) */
    nonce: (nonce: string) => `${P}:{t:${t}}:nonce:${nonce}`,
    /**
     * HASH source address -> JSON binding of a device's restricted account (see register.lua), one
     * per address; the key expires with its last binding. (Until 2026-12 one binding under `reg:`.)
     */
    registrations: (mac: string) => `${P}:{t:${t}}:regs:${mac}`,
  }),
};

/** A temporary whitelist entry for a site (twl_member in lua/prelude.lua). */
export const tempWhitelistMember = (site: string, ip: string): string => `${site}\x1f${ip}`;

/**
 * Field names of a device hash. Short because a device's bytes in Redis are mostly field names and
 * values, paid once per device; a value longer than 64 bytes is stored in pieces (`a`, `a:1`, ...,
 * see device-record.ts), so that the hash stays a listpack under Redis's default
 * hash-max-listpack-value. The Lua scripts use the same names.
 */
export const DEVICE = {
  vendor: 'v',
  model: 'md',
  site: 'si',
  language: 'l',
  accounts: 'a',
  createdAt: 'c',
  pap: 'p',
  /** when the PAP was issued by a reset (ms); a device never reset: its `createdAt` */
  papIssuedAt: 'pi',
  generation: 'g',
  state: 's',
  consecutiveFailures: 'n',
  totalFailures: 't',
  failedUntil: 'fu',
  suspendedUntil: 'su',
  suspensionNetwork: 'sn',
  credentialHash: 'ch',
  digestCredential: 'cd',
  challenged: 'cq',
  needsReset: 'nr',
  sipPassword: 'sp',
  authenticatedAt: 'aa',
  authenticatedVia: 'av',
  lastProvisioningAt: 'la',
  lastProvisioningIp: 'li',
  lastProvisioningOutcome: 'lo',
  /** The last request refused as user_agent_mismatch, `<ms> <address>`, and the model it named, if acceptable. */
  userAgentMismatch: 'um',
  userAgentModel: 'uo',
  /** Disabled by an admin since (ms); absent: enabled. */
  disabledAt: 'dx',
} as const;

/** CRC16/XMODEM key slot as Redis Cluster computes it; used by tests to prove one slot per script. */
export function clusterSlot(key: string): number {
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) key = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(key, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
