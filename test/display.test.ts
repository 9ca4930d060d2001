import assert from 'node:assert/strict';
import { loadConfig } from '../src/config';
import { parseNewDevice, type Device, type Vendor } from '../src/domain/device';
import { displayText, shortenAtWord, type MinimalDisplay } from '../src/domain/display';
import { DISPLAY_LIMITS, deviceScope } from '../src/provisioning/scope';
import { TemplateSet } from '../src/provisioning/templates';
import { moduleFor } from '../src/provisioning/vendors';
import type { AddressInfo } from 'node:net';
import { createAdminServer } from '../src/admin/server';
import { ProvisioningFixture, request } from './support/http';
import { silentLog } from './support/redis';

/**
 * Issue 12, part 2: the minimal configuration's display says what to do, per state, in the
 * tenant's language and time zone, shortened at word boundaries to the vendor's display limit.
 * Rendering goes through the same TemplateSet and scope as the provisioning server.
 */
const config = loadConfig({ AUTH_SERVICE_NUMBER: '*89' });
const templates = TemplateSet.load();
// 2026-11-30 12:00 UTC; the lock ends 13:35 UTC = 14:35 in Berlin, 08:35 in New York.
const NOW = Date.UTC(2026, 10, 30, 12, 0);
const UNTIL = Date.UTC(2026, 10, 30, 13, 35);

/** Every family whose minimal file shows a display text, with the item that carries it. */
const PHONES: { vendor: Vendor; model: string; mac: string; file: string; item: (text: string) => string }[] =
  [
    {
      vendor: 'yealink',
      model: 'T54W',
      mac: '001565000001',
      file: '001565000001.cfg',
      item: (t) => `account.1.label = ${t}\n`,
    },
    {
      vendor: 'snom',
      model: 'D785',
      mac: '000413000004',
      file: '000413000004.xml',
      item: (t) => `<user_idle_text idx="1" perm="R">${t}</user_idle_text>`,
    },
    {
      vendor: 'poly',
      model: 'VVX 450',
      mac: '0004f2000005',
      file: '0004f2000005-phone.cfg',
      item: (t) => `reg.1.label="${t}"`,
    },
    {
      vendor: 'grandstream',
      model: 'GXP2170',
      mac: '000b82000006',
      file: 'cfg000b82000006.xml',
      item: (t) => `<P270>${t}</P270>`,
    },
    {
      vendor: 'gigaset',
      model: 'N720 DM PRO',
      mac: '7c2f80000007',
      file: '7C2F80000007.xml',
      item: (t) => `aucS_SIP_DISPLAYNAME[0]" class="symb_item" value='"${t}"'`,
    },
    {
      vendor: 'panasonic',
      model: 'KX-TGP500',
      mac: '0080f0000008',
      file: 'Config0080F0000008.cfg',
      item: (t) => `DISPLAY_NAME_1="${t}"`,
    },
  ];

function render(
  p: (typeof PHONES)[number],
  display: MinimalDisplay,
  tz: { language: 'en' | 'de'; timeZone: string },
): string {
  const d = {
    ...parseNewDevice({ mac: p.mac, vendor: p.vendor, model: p.model, site: 'HQ' }),
    sipPassword: 'restricted-pw',
    tenant: 'acme',
  } as unknown as Device;
  const module = moduleFor(p.vendor);
  const fm = module.matchFile(p.file);
  assert.ok(fm && fm.role === 'config', `${p.file} is a configuration of ${p.vendor}`);
  const scope = deviceScope(
    config,
    d,
    {
      kind: 'minimal',
      display,
      ip: '198.51.100.7',
      failedUntil: display === 'failed' ? UNTIL : null,
      now: NOW,
      ...tz,
    },
    [],
  );
  return templates.render(module.family, fm.template, module.overrides(d), scope, module.escape);
}

const EXPECTED: Record<'en' | 'de', Record<MinimalDisplay, string>> = {
  en: {
    needed: 'Dial *89 to authenticate',
    failed: 'Locked until 14:35',
    blocked: 'Blocked - call your admin',
    reset: 'Call your admin - reset needed',
    disabled: 'Disabled - call your admin',
  },
  de: {
    needed: 'Zur Freischaltung *89 wählen',
    failed: 'Gesperrt bis 14:35',
    blocked: 'Blockiert - Admin anrufen',
    reset: 'Rücksetzen nötig - Admin anrufen',
    disabled: 'Deaktiviert - Admin anrufen',
  },
};
/** Gigaset's 10 characters: the shorter forms. */
const SHORT: Record<'en' | 'de', Record<MinimalDisplay, string>> = {
  en: { needed: 'Dial *89', failed: 'Locked', blocked: 'Blocked', reset: 'Call admin', disabled: 'Disabled' },
  de: {
    needed: '*89 wählen',
    failed: 'Gesperrt',
    blocked: 'Blockiert',
    reset: 'Rücksetzen',
    disabled: 'Inaktiv',
  },
};

describe('display text of the minimal configuration', () => {
  for (const p of PHONES)
    for (const language of ['en', 'de'] as const)
      for (const state of ['needed', 'failed', 'blocked', 'reset', 'disabled'] as const)
        it(`${p.vendor} ${p.model}, ${language}: ${state}`, () => {
          const body = render(p, state, { language, timeZone: 'Europe/Berlin' });
          const limit = DISPLAY_LIMITS[p.vendor];
          const text = (limit === undefined ? EXPECTED : SHORT)[language][state];
          assert.ok(body.includes(p.item(text)), `${p.file} shows "${text}"`);
          if (limit !== undefined) assert.ok([...text].length <= limit);
        });

  it('gives the lock end in the tenant time zone, with the date when it is not today', () => {
    const c = { serviceNumber: '*89', failedUntil: UNTIL, now: NOW, language: 'en' as const };
    assert.equal(displayText('failed', { ...c, timeZone: 'America/New_York' }, null), 'Locked until 08:35');
    assert.equal(displayText('failed', { ...c, timeZone: 'UTC' }, null), 'Locked until 13:35');
    const tomorrow = UNTIL + 86400_000;
    assert.equal(
      displayText('failed', { ...c, failedUntil: tomorrow, timeZone: 'Europe/Berlin', language: 'de' }, null),
      'Gesperrt bis 1. Dez. 14:35',
    );
    assert.equal(
      displayText('failed', { ...c, failedUntil: tomorrow, timeZone: 'UTC' }, null),
      'Locked until Dec 1 13:35',
    );
  });

  it('shortens at word boundaries only, never inside a word', () => {
    assert.equal(shortenAtWord('Blocked - call your admin', 20), 'Blocked - call your');
    assert.equal(shortenAtWord('Blocked - call your admin', 9), 'Blocked', 'a dangling separator goes too');
    assert.equal(shortenAtWord('Authentication', 5), '', 'a word that does not fit is left out, not cut');
    const c = {
      serviceNumber: '*1234567890123',
      failedUntil: null,
      now: NOW,
      language: 'en' as const,
      timeZone: 'UTC',
    };
    assert.equal(
      displayText('needed', c, 10),
      'Dial',
      'a service number too long for the display is not cut',
    );
    for (let limit = 1; limit <= 30; limit++)
      for (const state of ['needed', 'failed', 'blocked', 'reset', 'disabled'] as const) {
        const t = displayText(state, { ...c, failedUntil: UNTIL }, limit);
        assert.ok([...t].length <= limit);
        const full = displayText(state, { ...c, failedUntil: UNTIL }, null).split(' ');
        for (const w of t.split(' ').filter((x) => x !== ''))
          assert.ok(full.includes(w) || w === '*1234567890123', `"${w}" is a whole word`);
      }
  });
});

describe('display text over HTTP: the tenant time zone and language', () => {
  const f = new ProvisioningFixture();
  const TOKEN = 'display-test-operator-token-0123';
  let admin: ReturnType<typeof createAdminServer>;
  let adminPort = 0;
  before(async () => {
    await f.start();
    admin = createAdminServer({ config: f.config, store: f.store, log: silentLog, adminToken: TOKEN });
    await admin.listen({ host: '127.0.0.1', port: 0 });
    adminPort = (admin.server.address() as AddressInfo).port;
  });
  after(async () => {
    await admin.close();
    await f.stop();
  });
  const putTenant = (body: unknown) =>
    request(adminPort, '/api/v1/tenants/acme', {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('re-renders the idle text on each minimal fetch, lock end in the tenant zone', async () => {
    const d = await f.device('snom', 'D785', '000413000099');
    const bad = await putTenant({ timeZone: 'Mars/Olympus_Mons' });
    assert.equal(bad.status, 400);
    assert.equal(JSON.parse(bad.body).field, 'timeZone');
    const ok = await putTenant({ name: 'Acme', language: 'de', timeZone: 'europe/berlin' });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).timeZone, 'Europe/Berlin', 'stored in its canonical spelling');

    const idle = async () =>
      /<user_idle_text idx="1" perm="R">([^<]*)</.exec(
        (
          await request(f.port, '/000413000099.xml', {
            from: '127.0.0.5',
            headers: { 'user-agent': 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.54.13)' },
          })
        ).body,
      )?.[1];
    f.clock = NOW;
    assert.equal(await idle(), 'Zur Freischaltung *89 wählen');
    const wrong = d.pap === '000000' ? '111111' : '000000';
    for (let i = 0; i < 3; i++) await f.store.attemptPap(d.mac, wrong, null, 'test', 'api');
    // FAST_POLICY locks for 1 s: 12:00:01 UTC is 13:00 in Berlin.
    assert.equal(await idle(), 'Gesperrt bis 13:00');
    f.clock += 1000;
    assert.equal(await idle(), 'Zur Freischaltung *89 wählen', 'the lock ran out');
  });
});
