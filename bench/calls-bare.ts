/**
 * The reference for `npm run bench:calls`: a bare drachtio-srf / drachtio-fsmrf app doing what
 * papgate's SIP side does, without Redis. REGISTER: the same digest exchange (401, then 200) with
 * one fixed nonce and one fixed password. INVITE: the same 407 challenge, then an endpoint on
 * FreeSWITCH, the `enter_pap` prompt with play_and_get_digits until `#`, the `success` prompt, BYE.
 * With BENCH_BARE_REDIS_URL it is the REGISTER floor: each answered REGISTER also runs the one
 * Redis script the rules ask for (record the nonce-count, save the binding with its expiry) before
 * its 200. Reads BENCH_BARE_* from the environment; prints one JSON line once connected.
 */
import path from 'node:path';
import Srf from 'drachtio-srf';
import Mrf from 'drachtio-fsmrf';
import { challengeHeader, checkDigest, parseDigestHeader } from '../src/domain/digest';
import { INVITE_KEY_HEADER, inviteKey } from '../src/ivr/fsmedia';
import { connectRedis, type RedisClient } from '../src/store/connect';
import pino from 'pino';

const env = process.env;
const REALM = env.BENCH_BARE_REALM ?? 'papgate-bench';
const PASSWORD = env.BENCH_BARE_PASSWORD ?? 'bench-password';
const NONCE = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const PROMPTS = env.BENCH_BARE_PROMPTS ?? path.resolve(__dirname, '../../prompts/en');

/** The nonce-count above the last one is recorded, the binding saved; the floor answers 200 either way. */
const FLOOR_SCRIPT = `
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1], 16) > last then redis.call('SET', KEYS[1], tonumber(ARGV[1], 16), 'PX', ARGV[2]) end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

async function floorStep(
  redis: RedisClient,
  sha: string,
  req: Srf.SrfRequest,
  contact: string,
): Promise<void> {
  const creds = parseDigestHeader(req.get('authorization'))!;
  const tag = `{floor:${creds.username}}`;
  await redis.evalSha(sha, {
    keys: [`${tag}:nc`, `${tag}:bindings`],
    arguments: [creds.nc ?? '1', '300000', contact, `${req.source_address}:${req.source_port}`],
  });
}

/** true: the request needs the 401/407 challenge (no, stale or wrong credentials). */
function challenge(req: Srf.SrfRequest, header: 'authorization' | 'proxy-authorization'): boolean {
  const creds = parseDigestHeader(req.get(header));
  return (
    creds === null ||
    creds.nonce !== NONCE ||
    checkDigest(creds, { method: req.method, realm: REALM, password: PASSWORD }) !== 'ok'
  );
}

async function main(): Promise<void> {
  const srf = new Srf();
  const mrf = new Mrf(srf);
  srf.on('error', (err: Error) => console.error(`bare: drachtio: ${err.message}`));
  const ms = await mrf.connect({
    address: env.BENCH_FREESWITCH_HOST ?? '127.0.0.1',
    port: Number(env.BENCH_FREESWITCH_PORT ?? 8021),
    secret: env.BENCH_FREESWITCH_SECRET ?? '',
    listenAddress: '127.0.0.1',
    listenPort: Number(env.BENCH_FREESWITCH_LISTEN_PORT ?? 8085),
  });
  // FreeSWITCH takes an INVITE only with the key papgate sends (config/freeswitch/vars.xml)
  const headers = { [INVITE_KEY_HEADER]: inviteKey(env.BENCH_FREESWITCH_SECRET ?? '') };
  const redis =
    env.BENCH_BARE_REDIS_URL === undefined
      ? null
      : await connectRedis(env.BENCH_BARE_REDIS_URL, pino({ level: 'silent' }));
  const sha = redis === null ? '' : await redis.scriptLoad(FLOOR_SCRIPT);
  srf.register((req, res) => {
    if (challenge(req, 'authorization'))
      return res.send(401, 'Unauthorized', {
        headers: { 'WWW-Authenticate': challengeHeader(REALM, NONCE) },
      });
    const uri = req.getParsedHeader('contact')[0]?.uri ?? '';
    const ok = () => res.send(200, 'OK', { headers: { Contact: `<${uri}>;expires=300`, Expires: '300' } });
    if (redis === null) return ok();
    floorStep(redis, sha, req, uri).then(ok, (err: Error) => {
      console.error(`floor: ${err.message}`);
      res.send(503, 'Service Unavailable');
    });
  });
  srf.invite((req, res) => {
    if (challenge(req, 'proxy-authorization'))
      return res.send(407, 'Proxy Authentication Required', {
        headers: { 'Proxy-Authenticate': challengeHeader(REALM, NONCE) },
      });
    void (async () => {
      let ep: Mrf.Endpoint;
      try {
        ep = await ms.createEndpoint({ remoteSdp: req.body, codecs: ['PCMU', 'PCMA'], headers });
      } catch (err) {
        console.error(`bare: cannot create media endpoint (${(err as Error).message})`);
        if (!res.finalResponseSent) res.send(503, 'Service Unavailable');
        return;
      }
      try {
        const dialog = await srf.createUAS(req, res, { localSdp: ep.local.sdp });
        dialog.on('destroy', () => void ep.destroy().catch(() => undefined));
        await ep.playCollect({ file: path.join(PROMPTS, 'enter_pap.wav'), min: 1, max: 16, timeout: 30000 });
        await ep.play(path.join(PROMPTS, 'success.wav'));
        if (dialog.connected) await dialog.destroy();
      } catch (err) {
        console.error(`bare: call failed (${(err as Error).message})`);
      } finally {
        await ep.destroy().catch(() => undefined);
      }
    })();
  });
  srf.connect({
    host: env.BENCH_DRACHTIO_HOST ?? '127.0.0.1',
    port: Number(env.BENCH_DRACHTIO_PORT ?? 9022),
    secret: env.BENCH_DRACHTIO_SECRET ?? '',
  });
  srf.once('connect', (err: Error | null) => {
    if (err) throw err;
    console.log(JSON.stringify({ ready: true }));
  });
  process.once('SIGTERM', () => {
    srf.disconnect();
    ms.disconnect();
    process.exit(0);
  });
}

void main().catch((err: Error) => {
  console.error(`bare: ${err.message}`);
  process.exit(1);
});
