/**
 * Admin writes that must lose nothing: partial tenant updates, creation that refuses an existing
 * id, what a tenant token may change, and audit events that say what changed.
 */
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { startAdmin } from './support/admin';
import { TestRedis } from './support/redis';

const TOKEN = 'test-admin-token-writes-0123456789';

describe('admin writes', () => {
  const r = new TestRedis();
  let app: FastifyInstance;
  let base = '';

  const call = async (
    method: string,
    url: string,
    body?: unknown,
    token = TOKEN,
    // Responses are checked field by field; a schema type per route would add nothing.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ status: number; json: any }> => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  };
  const events = async (type: string) =>
    ((await call('GET', '/api/v1/tenants/acme/events')).json.events as Record<string, string>[]).filter(
      (e) => e.type === type,
    );

  before(async () => {
    await r.start();
    const s = await startAdmin(r, TOKEN);
    app = s.app;
    base = `http://127.0.0.1:${s.port}`;
  });
  after(async () => {
    await app.close();
    await r.stop();
  });
  beforeEach(async () => {
    await r.flush();
    const created = await call('PUT', '/api/v1/tenants/acme', {
      name: 'Acme Ltd',
      language: 'de',
      timeZone: 'Europe/Berlin',
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
  });

  describe('tenants', () => {
    it('PATCH changes only the fields given and audits each change with its old value', async () => {
      const res = await call('PATCH', '/api/v1/tenants/acme', { timeZone: 'Europe/Vienna' });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.name, 'Acme Ltd');
      assert.equal(res.json.language, 'de');
      assert.equal(res.json.timeZone, 'Europe/Vienna');
      const [updated] = await events('tenant_updated');
      assert.equal(updated!.changed, 'timeZone');
      assert.equal(updated!.timeZone, 'Europe/Vienna');
      assert.equal(updated!.previousTimeZone, 'Europe/Berlin');
      assert.equal(updated!.name, undefined, 'an unchanged field is not in the event');
      assert.match(updated!.actor!, /^operator@/);
    });

    it('PUT without a field keeps it, and its audit event names old and new name', async () => {
      const res = await call('PUT', '/api/v1/tenants/acme', { name: 'Acme GmbH' });
      assert.equal(res.status, 200);
      assert.equal(res.json.timeZone, 'Europe/Berlin');
      assert.equal(res.json.language, 'de');
      const [updated] = await events('tenant_updated');
      assert.equal(updated!.changed, 'name');
      assert.equal(updated!.previousName, 'Acme Ltd');
      assert.equal(updated!.name, 'Acme GmbH');
      const [created] = await events('tenant_created');
      assert.equal(created!.changed, 'name,language,timeZone');
    });

    it('PATCH of a tenant that does not exist is 404 and creates nothing', async () => {
      const res = await call('PATCH', '/api/v1/tenants/nobody', { name: 'Nobody' });
      assert.equal(res.status, 404);
      assert.equal(res.json.error, 'unknown_tenant');
      assert.equal((await call('GET', '/api/v1/tenants/nobody')).status, 404);
    });

    it('POST /tenants creates a tenant and refuses an existing id, which stays as it was', async () => {
      const taken = await call('POST', '/api/v1/tenants', { id: 'acme', name: 'Other' });
      assert.equal(taken.status, 409);
      assert.equal(taken.json.error, 'tenant_exists');
      assert.equal(taken.json.field, 'tenant');
      const acme = (await call('GET', '/api/v1/tenants/acme')).json;
      assert.equal(acme.name, 'Acme Ltd');
      assert.equal(acme.timeZone, 'Europe/Berlin');
      const fresh = await call('POST', '/api/v1/tenants', { id: 'beta', name: 'Beta', language: 'en' });
      assert.equal(fresh.status, 201, JSON.stringify(fresh.json));
      assert.equal(fresh.json.id, 'beta');
      assert.equal(fresh.json.language, 'en');
      const noId = await call('POST', '/api/v1/tenants', { name: 'No id' });
      assert.equal(noId.status, 400);
      assert.equal(noId.json.field, 'tenant');
    });

    it('a tenant token changes its language and time zone, not its name, and creates no tenant', async () => {
      const token = (await call('POST', '/api/v1/tenants/acme/tokens', { name: 'acme-it' })).json
        .token as string;
      const rename = await call('PATCH', '/api/v1/tenants/acme', { name: 'Evil Corp' }, token);
      assert.equal(rename.status, 403);
      assert.equal(rename.json.field, 'name');
      const viaPut = await call('PUT', '/api/v1/tenants/acme', { name: 'Evil Corp' }, token);
      assert.equal(viaPut.status, 403);
      assert.equal((await call('GET', '/api/v1/tenants/acme')).json.name, 'Acme Ltd');
      // As GET answered it, the name may be sent back.
      const ok = await call('PATCH', '/api/v1/tenants/acme', { name: 'Acme Ltd', language: 'en' }, token);
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
      assert.equal(ok.json.language, 'en');
      const [updated] = await events('tenant_updated');
      assert.match(updated!.actor!, /^token:acme-it@/);
      assert.equal(updated!.changed, 'language');
      assert.equal(updated!.previousLanguage, 'de');
      assert.equal((await call('POST', '/api/v1/tenants', { id: 'gamma' }, token)).status, 403);
      assert.equal((await call('GET', '/api/v1/tenants/gamma')).status, 404);
    });
  });
});
