import assert from 'node:assert/strict';
import { parseMac, type Mac } from '../src/domain/mac';
import { CHALLENGE_GRACE_MS } from '../src/domain/provisioning';
import { entriesContaining, ipMatches, parseWhitelistEntry } from '../src/domain/whitelist';
import { keys } from '../src/store/keys';
import type { Store } from '../src/store/store';
import type { AddressInfo } from 'node:net';
import { createProvisioningServer } from '../src/provisioning/server';
import { credentialIn, ProvisioningFixture, request } from './support/http';
import { FAST_POLICY, silentLog } from './support/redis';

/** One state of a device and its tenant, and the request made in it. */
interface Case {
  readonly name: string;
  /** Before the device's first request (what the process then assumes of it). */
  readonly tenant?: (store: Store) => Promise<unknown>;
  readonly setup?: (c: Ctx) => Promise<unknown>;
  readonly from?: string;
  /**
   * The device's own credential (issued by a whitelisted fetch in setup), a wrong one, or none: in
   * the path, or (`basic-`) as HTTP Basic credentials with the MAC as user (`basic-stranger`: the
   * own password under another user name).
   */
  readonly credential?: 'own' | 'wrong' | 'basic-own' | 'basic-wrong' | 'basic-stranger';
  readonly want: { status: number; outcome: string; reason: string };
}

interface Ctx {
  readonly f: ProvisioningFixture;
  readonly mac: Mac;
  readonly pap: string;
  credential: string | null;
}

const TWL = keys.tenant('acme').tempWhitelist;
const WRONG = (pap: string) => (pap === '000000' ? '111111' : '000000');
const whitelist = (f: ProvisioningFixture, entry: string) =>
  f.store.addWhitelist('acme', parseWhitelistEntry(entry), 'test');
/** A full configuration through a whitelist entry for 127.0.0.9: the device now holds a credential. */
const issueCredential = async (c: Ctx) => {
  await whitelist(c.f, '127.0.0.9');
  c.credential = credentialIn((await request(c.f.port, `/${c.mac}.cfg`, { from: '127.0.0.9' })).body);
  await c.f.store.removeWhitelist('acme', parseWhitelistEntry('127.0.0.9'), 'test');
};

/** A request without the credential from `from`, answered 401, and the clock `ms` on. */
const challengedFrom = (from: string, ms: number) => async (c: Ctx) => {
  await issueCredential(c);
  assert.equal((await request(c.f.port, `/${c.mac}.cfg`, { from })).status, 401);
  c.f.clock += ms;
};

/** A device holding its credential, then suspended by an admin. */
const suspendHolder = async (c: Ctx) => {
  await issueCredential(c);
  await c.f.store.suspendDevice('acme', c.mac, 'test');
};

const CASES: Case[] = [
  { name: 'needed', want: { status: 200, outcome: 'minimal', reason: 'needed' } },
  {
    name: 'failed (locked)',
    setup: async (c) => {
      for (let i = 0; i < 3; i++) await c.f.store.attemptPap(c.mac, WRONG(c.pap), null, 't', 'api');
    },
    want: { status: 200, outcome: 'minimal', reason: 'failed' },
  },
  {
    name: 'failed, lock run out',
    setup: async (c) => {
      for (let i = 0; i < 3; i++) await c.f.store.attemptPap(c.mac, WRONG(c.pap), null, 't', 'api');
      c.f.clock += 1500;
    },
    want: { status: 200, outcome: 'minimal', reason: 'needed' },
  },
  {
    name: 'blocked',
    setup: async (c) => {
      for (let i = 0; i < 9; i++) {
        await c.f.store.attemptPap(c.mac, WRONG(c.pap), null, 't', 'api');
        c.f.clock += 1500;
      }
    },
    want: { status: 200, outcome: 'minimal', reason: 'blocked' },
  },
  {
    name: 'whitelisted network',
    setup: (c) => whitelist(c.f, '127.0.0.0/29'),
    want: { status: 200, outcome: 'full', reason: 'whitelist' },
  },
  {
    name: 'whitelisted address, another one asking',
    setup: (c) => whitelist(c.f, '127.0.0.3'),
    want: { status: 200, outcome: 'minimal', reason: 'needed' },
  },
  {
    name: 'temporary whitelist',
    setup: (c) => c.f.store.attemptPap(c.mac, c.pap, '127.0.0.2', 't', 'api'),
    want: { status: 200, outcome: 'full', reason: 'temporary_whitelist' },
  },
  {
    name: 'temporary whitelist, device blocked',
    setup: async (c) => {
      await c.f.redis.client.zAdd(TWL, { score: c.f.clock + 60_000, value: '127.0.0.2' });
      for (let i = 0; i < 9; i++) {
        await c.f.store.attemptPap(c.mac, WRONG(c.pap), null, 't', 'api');
        c.f.clock += 1500;
      }
    },
    want: { status: 200, outcome: 'minimal', reason: 'blocked' },
  },
  {
    name: 'temporary whitelist run out',
    setup: async (c) => {
      await c.f.redis.client.zAdd(TWL, { score: c.f.clock - 1, value: '127.0.0.2' });
    },
    want: { status: 200, outcome: 'minimal', reason: 'needed' },
  },
  {
    name: 'suspended, bound to no network (as stored before suspensions had one)',
    setup: (c) => c.f.store.suspendDevice('acme', c.mac, 'test'),
    want: { status: 200, outcome: 'full', reason: 'suspension' },
  },
  {
    name: 'suspended for the asking address',
    setup: (c) => c.f.store.suspendDevice('acme', c.mac, 'test', '127.0.0.2'),
    want: { status: 200, outcome: 'full', reason: 'suspension' },
  },
  {
    name: 'suspended for a range holding the asking address',
    setup: (c) => c.f.store.suspendDevice('acme', c.mac, 'test', '127.0.0.0/29'),
    want: { status: 200, outcome: 'full', reason: 'suspension' },
  },
  {
    name: 'suspended for another network: a stranger polling the MAC gets the minimal file',
    setup: (c) => c.f.store.suspendDevice('acme', c.mac, 'test', '127.0.0.64/26'),
    want: { status: 200, outcome: 'minimal', reason: 'needed' },
  },
  {
    name: 'suspended for another address of the same network',
    setup: (c) => c.f.store.suspendDevice('acme', c.mac, 'test', '127.0.0.3'),
    want: { status: 200, outcome: 'minimal', reason: 'needed' },
  },
  {
    name: 'suspended for an IPv6 network, asked from IPv4',
    setup: (c) => c.f.store.suspendDevice('acme', c.mac, 'test', '2001:db8::/32'),
    want: { status: 200, outcome: 'minimal', reason: 'needed' },
  },
  {
    name: 'suspended for another network, the asking address whitelisted',
    setup: async (c) => {
      await c.f.store.suspendDevice('acme', c.mac, 'test', '127.0.0.64/26');
      await whitelist(c.f, '127.0.0.2');
    },
    want: { status: 200, outcome: 'full', reason: 'whitelist' },
  },
  {
    name: 'suspended, the device holds a credential: another address does not take it over',
    setup: suspendHolder,
    want: { status: 401, outcome: 'challenge', reason: 'no_credential' },
  },
  {
    name: 'suspended, the phone with its own credential',
    setup: suspendHolder,
    credential: 'own',
    want: { status: 200, outcome: 'full', reason: 'credential' },
  },
  {
    name: 'holds a credential, fetched without it from a whitelisted network: no new credential replaces it',
    setup: async (c) => {
      await issueCredential(c);
      await whitelist(c.f, '127.0.0.0/29');
    },
    want: { status: 401, outcome: 'challenge', reason: 'no_credential' },
  },
  {
    name: 'holds a credential, asked without it: challenged',
    setup: issueCredential,
    want: { status: 401, outcome: 'challenge', reason: 'no_credential' },
  },
  {
    name: 'holds a credential, asked again without it a moment after the challenge: challenged again',
    setup: challengedFrom('127.0.0.2', 1000),
    want: { status: 401, outcome: 'challenge', reason: 'no_credential' },
  },
  {
    name: 'holds a credential, asked again without it once the challenge went unanswered: challenged, marked as needing reset',
    setup: challengedFrom('127.0.0.2', CHALLENGE_GRACE_MS),
    want: { status: 401, outcome: 'challenge', reason: 'needs_reset' },
  },
  {
    // The drill: a stranger behind the phone's address asked once; the phone's own resync, which
    // starts without the credential, is asked for it as ever, and its answer gets the full file.
    name: "a stranger's unanswered challenge from the phone's address, then the phone asks and answers",
    setup: async (c) => {
      await challengedFrom('127.0.0.2', CHALLENGE_GRACE_MS)(c);
      assert.equal((await request(c.f.port, `/${c.mac}.cfg`, { from: '127.0.0.2' })).status, 401);
    },
    credential: 'basic-own',
    want: { status: 200, outcome: 'full', reason: 'credential' },
  },
  {
    name: 'authenticated by its PAP from another address, asked before its first full file: reset needed',
    setup: (c) => c.f.store.attemptPap(c.mac, c.pap, '127.0.0.3', 't', 'api'),
    want: { status: 200, outcome: 'minimal', reason: 'reset' },
  },
  {
    name: 'an unanswered challenge to another address: challenged',
    setup: challengedFrom('127.0.0.3', CHALLENGE_GRACE_MS),
    want: { status: 401, outcome: 'challenge', reason: 'no_credential' },
  },
  {
    name: 'a challenge answered with the credential ends the wait',
    setup: async (c) => {
      await challengedFrom('127.0.0.2', 0)(c);
      const path = `/d/${c.credential}/${c.mac}.cfg`;
      assert.equal((await request(c.f.port, path, { from: '127.0.0.2' })).status, 200);
      c.f.clock += CHALLENGE_GRACE_MS;
    },
    want: { status: 401, outcome: 'challenge', reason: 'no_credential' },
  },
  {
    name: 'own credential as HTTP Basic credentials',
    setup: issueCredential,
    credential: 'basic-own',
    want: { status: 200, outcome: 'full', reason: 'credential' },
  },
  {
    name: 'a wrong password as HTTP Basic credentials',
    setup: issueCredential,
    credential: 'basic-wrong',
    want: { status: 403, outcome: 'refused', reason: 'wrong_credential' },
  },
  {
    name: 'HTTP Basic credentials of another user name: challenged',
    setup: issueCredential,
    credential: 'basic-stranger',
    want: { status: 401, outcome: 'challenge', reason: 'no_credential' },
  },
  {
    name: 'HTTP Basic credentials for a device without a credential: refused, never challenged',
    setup: (c) => whitelist(c.f, '127.0.0.2'),
    credential: 'basic-wrong',
    want: { status: 403, outcome: 'refused', reason: 'wrong_credential' },
  },
  {
    name: "temporary whitelist entry of another site's PAP success",
    setup: async (c) => {
      const elsewhere = await c.f.device('yealink', 'T54W', `0015650b${c.mac.slice(-4)}`, { site: 'Branch' });
      await c.f.store.attemptPap(elsewhere.mac, elsewhere.pap, '127.0.0.2', 't', 'api');
    },
    want: { status: 200, outcome: 'minimal', reason: 'needed' },
  },
  {
    name: 'own credential',
    setup: issueCredential,
    credential: 'own',
    want: { status: 200, outcome: 'full', reason: 'credential' },
  },
  {
    name: 'own credential while whitelisted',
    setup: async (c) => {
      await issueCredential(c);
      await whitelist(c.f, '127.0.0.2');
    },
    credential: 'own',
    want: { status: 200, outcome: 'full', reason: 'credential' },
  },
  {
    name: 'wrong credential while whitelisted',
    setup: (c) => whitelist(c.f, '127.0.0.2'),
    credential: 'wrong',
    want: { status: 403, outcome: 'refused', reason: 'wrong_credential' },
  },
  {
    name: 'credential revoked by a reset',
    setup: async (c) => {
      await issueCredential(c);
      await c.f.store.resetDevice('acme', c.mac, 'test');
    },
    credential: 'own',
    want: { status: 403, outcome: 'refused', reason: 'wrong_credential' },
  },
  {
    name: 'certificate required, none presented',
    tenant: (s) => s.putTenant('acme', { name: 'acme', language: null, deviceCertificate: 'required' }, 't'),
    setup: (c) => whitelist(c.f, '127.0.0.2'),
    want: { status: 403, outcome: 'refused', reason: 'device_certificate_required' },
  },
  {
    // Misses counted for the asking address's network (PROVISIONING_MISS_PREFIX_IPV4=24 here), by
    // every process: both ways read the same counter and answer 429 without writing anything.
    name: 'misses of the network over the limit',
    setup: async (c) => {
      for (let i = 0; i < 6; i++) await c.f.store.countMiss('127.0.1.0/24', 60);
    },
    // A network of its own: the verdict a process keeps must not reach the other cases.
    from: '127.0.1.2',
    want: { status: 429, outcome: 'none', reason: 'none' },
  },
  {
    name: 'certificate policy off',
    tenant: (s) => s.putTenant('acme', { name: 'acme', language: null, deviceCertificate: 'off' }, 't'),
    setup: (c) => whitelist(c.f, '127.0.0.2'),
    want: { status: 200, outcome: 'full', reason: 'whitelist' },
  },
];

/**
 * provision.lua decides a device a process has answered before; decideProvisioning (with the
 * store's reads and writes around it) decides in a process that has not. Every case is run both
 * ways on two devices in the same state, over real HTTP and Redis: same answer, same audit event,
 * same resulting state.
 */
describe('provisioning: one script and the long way decide alike', () => {
  const f = new ProvisioningFixture({ PROVISIONING_MISS_PREFIX_IPV4: '24' });
  let quick = 0;
  before(async () => {
    await f.start();
    const provision = f.store.provision.bind(f.store);
    f.store.provision = async (...args) => {
      const r = await provision(...args);
      if (r !== null && r.kind !== 'unsure') quick++;
      return r;
    };
  });
  after(() => f.stop());

  CASES.forEach((c, i) => {
    it(c.name, async () => {
      await f.redis.flush();
      f.clock = Date.now();
      await f.store.putTenant('acme', { name: 'acme', language: null }, 't');
      await c.tenant?.(f.store);
      const macs = [
        `0015650a${i.toString(16).padStart(2, '0')}01`,
        `0015650a${i.toString(16).padStart(2, '0')}02`,
      ];
      const ctxs: Ctx[] = [];
      for (const m of macs) {
        const d = await f.device('yealink', 'T54W', m);
        ctxs.push({ f, mac: parseMac(m), pap: d.pap, credential: null });
      }
      // The second device is answered once first (from an address nothing applies to): the process
      // now knows it, so the case's request goes through provision.lua.
      await request(f.port, `/${macs[1]}.cfg`, { from: '127.0.0.6' });
      for (const ctx of ctxs) await c.setup?.(ctx);

      // The first device's request goes to a process that knows nothing of it yet.
      const fresh = createProvisioningServer({
        config: f.config,
        store: f.redis.store(FAST_POLICY, () => f.clock),
        log: silentLog,
        now: () => f.clock,
      });
      await fresh.listen({ host: '127.0.0.1', port: 0 });
      const ports = [(fresh.server.address() as AddressInfo).port, f.port];
      const seen = [];
      for (const [n, ctx] of ctxs.entries()) {
        const before = quick;
        const earlier = new Set((await f.store.events('acme', 50, undefined, 'traffic')).map((e) => e.id));
        const last = JSON.stringify((await f.store.getDevice('acme', ctx.mac))!.lastProvisioning);
        const own = ctx.credential ?? '';
        const secret = { own, wrong: 'f'.repeat(32) }[c.credential?.replace('basic-', '') ?? ''] ?? own;
        const basic = (user: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
        const res = c.credential?.startsWith('basic-')
          ? await request(ports[n]!, `/${ctx.mac}.cfg`, {
              from: c.from ?? '127.0.0.2',
              headers: {
                authorization: basic(c.credential === 'basic-stranger' ? 'admin' : ctx.mac.toUpperCase()),
              },
            })
          : await request(
              ports[n]!,
              c.credential !== undefined ? `/d/${secret}/${ctx.mac}.cfg` : `/${ctx.mac}.cfg`,
              { from: c.from ?? '127.0.0.2' },
            );
        assert.equal(quick - before, n, `${ctx.mac}: ${n === 0 ? 'the long way' : 'provision.lua'}`);
        // What this request wrote (a refusal for misses writes nothing).
        const ev = (await f.store.events('acme', 50, undefined, 'traffic')).find(
          (e) => e.type === 'provisioning' && e.mac === ctx.mac && !earlier.has(e.id),
        ) ?? { outcome: 'none', reason: 'none', ip: 'none' };
        const d = (await f.store.getDevice('acme', ctx.mac))!;
        const issued = credentialIn(res.body);
        seen.push({
          status: res.status,
          outcome: ev.outcome,
          reason: ev.reason,
          ip: ev.ip,
          state: d.state,
          authenticatedVia: d.authenticatedVia,
          lastOutcome:
            JSON.stringify(d.lastProvisioning) === last ? 'unchanged' : d.lastProvisioning?.outcome,
          issued: issued !== null,
          holdsCredential: d.credentialHash !== null,
          challenged: d.challenged?.ip ?? null,
          needsReset: d.needsReset?.ip ?? null,
          needsResetAudited: (await f.store.events('acme', 50)).filter(
            (e) => e.type === 'needs_reset' && e.mac === ctx.mac,
          ).length,
          minimalText: /Dial \*89|Locked|Blocked|reset needed/.exec(res.body)?.[0] ?? null,
        });
      }
      await fresh.close();
      assert.deepEqual(seen[1], seen[0]);
      assert.deepEqual(
        { status: seen[0]!.status, outcome: seen[0]!.outcome, reason: seen[0]!.reason },
        c.want,
      );
    });
  });

  it('finds a whitelist entry by text exactly when ipMatches finds it', () => {
    const ips = ['127.0.0.2', '198.51.100.7', '10.255.0.1', '2001:db8::7', '2001:db8:0:1::', 'fe80::1'];
    const entries = [
      '127.0.0.0/8',
      '127.0.0.2',
      '198.51.100.0/24',
      '198.51.100.8/29',
      '10.0.0.0/9',
      '10.128.0.0/9',
      '2001:db8::/32',
      '2001:db8::/64',
      '2001:db8:0:1::/64',
      '2001:db8::7',
      'fe80::/10',
      '::1',
    ];
    for (const ip of ips) {
      const texts = new Set(entriesContaining(ip));
      for (const e of entries) {
        const entry = parseWhitelistEntry(e);
        assert.equal(texts.has(entry.text), ipMatches(ip, [entry]) !== null, `${ip} in ${e}`);
      }
    }
  });
});
