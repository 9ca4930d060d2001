/**
 * Site records (issue 12, part 3): validation, the emergency leg built from a site (identity
 * headers, PIDF-LO in a multipart body), and the admin routes on a real Redis, audited. Issue 17:
 * routes and caller IDs only within what the operator allowed, checked when written and on every call.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { XMLValidator } from 'fast-xml-parser';
import { InputError } from '../src/domain/errors';
import { parseSite, parseSiteName, type Site, type SiteInput } from '../src/domain/site';
import {
  authorizeSite,
  parseCallerIdPrefixes,
  planEmergency,
  type EmergencyPolicy,
} from '../src/domain/emergency';
import { emergencyLeg, offerSdp, pidfLo } from '../src/sip/emergency';
import { emergencySite } from '../src/sip/emergency-call';
import { keys } from '../src/store/keys';
import { parseMac } from '../src/domain/mac';
import pino from 'pino';
import { Sites } from '../src/store/sites';
import { request } from './support/http';
import { startAdmin } from './support/admin';
import { TestRedis } from './support/redis';

const SDP =
  'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const ADDRESS = { country: 'DE', A1: 'Berlin', A3: 'Berlin', RD: 'Unter den Linden', HNO: '5', PC: '10117' };

describe('sites: validation', () => {
  const refused = (body: unknown, field?: string) =>
    assert.throws(
      () => parseSite('HQ', body),
      (e: unknown) => e instanceof InputError && (field === undefined || e.field === field),
      JSON.stringify(body),
    );

  it('takes an E.164 caller ID, an address, a route and the location switch', () => {
    const s = parseSite('HQ', {
      emergencyCallerId: '+493012345678',
      civicAddress: { ...ADDRESS, NAM: ' Acme HQ ' },
      emergencyRoute: 'sips:psap.example.net:5061',
      sendLocation: true,
    });
    assert.deepEqual(s, {
      name: 'HQ',
      emergencyCallerId: '+493012345678',
      civicAddress: { ...ADDRESS, NAM: 'Acme HQ' },
      emergencyRoute: 'sips:psap.example.net:5061',
      sendLocation: true,
    });
    assert.deepEqual(parseSite('HQ', { name: 'HQ', emergencyCallerId: '+12025550100' }), {
      name: 'HQ',
      emergencyCallerId: '+12025550100',
      civicAddress: null,
      emergencyRoute: null,
      sendLocation: null,
    });
  });

  it('refuses what an emergency service could not call back or find, naming the field', () => {
    for (const id of [
      '493012345678',
      '+0301234',
      '+1',
      '+1234567890123456',
      '+49 30 1234',
      4930,
      null,
      undefined,
    ])
      refused({ emergencyCallerId: id }, 'emergencyCallerId');
    const ok = { emergencyCallerId: '+493012345678' };
    refused({ ...ok, emergencyRoute: 'http://psap' }, 'emergencyRoute');
    refused({ ...ok, emergencyRoute: 'sip: psap' }, 'emergencyRoute');
    refused({ ...ok, sendLocation: 'yes' }, 'sendLocation');
    refused({ ...ok, civicAddress: { A3: 'Berlin' } }, 'civicAddress');
    refused({ ...ok, civicAddress: { country: 'de', A3: 'Berlin' } }, 'civicAddress');
    refused({ ...ok, civicAddress: { country: 'DE' } }, 'civicAddress');
    refused({ ...ok, civicAddress: { country: 'DE', STREET: 'x' } }, 'civicAddress');
    refused({ ...ok, civicAddress: { country: 'DE', A3: 'a\nb' } }, 'civicAddress');
    refused({ ...ok, civicAddress: { country: 'DE', A3: 'x'.repeat(129) } }, 'civicAddress');
    refused({ ...ok, civicAddress: ['DE'] }, 'civicAddress');
    refused({ ...ok, name: 'Elsewhere' }, 'name');
    refused({ ...ok, callerId: '+4930' });
    refused([ok]);
  });

  it('site names are the names devices carry', () => {
    assert.equal(parseSiteName('Floor 2/East Ü'), 'Floor 2/East Ü');
    for (const bad of ['', ' HQ', 'HQ ', 'a\u0000b', 'x'.repeat(129), 7])
      assert.throws(() => parseSiteName(bad), InputError, String(bad));
  });
});

describe('sites: the emergency leg', () => {
  const site: Site = {
    name: 'HQ',
    emergencyCallerId: '+493012345678',
    civicAddress: { ...ADDRESS, NAM: 'Müller & <Söhne>' },
    emergencyRoute: null,
    sendLocation: null,
    emergencyCallerIdBy: 'operator',
  };
  const plan = (callerId: string | null, location = site.civicAddress) => ({ callerId, location });
  const leg = (p: ReturnType<typeof plan>, sdp = SDP, mac: string | null = '001565aabbcc') =>
    emergencyLeg(p, { sdp, mac, host: 'papgate', now: Date.UTC(2026, 0, 2), id: 'f00d' });

  it('without location: the caller ID as P-Asserted-Identity and From, the SDP untouched', () => {
    assert.deepEqual(leg(plan('+493012345678', null)), {
      callingNumber: '+493012345678',
      callingName: '+493012345678',
      headers: { 'P-Asserted-Identity': '<tel:+493012345678>', 'Content-Type': 'application/sdp' },
      body: SDP,
    });
    assert.equal(
      leg(plan('+493012345678'), '').headers.Geolocation,
      undefined,
      'a late offer gets no location part',
    );
    assert.equal(leg(plan('+493012345678'), '').body, '', 'and no body: the route makes the offer');
  });

  it('without any caller ID: no P-Asserted-Identity; From names the device, or "anonymous" when nobody was identified', () => {
    const device = leg(plan(null, null));
    assert.deepEqual(device, {
      callingNumber: '001565aabbcc',
      callingName: '001565aabbcc',
      headers: { 'Content-Type': 'application/sdp' },
      body: SDP,
    });
    const nobody = leg(plan(null), SDP, null);
    assert.equal(nobody.callingNumber, 'anonymous');
    assert.equal(
      nobody.callingName,
      'anonymous',
      'never empty: drachtio-srf would fill in the phone\u2019s own',
    );
    assert.equal(nobody.headers.Geolocation, undefined, 'no device, no location');
    assert.equal(nobody.body, SDP);
  });

  it('with location: Geolocation names the PIDF-LO part of a multipart/mixed body beside the SDP (RFC 6442)', () => {
    const l = leg(plan('+493012345678'));
    assert.equal(l.headers.Geolocation, '<cid:loc-f00d@papgate>');
    assert.equal(l.headers['Geolocation-Routing'], 'yes');
    const boundary = /^multipart\/mixed;boundary=(.+)$/.exec(l.headers['Content-Type']!)![1]!;
    const parts = l.body.split(`--${boundary}`);
    assert.equal(parts[0], '', 'the body starts with the first delimiter');
    assert.equal(parts[3], '--\r\n', 'closed by the last delimiter');
    const [sdpHead, sdpBody] = parts[1]!.replace(/^\r\n/, '').split('\r\n\r\n');
    assert.equal(sdpHead, 'Content-Type: application/sdp');
    assert.equal(
      sdpBody,
      SDP,
      'the SDP part keeps its lines (its CRLF before the delimiter is the delimiter\u2019s)',
    );
    const [locHead, xml] = parts[2]!.replace(/^\r\n/, '').split(/\r\n\r\n/);
    assert.equal(locHead, 'Content-Type: application/pidf+xml\r\nContent-ID: <loc-f00d@papgate>');
    assert.equal(XMLValidator.validate(xml!), true);
    assert.match(xml!, /entity="pres:\+493012345678@papgate"/);
    assert.match(xml!, /<dm:deviceID>mac:001565aabbcc<\/dm:deviceID>/);
    assert.match(xml!, /<ca:NAM>Müller &amp; &lt;Söhne&gt;<\/ca:NAM>/);
    assert.match(xml!, /<dm:timestamp>2026-01-02T00:00:00.000Z<\/dm:timestamp>/);
    assert.match(leg(plan(null)).body, /entity="pres:001565aabbcc@papgate"/, 'no caller ID: the device');
  });

  it('civic elements appear in the order of the RFC 5139 schema, whatever order they came in', () => {
    const xml = pidfLo(
      { PC: '10117', HNO: '5', RD: 'Unter den Linden', A3: 'Berlin', country: 'DE' },
      {
        entity: 'pres:x@y',
        mac: '001565aabbcc',
        now: 0,
      },
    );
    const order = [...xml.matchAll(/<ca:([A-Za-z0-9]+)>/g)]
      .map((m) => m[1])
      .filter((n) => n !== 'civicAddress');
    assert.deepEqual(order, ['country', 'A3', 'RD', 'HNO', 'PC']);
  });

  it('no control character reaches the PIDF-LO (records stored before names refused them may hold some)', () => {
    const xml = pidfLo(
      {
        country: 'DE',
        A3: 'Berlin\u0000',
        RD: 'Unter\r\n den\u2028 Linden\u0085',
        NAM: 'A\u001b[2J & B\u0007',
      },
      { entity: 'pres:x\u0001@y', mac: '001565aabbcc', now: 0 },
    );
    assert.equal(XMLValidator.validate(xml), true);
    assert.doesNotMatch(xml.replace(/\r\n/g, ''), /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    assert.match(xml, /<ca:A3>Berlin<\/ca:A3>/);
    assert.match(xml, /<ca:RD>Unter den Linden<\/ca:RD>/);
    assert.match(xml, /<ca:NAM>A\[2J &amp; B<\/ca:NAM>/);
    assert.match(xml, /entity="pres:x@y"/);
  });

  it("only the phone's SDP goes on: the SDP part of a multipart body, nothing of another type", () => {
    assert.equal(offerSdp('application/sdp', SDP), SDP);
    assert.equal(offerSdp(undefined, SDP), SDP, 'a body without Content-Type is taken as SDP');
    assert.equal(offerSdp('Application/SDP; charset=x', SDP), SDP);
    assert.equal(offerSdp('application/sdp', ''), '');
    assert.equal(offerSdp(undefined, undefined), '');
    const own = leg(plan('+15555550100')); // what a phone could send: its SDP beside a location of its own
    const type = own.headers['Content-Type']!.replace('boundary=', 'boundary="').concat('"');
    assert.equal(offerSdp(type, own.body), SDP);
    assert.equal(offerSdp('multipart/mixed', own.body), '', 'no boundary: no offer');
    assert.equal(offerSdp('multipart/mixed;boundary=other', own.body), '');
    assert.equal(offerSdp('application/pidf+xml', '<presence/>'), '', 'a location alone is no offer');
  });
});

describe('sites: what the operator allows (the pure rules)', () => {
  const policy: EmergencyPolicy = {
    emergencyRoute: 'sip:sbc.example.net',
    emergencySiteRoutes: ['sip:psap-gw.example.net:5060'],
    emergencyCallerId: '+4930555000',
    emergencySendLocation: false,
  };
  const site = (o: Partial<Site> = {}): Site => ({
    name: 'HQ',
    emergencyCallerId: '+4930777100',
    civicAddress: ADDRESS,
    emergencyRoute: null,
    sendLocation: null,
    emergencyCallerIdBy: 'tenant',
    ...o,
  });
  const withoutSetter = ({ emergencyCallerIdBy: _by, ...rest }: Site): SiteInput => rest;
  const input = (o: Partial<Site> = {}) => withoutSetter(site(o));

  it('a call without a site record: the operator route and caller ID; neither set: no route, no caller ID', () => {
    assert.deepEqual(planEmergency(null, [], policy, true), {
      route: 'sip:sbc.example.net',
      callerId: '+4930555000',
      siteCallerId: false,
      location: null,
      refused: [],
      unproven: false,
    });
    const none = { ...policy, emergencyRoute: null, emergencyCallerId: null };
    assert.deepEqual(planEmergency(null, [], none, true), {
      route: null,
      callerId: null,
      siteCallerId: false,
      location: null,
      refused: [],
      unproven: false,
    });
  });

  it('a record within what the operator allowed is used: its route, its caller ID, its location switch', () => {
    const allowed = site({ emergencyRoute: 'sip:psap-gw.example.net:5060', sendLocation: true });
    assert.deepEqual(planEmergency(allowed, ['+4930777'], policy, true), {
      route: 'sip:psap-gw.example.net:5060',
      callerId: '+4930777100',
      siteCallerId: true,
      location: ADDRESS,
      refused: [],
      unproven: false,
    });
    assert.deepEqual(
      planEmergency(allowed, ['+4930777'], policy, false),
      {
        route: 'sip:psap-gw.example.net:5060',
        callerId: '+4930555000',
        siteCallerId: false,
        location: null,
        refused: [],
        unproven: true,
      },
      "a call from elsewhere keeps the site's route, not its caller ID or address",
    );
    const byOperator = site({ emergencyCallerId: '+12025550100', emergencyCallerIdBy: 'operator' });
    assert.equal(
      planEmergency(byOperator, [], policy, true).callerId,
      '+12025550100',
      'the operator sets any number',
    );
    assert.equal(
      planEmergency(site({ emergencyRoute: 'sip:sbc.example.net' }), [], policy, true).route,
      'sip:sbc.example.net',
    );
  });

  it('anything else in a record is replaced by the operator\u2019s, and named; the call still goes out', () => {
    const rogue = site({
      emergencyRoute: 'sip:+19005550100@toll.example.com',
      emergencyCallerId: '+19005550100',
      sendLocation: true,
    });
    assert.deepEqual(planEmergency(rogue, ['+4930777'], policy, true), {
      route: 'sip:sbc.example.net',
      callerId: '+4930555000',
      siteCallerId: false,
      location: null, // the record's sendLocation spoke of its own route
      refused: ['emergencyRoute', 'emergencyCallerId'],
      unproven: false,
    });
    // a route differing from an allowed one in any character is another route
    for (const r of [
      'sip:psap-gw.example.net',
      'SIP:psap-gw.example.net:5060',
      'sip:psap-gw.example.net:5060;maddr=x',
    ])
      assert.deepEqual(
        planEmergency(site({ emergencyRoute: r }), ['+4930777'], policy, true).refused,
        ['emergencyRoute'],
        r,
      );
    // the tenant's prefixes were taken away since: the number it set is no longer used
    assert.deepEqual(planEmergency(site(), [], policy, true).refused, ['emergencyCallerId']);
    // a record written straight into the store: never a header line of its own, whoever it claims set it
    const injected = site({ emergencyCallerId: '+4930777100\r\nX-Evil: 1', emergencyCallerIdBy: 'operator' });
    assert.equal(planEmergency(injected, ['+4930777'], policy, true).callerId, '+4930555000');
    assert.equal(planEmergency(site(), ['+4930777'], { ...policy, emergencyRoute: null }, true).route, null);
  });

  it('writing: routes only those of the configuration, for everyone (400)', () => {
    for (const by of ['operator', 'tenant'] as const) {
      const w = authorizeSite(input({ emergencyRoute: 'sip:psap.elsewhere.example' }), by, {
        policy,
        prefixes: ['+4930777'],
        current: null,
      });
      assert.equal(w.ok, false);
      assert.deepEqual(!w.ok && [w.status, w.field], [400, 'emergencyRoute'], by);
    }
    const ok = authorizeSite(input({ emergencyRoute: 'sip:psap-gw.example.net:5060' }), 'tenant', {
      policy,
      prefixes: ['+4930777'],
      current: null,
    });
    assert.deepEqual(ok, { ok: true, site: site({ emergencyRoute: 'sip:psap-gw.example.net:5060' }) });
  });

  it('writing: the operator any caller ID, a tenant token one of its prefixes or the operator\u2019s unchanged (403)', () => {
    const w = (by: 'operator' | 'tenant', id: string, prefixes: string[], current: Site | null = null) =>
      authorizeSite(input({ emergencyCallerId: id }), by, { policy, prefixes, current });
    assert.deepEqual(w('operator', '+12025550100', []), {
      ok: true,
      site: site({ emergencyCallerId: '+12025550100', emergencyCallerIdBy: 'operator' }),
    });
    assert.deepEqual(w('tenant', '+4930777100', ['+4930777']), { ok: true, site: site() });
    const none = w('tenant', '+4930777100', []);
    assert.deepEqual(!none.ok && [none.status, none.field], [403, 'emergencyCallerId']);
    assert.match(!none.ok ? none.message : '', /only the operator/);
    const outside = w('tenant', '+12025550100', ['+4930777', '+4940']);
    assert.deepEqual(!outside.ok && outside.status, 403);
    assert.match(!outside.ok ? outside.message : '', /\+4930777, \+4940/);
    // a tenant editing its address keeps the number the operator set, and who set it
    const set = site({ emergencyCallerId: '+12025550100', emergencyCallerIdBy: 'operator' });
    assert.deepEqual(w('tenant', '+12025550100', [], set), { ok: true, site: set });
    assert.equal(w('tenant', '+12025550101', [], set).ok, false, 'but not another number');
    assert.equal(w('tenant', '+12025550100', [], site({ emergencyCallerId: '+12025550100' })).ok, false);
  });

  it('a tenant\u2019s prefixes: E.164 prefixes, sorted, once each', () => {
    assert.deepEqual(parseCallerIdPrefixes(['+4940', '+4930777', '+4940']), ['+4930777', '+4940']);
    assert.deepEqual(parseCallerIdPrefixes([]), []);
    for (const bad of [
      '+4930',
      ['4930'],
      ['+0'],
      ['+'],
      ['+1234567890123456'],
      [4930],
      [null],
      Array(101).fill('+1'),
    ])
      assert.throws(
        () => parseCallerIdPrefixes(bad),
        (e: unknown) => e instanceof InputError && e.field === 'emergencyCallerIdPrefixes',
        JSON.stringify(bad),
      );
  });
});

describe('sites: admin API and store', () => {
  const TOKEN = 'sites-test-operator-token-0123';
  const r = new TestRedis();
  let app: FastifyInstance;
  let port = 0;
  const call = async (method: string, url: string, body?: unknown, bearer = TOKEN) => {
    const res = await request(port, url, {
      method,
      headers: {
        authorization: `Bearer ${bearer}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : null };
  };

  before(async () => {
    await r.start();
    ({ app, port } = await startAdmin(r, TOKEN, {
      EMERGENCY_ROUTE: 'sip:127.0.0.1:5098',
      EMERGENCY_SITE_ROUTES: 'sip:127.0.0.1:5099,sip:127.0.0.1:5097',
    }));
  });
  after(async () => {
    await app.close();
    await r.stop();
  });
  beforeEach(async () => {
    await r.flush();
    for (const t of ['acme', 'beta'])
      assert.equal((await call('PUT', `/api/v1/tenants/${t}`, {})).status, 201);
  });

  it('PUT creates then replaces, GET reads, the list is by name, DELETE removes; each change audited with its actor', async () => {
    const url = `/api/v1/tenants/acme/sites/${encodeURIComponent('Floor 2/East')}`;
    const body = { emergencyCallerId: '+493012345678', civicAddress: ADDRESS, sendLocation: true };
    const created = await call('PUT', url, body);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json!.name, 'Floor 2/East');
    assert.equal(
      (await call('PUT', url, { ...created.json, emergencyRoute: 'sip:127.0.0.1:5099' })).status,
      200,
    );
    assert.equal(
      (await call('PUT', '/api/v1/tenants/acme/sites/Annex', { emergencyCallerId: '+4930999' })).status,
      201,
    );
    const one = await call('GET', url);
    assert.deepEqual(one.json, {
      ...body,
      name: 'Floor 2/East',
      emergencyRoute: 'sip:127.0.0.1:5099',
      emergencyCallerIdBy: 'operator',
    });
    const list = await call('GET', '/api/v1/tenants/acme/sites');
    assert.deepEqual(
      (list.json!.sites as Site[]).map((s) => s.name),
      ['Annex', 'Floor 2/East'],
    );
    assert.deepEqual((await call('GET', '/api/v1/tenants/beta/sites')).json, { sites: [] }, 'per tenant');
    assert.equal((await call('DELETE', url)).status, 204);
    assert.equal((await call('DELETE', url)).status, 404);
    assert.equal((await call('GET', url)).json!.error, 'unknown_site');
    const events = (await call('GET', '/api/v1/tenants/acme/events')).json!.events as Record<
      string,
      string
    >[];
    const site = events.filter((e) => e.type!.startsWith('site_'));
    assert.deepEqual(
      site.map((e) => [e.type, e.site]),
      [
        ['site_deleted', 'Floor 2/East'],
        ['site_put', 'Annex'],
        ['site_put', 'Floor 2/East'],
        ['site_put', 'Floor 2/East'],
      ],
    );
    // what changed: the emergency fields, and what they were before
    const change = ({ id: _i, ts: _t, type: _y, actor: _a, site: _s, ...rest }: Record<string, string>) =>
      rest;
    assert.deepEqual(change(site[2]!), {
      callerId: '+493012345678',
      callerIdBy: 'operator',
      route: 'sip:127.0.0.1:5099',
      previousCallerId: '+493012345678',
      previousCallerIdBy: 'operator',
      previousRoute: '',
    });
    assert.deepEqual(change(site[3]!), { callerId: '+493012345678', callerIdBy: 'operator', route: '' });
    assert.ok(
      site.every((e) => /^operator@127\.0\.0\.1$/.test(e.actor!)),
      JSON.stringify(site),
    );
  });

  it('lists a site whatever its name, also one an object of JavaScript holds already (__proto__)', async () => {
    const names = ['__proto__', 'constructor', 'toString'];
    for (const name of names) {
      const url = `/api/v1/tenants/acme/sites/${encodeURIComponent(name)}`;
      assert.equal((await call('PUT', url, { emergencyCallerId: '+4930999' })).status, 201, name);
      assert.equal((await call('GET', url)).json!.name, name);
    }
    const list = await call('GET', '/api/v1/tenants/acme/sites');
    assert.deepEqual(
      (list.json!.sites as Site[]).map((s) => s.name),
      [...names].sort(),
    );
  });

  it('bad input is 400 naming the field and writes nothing; unknown tenants are 404', async () => {
    const before = await r.client.dump('papgate:{t:acme}:sites');
    const bad = await call('PUT', '/api/v1/tenants/acme/sites/HQ', { emergencyCallerId: '030 123' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json!.field, 'emergencyCallerId');
    assert.equal(
      (await call('PUT', '/api/v1/tenants/acme/sites/%20HQ', { emergencyCallerId: '+4930' })).status,
      400,
    );
    assert.equal(await r.client.dump('papgate:{t:acme}:sites'), before);
    assert.equal(
      (await call('PUT', '/api/v1/tenants/nope/sites/HQ', { emergencyCallerId: '+4930' })).status,
      404,
    );
  });

  it("a tenant token manages its own tenant's sites and no other's", async () => {
    const made = await call('POST', '/api/v1/tenants/beta/tokens', { name: 'beta-admin' });
    const beta = made.json!.token as string;
    assert.equal(
      (await call('PUT', '/api/v1/tenants/beta', { emergencyCallerIdPrefixes: ['+4930'] })).status,
      200,
    );
    const body = { emergencyCallerId: '+4930123' };
    assert.equal((await call('PUT', '/api/v1/tenants/beta/sites/HQ', body, beta)).status, 201);
    assert.equal((await call('PUT', '/api/v1/tenants/acme/sites/HQ', body, beta)).status, 403);
    assert.equal((await call('GET', '/api/v1/tenants/acme/sites', undefined, beta)).status, 403);
    assert.equal(await new Sites(r.client, { eventsMaxLen: 100 }).get('acme', 'HQ'), null);
    const events = (await call('GET', '/api/v1/tenants/beta/events')).json!.events as Record<
      string,
      string
    >[];
    assert.match(events.find((e) => e.type === 'site_put')!.actor!, /^token:beta-admin@/);
  });

  /** A tenant admin token of `tenant`. */
  const tokenOf = async (tenant: string) =>
    (await call('POST', `/api/v1/tenants/${tenant}/tokens`, { name: `${tenant}-admin` })).json!
      .token as string;

  it('a tenant token: no route but those of the configuration (400), no caller ID without prefixes (403); nothing written', async () => {
    const acme = await tokenOf('acme');
    const url = '/api/v1/tenants/acme/sites/HQ';
    const before = await r.client.dump(keys.tenant('acme').sites);
    const rogue = { emergencyCallerId: '+4930123', emergencyRoute: 'sip:+19005550100@toll.example.com' };
    for (const bearer of [acme, TOKEN]) {
      const res = await call('PUT', url, rogue, bearer);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.equal(res.json!.field, 'emergencyRoute');
      assert.match(String(res.json!.message), /EMERGENCY_SITE_ROUTES/);
    }
    const id = await call('PUT', url, { emergencyCallerId: '+19005550100' }, acme);
    assert.equal(id.status, 403);
    assert.deepEqual([id.json!.error, id.json!.field], ['forbidden', 'emergencyCallerId']);
    assert.match(String(id.json!.message), /only the operator/);
    assert.equal(await r.client.dump(keys.tenant('acme').sites), before);
  });

  it('within the prefixes the operator gave the tenant a token sets caller IDs and the allowed routes; outside: 403', async () => {
    const acme = await tokenOf('acme');
    const prefixes = await call('PUT', '/api/v1/tenants/acme', {
      name: 'Acme',
      emergencyCallerIdPrefixes: ['+4930777', '+4940'],
    });
    assert.equal(prefixes.status, 200);
    assert.deepEqual(prefixes.json!.emergencyCallerIdPrefixes, ['+4930777', '+4940']);
    const url = '/api/v1/tenants/acme/sites/HQ';
    const ok = await call(
      'PUT',
      url,
      { emergencyCallerId: '+4930777100', emergencyRoute: 'sip:127.0.0.1:5097' },
      acme,
    );
    assert.equal(ok.status, 201, JSON.stringify(ok.json));
    assert.equal(ok.json!.emergencyCallerIdBy, 'tenant');
    const outside = await call('PUT', url, { emergencyCallerId: '+4930778100' }, acme);
    assert.equal(outside.status, 403);
    assert.match(String(outside.json!.message), /\+4930777, \+4940/);
    assert.equal((await call('GET', url)).json!.emergencyCallerId, '+4930777100', 'unchanged');
    const events = (await call('GET', '/api/v1/tenants/acme/events')).json!.events as Record<
      string,
      string
    >[];
    const updated = events.find((e) => e.type === 'tenant_updated')!;
    assert.equal(updated.emergencyCallerIdPrefixes, '+4930777,+4940', 'audited');
    assert.match(events.find((e) => e.type === 'site_put')!.actor!, /^token:acme-admin@/);
    assert.equal(events.find((e) => e.type === 'site_put')!.callerIdBy, 'tenant');
  });

  it("only the operator sets a tenant's prefixes; a token may send them back unchanged, and its updates keep them", async () => {
    const acme = await tokenOf('acme');
    assert.equal(
      (await call('PUT', '/api/v1/tenants/acme', { emergencyCallerIdPrefixes: ['+4930'] })).status,
      200,
    );
    const grab = await call('PUT', '/api/v1/tenants/acme', { emergencyCallerIdPrefixes: ['+1'] }, acme);
    assert.equal(grab.status, 403);
    assert.equal(grab.json!.field, 'emergencyCallerIdPrefixes');
    const widen = await call(
      'PUT',
      '/api/v1/tenants/acme',
      { emergencyCallerIdPrefixes: ['+4930', '+1'] },
      acme,
    );
    assert.equal(widen.status, 403);
    const echo = await call(
      'PUT',
      '/api/v1/tenants/acme',
      { name: 'acme', emergencyCallerIdPrefixes: ['+4930'] },
      acme,
    );
    assert.equal(echo.status, 200);
    // The name is the operator's too (docs/admin.md); the token's language update keeps the prefixes.
    assert.equal((await call('PUT', '/api/v1/tenants/acme', { name: 'Acme Ltd' }, acme)).status, 403);
    assert.equal((await call('PUT', '/api/v1/tenants/acme', { language: 'de' }, acme)).status, 200);
    const t = (await call('GET', '/api/v1/tenants/acme')).json!;
    assert.deepEqual([t.name, t.language, t.emergencyCallerIdPrefixes], ['acme', 'de', ['+4930']]);
    const bad = await call('PUT', '/api/v1/tenants/acme', { emergencyCallerIdPrefixes: ['030'] });
    assert.deepEqual([bad.status, bad.json!.field], [400, 'emergencyCallerIdPrefixes']);
  });

  it("a token editing a site keeps the operator's caller ID (and who set it), but cannot change it", async () => {
    const acme = await tokenOf('acme');
    const url = '/api/v1/tenants/acme/sites/HQ';
    assert.equal((await call('PUT', url, { emergencyCallerId: '+12025550100' })).status, 201);
    const edit = await call('PUT', url, { emergencyCallerId: '+12025550100', civicAddress: ADDRESS }, acme);
    assert.equal(edit.status, 200);
    assert.equal(edit.json!.emergencyCallerIdBy, 'operator');
    // as GET answered it, setter included: the token does not decide who set the number
    const roundTrip = await call('PUT', url, { ...edit.json, emergencyCallerIdBy: 'operator' }, acme);
    assert.equal(roundTrip.status, 200);
    assert.equal(
      (await call('PUT', url, { ...edit.json, emergencyCallerId: '+12025550101' }, acme)).status,
      403,
    );
  });

  it('a record stored before caller IDs had a setter counts as set by a tenant', async () => {
    await r.client.hSet(
      keys.tenant('acme').sites,
      'Old',
      JSON.stringify({
        emergencyCallerId: '+4930123',
        civicAddress: null,
        emergencyRoute: null,
        sendLocation: null,
      }),
    );
    assert.equal(
      (await new Sites(r.client, { eventsMaxLen: 100 }).get('acme', 'Old'))!.emergencyCallerIdBy,
      'tenant',
    );
    assert.equal((await call('GET', '/api/v1/tenants/acme/sites/Old')).json!.emergencyCallerIdBy, 'tenant');
  });

  it('a device naming a site the tenant keeps no record of is refused with the known sites (issue 24), unless accepted; devices without a record are listed', async () => {
    const device = (mac: string, site: string) => ({ mac, vendor: 'yealink', model: 'T54W', site });
    const add = (mac: string, site: string, q = '') =>
      call('POST', `/api/v1/tenants/acme/devices${q}`, device(mac, site));
    // no record at all: not checked (every call goes with the operator's identity)
    assert.equal((await add('001565000001', 'Anywhere')).status, 201);
    for (const s of ['Berlin', 'Munich'])
      assert.equal(
        (await call('PUT', `/api/v1/tenants/acme/sites/${s}`, { emergencyCallerId: '+493012345678' })).status,
        201,
      );
    const typo = await add('001565000002', 'Berln');
    assert.equal(typo.status, 409);
    assert.deepEqual([typo.json!.error, typo.json!.field], ['unknown_site', 'site']);
    assert.match(String(typo.json!.message), /"Berln" has no site record.*Berlin, Munich/);
    assert.equal(
      await r.client.exists(keys.tenant('acme').device(parseMac('001565000002'))),
      0,
      'nothing written',
    );
    assert.equal((await add('001565000002', 'Berlin')).status, 201);
    assert.equal((await add('001565000003', 'Hamburg', '?unknownSite=accept')).status, 201);
    assert.equal((await add('001565000004', 'Hamburg', '?unknownSite=yes')).status, 400);
    // the CSV import: the row named, nothing imported
    const csv = await request(port, '/api/v1/tenants/acme/devices.csv', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv' },
      body: 'mac,vendor,type,site\n001565000005,yealink,T54W,Munich\n001565000006,yealink,T54W,Munch\n',
    });
    assert.equal(csv.status, 409);
    const rows = (JSON.parse(csv.body) as { rows: { mac: string; reason: string }[] }).rows;
    assert.deepEqual(
      rows.map((x) => x.mac),
      ['001565000006'],
    );
    assert.match(rows[0]!.reason, /"Munch" has no site record/);
    assert.equal(
      await r.client.exists(keys.tenant('acme').device(parseMac('001565000005'))),
      0,
      'nothing imported',
    );
    // the devices whose emergency calls go without their site's data
    const missing = await call('GET', '/api/v1/tenants/acme/devices?siteRecord=missing');
    assert.deepEqual(
      (missing.json!.devices as { mac: string; site: string }[]).map((d) => [d.mac, d.site]),
      [
        ['001565000001', 'Anywhere'],
        ['001565000003', 'Hamburg'],
      ],
    );
    assert.equal((await call('GET', '/api/v1/tenants/acme/devices?siteRecord=all')).status, 400);
  });

  it('an edit that moves a device to a site without a record is refused as an addition there is; a CSV names it with every other error, under the site column', async () => {
    for (const s of ['Berlin', 'Munich'])
      await call('PUT', `/api/v1/tenants/acme/sites/${s}`, { emergencyCallerId: '+493012345678' });
    const mac = '001565000011';
    const url = `/api/v1/tenants/acme/devices/${mac}`;
    assert.equal(
      (
        await call('POST', '/api/v1/tenants/acme/devices', {
          mac,
          vendor: 'yealink',
          model: 'T54W',
          site: 'Berlin',
        })
      ).status,
      201,
    );
    const moved = await call('PATCH', url, { site: 'Munch' });
    assert.equal(moved.status, 409);
    assert.deepEqual([moved.json!.error, moved.json!.field], ['unknown_site', 'site']);
    assert.equal((await call('GET', url)).json!.site, 'Berlin', 'nothing written');
    assert.equal((await call('PATCH', `${url}?unknownSite=accept`, { site: 'Munch' })).status, 200);
    assert.equal((await call('PATCH', url, { site: 'Munich' })).status, 200);
    // the same in an import that updates: one answer with the bad row and the unknown site
    const csv = await request(port, '/api/v1/tenants/acme/devices.csv?mode=update', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'text/csv' },
      body:
        'mac,vendor,type,site\n' +
        `${mac},yealink,T54W,Hambrg\n` +
        '001565000012,yealink,T54W,Munch\n' +
        'nonsense,yealink,T54W,Berlin\n',
    });
    assert.equal(csv.status, 400);
    const rows = (JSON.parse(csv.body) as { rows: { line: number; column?: string; reason: string }[] }).rows;
    assert.deepEqual(
      rows.map((x) => [x.line, x.column]),
      [
        [2, 'site'],
        [3, 'site'],
        [4, 'mac'],
      ],
    );
    assert.equal((await call('GET', url)).json!.site, 'Munich', 'nothing written');
  });
});

describe('sites: an emergency call never depends on the site lookup', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(async () => {
    r.client.destroy();
    await r.stop(); // server already stopped: removes its directory
  });

  it('finds the record while Redis answers; with Redis gone: no site, a warn line, no error', async () => {
    const sites = new Sites(r.client, { eventsMaxLen: 100 });
    const site: Site = {
      ...parseSite('HQ', { emergencyCallerId: '+4930123' }),
      emergencyCallerIdBy: 'operator',
    };
    await sites.put('acme', site, 'test');
    const id = { tenant: 'acme', mac: parseMac('001565aabbcc'), site: 'HQ' };
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'warn' }, { write: (l: string) => lines.push(JSON.parse(l) as never) });
    assert.deepEqual(await emergencySite(id, sites, log), site);
    assert.equal(await emergencySite({ ...id, site: 'Annex' }, sites, log), null, 'no record');
    assert.equal(await emergencySite({ ...id, tenant: null }, sites, log), null, 'unidentified caller');
    assert.equal(lines.length, 0);
    await r.server.stop();
    assert.equal(await emergencySite(id, sites, log), null);
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 40);
    assert.match(lines[0]!.msg, /default route/);
  });
});
