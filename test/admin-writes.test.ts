/**
 * Admin writes that must lose nothing: partial tenant updates, creation that refuses an existing
 * id, what a tenant token may change, and audit events that say what changed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../src/lib/paths';
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

  /** bin/papgate as an operator runs it, against this server unless `env` says otherwise. */
  const cli = (args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(
        path.join(PROJECT_ROOT, 'bin', 'papgate'),
        args,
        { env: { ...process.env, ADMIN_URL: base, ADMIN_TOKEN: TOKEN, DATA_DIR: os.tmpdir(), ...env } },
        (e, out, err) => resolve({ code: e ? (e.code as number) : 0, out, err }),
      );
    });

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

  describe('CLI', () => {
    it('refuses an unknown option, naming it and the one meant, and changes nothing', async () => {
      const res = await cli(['tenant', 'acme', '--timezone', 'Europe/Vienna']);
      assert.equal(res.code, 2, res.err);
      assert.match(res.err, /unknown option --timezone \(did you mean --time-zone\?\)/);
      assert.match(res.err, /papgate tenant <tenant>/, 'the usage of the command');
      assert.equal((await call('GET', '/api/v1/tenants/acme')).json.timeZone, 'Europe/Berlin');
      assert.equal((await cli(['get', 'acme', '001565000001', '--site', 'HQ'])).code, 2);
      assert.equal((await cli(['get', 'acme', '001565000001', 'extra'])).code, 2);
    });

    it("re-running the README's tenant command keeps the time zone; --time-zone sets it alone", async () => {
      const zone = await cli(['tenant', 'acme', '--time-zone', 'Europe/Vienna']);
      assert.equal(zone.code, 0, zone.err);
      assert.deepEqual(JSON.parse(zone.out).name, 'Acme Ltd');
      const again = await cli(['tenant', 'acme', '--name', 'Acme Ltd', '--language', 'de']);
      assert.equal(again.code, 0, again.err);
      const t = (await call('GET', '/api/v1/tenants/acme')).json;
      assert.deepEqual([t.name, t.language, t.timeZone], ['Acme Ltd', 'de', 'Europe/Vienna']);
    });

    it('every command has help, as `COMMAND --help` and as `help COMMAND`', async () => {
      const all = await cli(['help']);
      assert.equal(all.code, 0);
      const commands = [...all.out.matchAll(/^ {2}papgate (\w+) /gm)]
        .map((m) => m[1]!)
        .filter((c) => c !== 'help');
      assert.ok(commands.length >= 12, all.out);
      for (const c of commands) {
        const own = await cli([c, '--help']);
        assert.equal(own.code, 0, `${c} --help: ${own.err}`);
        assert.match(own.out, new RegExp(`^papgate ${c} `), c);
        assert.equal((await cli(['help', c])).out, own.out);
      }
      assert.equal((await cli(['tenant', 'acme', '-h'])).code, 0, 'help wins over the rest');
      assert.equal((await call('GET', '/api/v1/tenants/acme')).json.name, 'Acme Ltd');
    });

    it('with the service down, names the URL it tried and what to check', async () => {
      // A loopback port that was free a moment ago: nothing listens there.
      const free = await new Promise<number>((resolve) => {
        const srv = net.createServer().listen(0, '127.0.0.1', () => {
          const { port } = srv.address() as net.AddressInfo;
          srv.close(() => resolve(port));
        });
      });
      const url = `http://127.0.0.1:${free}`;
      const res = await cli(['list', 'acme'], { ADMIN_URL: url });
      assert.equal(res.code, 3, res.err);
      assert.ok(res.err.includes(`cannot reach the admin API at ${url} (ECONNREFUSED)`), res.err);
      assert.match(res.err, /is papgate running, and does ADMIN_URL/);
      const data = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-cli-'));
      const noToken = await cli(['list', 'acme'], { ADMIN_TOKEN: '', DATA_DIR: data });
      assert.equal(noToken.code, 2);
      assert.ok(noToken.err.includes(path.join(data, 'admin-token')), noToken.err);
      fs.rmSync(data, { recursive: true, force: true });
    });
  });
});
