/**
 * Site records (issue 12, part 3): validation, the emergency leg built from a site (identity
 * headers, PIDF-LO in a multipart body), and the admin routes on a real Redis, audited.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { XMLValidator } from 'fast-xml-parser';
import { InputError } from '../src/domain/errors';
import { parseSite, parseSiteName, type Site } from '../src/domain/site';
import { pidfLo, siteLeg } from '../src/sip/emergency';
import { emergencySite } from '../src/sip/router';
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
  };
  const leg = (s: Site, sendLocation: boolean, sdp = SDP) =>
    siteLeg(s, {
      sdp,
      sendLocation,
      mac: '001565aabbcc',
      host: 'papgate',
      now: Date.UTC(2026, 0, 2),
      id: 'f00d',
    });

  it('without location: the caller ID as P-Asserted-Identity and From, the SDP untouched', () => {
    const l = leg(site, false);
    assert.deepEqual(l, {
      callingNumber: '+493012345678',
      callingName: '+493012345678',
      headers: { 'P-Asserted-Identity': '<tel:+493012345678>' },
      body: SDP,
    });
    assert.equal(leg({ ...site, civicAddress: null }, true).body, SDP, 'no address, nothing to send');
    assert.equal(leg(site, true, '').headers.Geolocation, undefined, 'a late offer gets no location part');
  });

  it('with location: Geolocation names the PIDF-LO part of a multipart/mixed body beside the SDP (RFC 6442)', () => {
    const l = leg(site, true);
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
    ({ app, port } = await startAdmin(r, TOKEN));
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
    assert.deepEqual(one.json, { ...body, name: 'Floor 2/East', emergencyRoute: 'sip:127.0.0.1:5099' });
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
    assert.ok(
      site.every((e) => /^operator@127\.0\.0\.1$/.test(e.actor!)),
      JSON.stringify(site),
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
});

describe('sites: an emergency call never depends on the site lookup', () => {
  const r = new TestRedis();
  before(() => r.start());
  after(async () => {
    await r.client.disconnect().catch(() => undefined);
    await r.stop(); // server already stopped: removes its directory
  });

  it('finds the record while Redis answers; with Redis gone: no site, a warn line, no error', async () => {
    const sites = new Sites(r.client, { eventsMaxLen: 100 });
    const site = parseSite('HQ', { emergencyCallerId: '+4930123' });
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
