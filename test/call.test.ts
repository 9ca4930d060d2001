import assert from 'node:assert/strict';
import { decideCall, dialledNumber, type Caller, type CallRoute } from '../src/domain/call';
import { DEFAULT_EMERGENCY_NUMBERS } from '../src/domain/emergency';
import { loadConfig } from '../src/config';
import { Metrics } from '../src/metrics';
import { Slots } from '../src/sip/overload';
import { emergencyTarget, handleInvite, type RouterDeps } from '../src/sip/router';
import { silentLog } from './support/redis';
import { checkSyncEvent, outboundTarget } from '../src/sip/notify';

const rules = { emergencyNumbers: DEFAULT_EMERGENCY_NUMBERS, authServiceNumber: '*89' };

describe('call: routing decision (domain/call.ts)', () => {
  const table: [string, Caller, string, CallRoute][] = [
    ['needed device, *89', { kind: 'device', state: 'needed' }, '*89', 'ivr'],
    ['needed device, any number', { kind: 'device', state: 'needed' }, '4711', 'ivr'],
    ['needed device, 112', { kind: 'device', state: 'needed' }, '112', 'emergency'],
    ['needed device, 1100 is not 110', { kind: 'device', state: 'needed' }, '1100', 'ivr'],
    ['failed device, *89', { kind: 'device', state: 'failed' }, '*89', 'not_possible'],
    ['failed device, 110', { kind: 'device', state: 'failed' }, '110', 'emergency'],
    ['blocked device, other', { kind: 'device', state: 'blocked' }, '0301234', 'not_possible'],
    ['blocked device, 911', { kind: 'device', state: 'blocked' }, '911', 'emergency'],
    ['successful device, *89', { kind: 'device', state: 'successful' }, '*89', 'not_possible'],
    ['successful device, 112', { kind: 'device', state: 'successful' }, '112', 'emergency'],
    ['trusted PBX, *89, needed', { kind: 'trusted_peer', state: 'needed' }, '*89', 'ivr'],
    ['trusted PBX, *89, failed', { kind: 'trusted_peer', state: 'failed' }, '*89', 'not_possible'],
    ['trusted PBX, *89, successful', { kind: 'trusted_peer', state: 'successful' }, '*89', 'not_possible'],
    ['trusted PBX, *89, unknown device', { kind: 'trusted_peer', state: 'unknown_device' }, '*89', 'refuse'],
    [
      'trusted PBX, *89, store down',
      { kind: 'trusted_peer', state: 'store_unavailable' },
      '*89',
      'not_possible',
    ],
    ['trusted PBX, other number', { kind: 'trusted_peer', state: 'needed' }, '4711', 'refuse'],
    ['trusted PBX, 112', { kind: 'trusted_peer', state: 'needed' }, '112', 'refuse'],
    ['store down, 112', { kind: 'store_unavailable' }, '112', 'emergency'],
    ['store down, *89', { kind: 'store_unavailable' }, '*89', 'not_possible'],
    ['unknown caller, *89', { kind: 'unknown' }, '*89', 'refuse'],
    ['unknown caller, 112', { kind: 'unknown' }, '112', 'refuse'],
  ];
  for (const [name, caller, dialled, want] of table) {
    it(`${name} -> ${want}`, () => assert.equal(decideCall(caller, dialled, rules), want));
  }

  it('honours a configured emergency list and service number', () => {
    const r = { emergencyNumbers: ['999'], authServiceNumber: '*55' };
    assert.equal(decideCall({ kind: 'device', state: 'needed' }, '112', r), 'ivr');
    assert.equal(decideCall({ kind: 'device', state: 'needed' }, '999', r), 'emergency');
    assert.equal(decideCall({ kind: 'trusted_peer', state: 'needed' }, '*55', r), 'ivr');
    assert.equal(decideCall({ kind: 'trusted_peer', state: 'needed' }, '*89', r), 'refuse');
  });

  it('extracts the dialled number from a request URI', () => {
    assert.equal(dialledNumber('sip:112@pap.example.com'), '112');
    assert.equal(dialledNumber('sip:*89@10.0.0.1:5060;transport=udp'), '*89');
    assert.equal(dialledNumber('sip:%2A89@host'), '*89');
    assert.equal(dialledNumber('tel:+4930123;phone-context=x'), '+4930123');
    assert.equal(dialledNumber('sip:host'), 'host');
    assert.equal(dialledNumber('garbage'), '');
  });

  it('builds the emergency target with the dialled number', () => {
    assert.equal(emergencyTarget('sip:10.1.2.3:5070', '112'), 'sip:112@10.1.2.3:5070');
    assert.equal(
      emergencyTarget('sip:sbc.example.net;transport=tcp', '110'),
      'sip:110@sbc.example.net;transport=tcp',
    );
    assert.equal(emergencyTarget('sip:emergency@sbc.example.net', '112'), 'sip:emergency@sbc.example.net');
  });
});

describe('sip: check-sync NOTIFY per vendor', () => {
  it('maps vendors to their re-sync event', () => {
    assert.equal(checkSyncEvent('cisco'), 'resync');
    assert.equal(checkSyncEvent('linksys'), 'resync');
    assert.equal(checkSyncEvent('yealink'), 'check-sync;reboot=false');
    assert.equal(checkSyncEvent('snom'), 'check-sync;reboot=false');
    assert.equal(checkSyncEvent('poly'), 'check-sync');
    assert.equal(checkSyncEvent('gigaset'), 'check-sync');
    assert.equal(checkSyncEvent('someone-new'), 'check-sync');
  });
  it('targets the REGISTER source address (NAT-safe)', () => {
    assert.equal(
      outboundTarget({ address: '203.0.113.9', port: 40000, protocol: 'udp' }),
      'sip:203.0.113.9:40000;transport=udp',
    );
    assert.equal(
      outboundTarget({ address: '2001:db8::1', port: 5060, protocol: 'TCP' }),
      'sip:[2001:db8::1]:5060;transport=tcp',
    );
  });
});

describe('sip: IVR_MAX_CALLS and draining', () => {
  /** An INVITE without credentials and what the router answered (status, headers, store calls, 503s counted). */
  async function invite(dialled: string, slots: Slots, draining = false) {
    const config = loadConfig({ DRACHTIO_HOST: '127.0.0.1', SIP_OVERLOAD_RETRY_AFTER_SECONDS: '12' });
    const storeCalls: string[] = [];
    let answer: { status: number; headers: Record<string, string> } | null = null;
    const req = {
      uri: `sip:${dialled}@127.0.0.1`,
      method: 'INVITE',
      callId: 'c1',
      source_address: '198.51.100.7',
      get: () => undefined,
      on: () => undefined,
    };
    const res = {
      finalResponseSent: false,
      send: (status: number, _reason: string, o?: { headers?: Record<string, string> }) =>
        (answer = { status, headers: o?.headers ?? {} }),
    };
    const metrics = new Metrics();
    const deps = {
      config,
      sipStore: { issueNonce: async () => String(storeCalls.push('issueNonce')) },
      ivrSlots: slots,
      draining: () => draining,
      metrics,
      log: silentLog,
    } as unknown as RouterDeps;
    await handleInvite(req as never, res as never, deps);
    const { body } = await metrics.expose();
    const shed = Object.fromEntries(
      [...body.matchAll(/^papgate_sip_invites_shed_total\{reason="(\w+)"\} (\d+)$/gm)].map((m) => [
        m[1]!,
        Number(m[2]),
      ]),
    );
    return { answer: answer!, storeCalls, shed };
  }

  it('a new call while the IVR is full gets 503 + Retry-After before digest and Redis', async () => {
    const slots = new Slots(1);
    slots.tryAcquire();
    const { answer, storeCalls, shed } = await invite('*89', slots);
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['Retry-After'], '12');
    assert.deepEqual(storeCalls, []);
    assert.deepEqual(shed, { ivr_capacity: 1, draining: 0 });
  });

  it('a new call reaching a draining instance gets 503 + Retry-After before digest and Redis, counted apart', async () => {
    const { answer, storeCalls, shed } = await invite('*89', new Slots(1), true);
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['Retry-After'], '12');
    assert.deepEqual(storeCalls, []);
    assert.deepEqual(shed, { ivr_capacity: 0, draining: 1 });
  });

  it('an emergency number is never shed while draining (it goes on to digest)', async () => {
    const { answer, shed } = await invite('112', new Slots(1), true);
    assert.equal(answer.status, 407);
    assert.deepEqual(shed, { ivr_capacity: 0, draining: 0 });
  });

  it('an emergency number is never shed for IVR capacity (it goes on to digest)', async () => {
    const slots = new Slots(1);
    slots.tryAcquire();
    const { answer, storeCalls } = await invite('112', slots);
    assert.equal(answer.status, 407);
    assert.deepEqual(storeCalls, ['issueNonce']);
  });

  it('below the limit a call goes on to digest', async () => {
    const { answer, shed } = await invite('*89', new Slots(1));
    assert.equal(answer.status, 407);
    assert.deepEqual(shed, { ivr_capacity: 0, draining: 0 });
  });
});
