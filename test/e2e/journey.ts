/**
 * The whole journey of a phone, end to end: provisioning over real HTTP, the SIP account taken
 * from the file the phone was given, REGISTER, *89 with the PAP in RFC 2833, check-sync at the
 * contact, and the configuration the phone gets afterwards from its site, from another network
 * with its device credential, and as a factory-reset phone.
 */
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import type { Vendor } from '../../src/domain/device';
import { ACCOUNT, credentialIn, request, TENANT_SECRETS } from '../support/http';
import { yealinkAccount, type FileAccount } from './file-accounts';
import { Harness, isLoopback, sleep, TENANT, until } from './harness';

/** Cisco/Linksys `<mac>.xml`: a flat profile, line 1. */
function ciscoAccount(body: string): FileAccount {
  const profile = (
    new XMLParser({ parseTagValue: false }).parse(body) as { 'flat-profile': Record<string, string> }
  )['flat-profile'];
  const get = (k: string) => {
    const v = profile[k];
    assert.ok(typeof v === 'string', `${k} missing in:\n${body}`);
    return v;
  };
  return {
    user: get('User_ID_1_'),
    authUser: get('Auth_ID_1_'),
    password: get('Password_1_'),
    registrar: get('Proxy_1_'),
  };
}

interface Phone {
  vendor: Vendor;
  model: string;
  mac: string;
  file: string;
  userAgent: string;
  account: (body: string) => FileAccount;
  event: string;
  /** the site's network, another network, and the network of a factory-reset phone */
  site: string;
  elsewhere: string;
  resetAt: string;
}

const PHONES: Phone[] = [
  {
    vendor: 'yealink',
    model: 'T54W',
    mac: '001565e2e101',
    file: '001565e2e101.cfg',
    userAgent: 'Yealink SIP-T54W 96.86.0.70 00:15:65:e2:e1:01',
    account: yealinkAccount,
    event: 'check-sync;reboot=false',
    site: '127.0.0.7',
    elsewhere: '127.0.0.8',
    resetAt: '127.0.0.9',
  },
  {
    vendor: 'cisco',
    model: 'SPA112',
    mac: '0011aae2e102',
    file: '0011aae2e102.xml',
    userAgent: 'Cisco/SPA112-1.4.1 (0011AAE2E102)',
    account: ciscoAccount,
    event: 'resync',
    // other addresses than the Yealink's: a success whitelists its site for the whole tenant
    site: '127.0.0.17',
    elsewhere: '127.0.0.18',
    resetAt: '127.0.0.19',
  },
];

describe('e2e: the whole journey of a phone', function () {
  this.timeout(120000);
  const h = new Harness();
  let provPort = 0;

  before(async function () {
    provPort = await h.serveProvisioning();
    await h.start(this);
  });

  after(() => h.stop());

  for (const p of PHONES) {
    it(`${p.vendor}: minimal config from the site -> REGISTER with its account -> *89 PAP -> ${p.event} -> full config; credential from elsewhere -> full; reset phone elsewhere -> challenged`, async () => {
      const d = await h.device(p.mac, { vendor: p.vendor, model: p.model, accounts: [ACCOUNT] });
      const fetch = (from: string, credential: string | null = null) =>
        request(provPort, credential === null ? `/${p.file}` : `/d/${credential}/${p.file}`, {
          from,
          headers: { 'user-agent': p.userAgent },
        });
      const isMinimal = (body: string) => {
        assert.match(body, /papgate minimal configuration/);
        for (const s of TENANT_SECRETS) assert.ok(!body.includes(s), `minimal configuration leaks "${s}"`);
        assert.equal(credentialIn(body), null);
      };
      const isFull = (body: string): string => {
        assert.match(body, /papgate full configuration/);
        assert.ok(body.includes(ACCOUNT.password), "the tenant's account");
        const credential = credentialIn(body);
        assert.ok(credential, `device credential in the provisioning URL:\n${body}`);
        return credential;
      };

      const first = await fetch(p.site);
      assert.equal(first.status, 200, first.body);
      isMinimal(first.body);
      const account = p.account(first.body);
      assert.equal(account.user, d.mac, 'the restricted account is the device MAC');
      assert.ok(isLoopback(account.registrar.split(':')[0]!), account.registrar);

      // The phone sends from the address its file went to: the password is derived for it.
      const phone = await h.register(account.user, account.password, {
        authUser: account.authUser,
        target: account.registrar,
        localIp: p.site,
      });
      const call = await h.dial(
        `journey-${p.vendor}`,
        {
          mac: account.user,
          authUser: account.authUser,
          password: account.password,
          target: account.registrar,
          localIp: p.site,
        },
        `${d.pap}#`,
      );
      assert.equal(call.code, 0, call.out);
      assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['successful']);
      const notify = await phone.notified(15000);
      assert.equal(notify.event, p.event);
      phone.stop();

      const again = await fetch(p.site);
      assert.equal(again.status, 200, again.body);
      const credential = isFull(again.body);
      assert.equal((await h.store.getDevice(TENANT, d.mac))!.state, 'successful');

      const elsewhere = await fetch(p.elsewhere, credential);
      assert.equal(elsewhere.status, 200, elsewhere.body);
      assert.equal(isFull(elsewhere.body), credential, 'the same credential');

      // A phone without the credential (factory-reset, or not the phone) is asked for it: the
      // full file gave it as the vendor's HTTP credentials (docs/phones.md, "The challenge").
      const reset = await fetch(p.resetAt);
      assert.equal(reset.status, 401, reset.body);
      assert.match(String(reset.headers['www-authenticate']), /^(Basic|Digest) realm=/);
      for (const s of TENANT_SECRETS) assert.ok(!reset.body.includes(s), `the challenge leaks "${s}"`);
    });
  }

  it('the whitelist follows the phone: fetched from X, then by an attacker from Y who also registers; *89 from X -> X gets the full file and the check-sync, Y nothing of the tenant', async () => {
    const d = await h.device('001565e2e1c0', { accounts: [ACCOUNT] });
    const other = await h.device('001565e2e1c1', { accounts: [ACCOUNT] });
    const [phoneAt, attackerAt] = ['127.0.0.61', '127.0.0.62'];
    const fetch = (mac: string, from: string) =>
      request(provPort, `/${mac}.cfg`, { from, headers: { 'user-agent': 'Yealink SIP-T54W' } });
    const nothingOfTheTenant = (body: string) => {
      for (const secret of TENANT_SECRETS) assert.ok(!body.includes(secret), `leaks "${secret}":\n${body}`);
      assert.equal(credentialIn(body), null);
    };

    const mine = yealinkAccount((await fetch(d.mac, phoneAt)).body);
    const phone = await h.register(mine.user, mine.password, {
      authUser: mine.authUser,
      target: mine.registrar,
      localIp: phoneAt,
    });
    // The attacker knows the MAC: the last fetch, and a registration of its own, are now from Y.
    const theirs = yealinkAccount((await fetch(d.mac, attackerAt)).body);
    const attacker = await h.register(theirs.user, theirs.password, {
      authUser: theirs.authUser,
      target: theirs.registrar,
      localIp: attackerAt,
    });
    assert.deepEqual(
      (await h.sipStore.registrations(TENANT, d.mac)).map((b) => b.address).sort(),
      [phoneAt, attackerAt],
      "the attacker's binding is beside the phone's, not instead of it",
    );

    const call = await h.dial(
      'follows-the-phone',
      {
        mac: mine.user,
        authUser: mine.authUser,
        password: mine.password,
        target: mine.registrar,
        localIp: phoneAt,
      },
      `${d.pap}#`,
    );
    assert.equal(call.code, 0, call.out);
    assert.deepEqual(await h.outcomesAfter(d.mac, 1), ['successful']);
    await phone.notified(15000);
    const whitelisted = (await h.store.temporaryWhitelist(TENANT)).map((e) => e.ip);
    assert.ok(whitelisted.includes(phoneAt), `${phoneAt} in ${whitelisted}`);
    assert.ok(!whitelisted.includes(attackerAt), `${attackerAt} must not be whitelisted: ${whitelisted}`);
    await sleep(1000);
    assert.deepEqual(attacker.notifies(), [], 'no check-sync at the binding the attacker registered');
    phone.stop();
    attacker.stop();

    for (const mac of [d.mac, other.mac]) {
      const res = await fetch(mac, attackerAt);
      assert.equal(res.status, 200, res.body);
      nothingOfTheTenant(res.body);
    }
    const full = await fetch(d.mac, phoneAt);
    assert.equal(full.status, 200, full.body);
    assert.ok(full.body.includes(ACCOUNT.password), 'the phone gets its full file where it is');
    assert.ok(credentialIn(full.body));
  });

  it('the restricted account works only from the address its file went to; a fetch from elsewhere rotates nothing', async () => {
    const d = await h.device('001565e2e1b0');
    const [fetchedAt, copiedTo, third] = ['127.0.0.31', '127.0.0.32', '127.0.0.33'];
    const minimal = async (from: string) => {
      const res = await request(provPort, `/${d.mac}.cfg`, {
        from,
        headers: { 'user-agent': 'Yealink SIP-T54W' },
      });
      assert.equal(res.status, 200, res.body);
      return yealinkAccount(res.body);
    };
    const account = await minimal(fetchedAt);
    assert.equal(account.password, h.passwordFor(d, fetchedAt));
    const who = { authUser: account.authUser, target: account.registrar };

    // The file's password from another address: 403, recorded in the phone traffic, nothing registered.
    await assert.rejects(h.register(account.user, account.password, { ...who, localIp: copiedTo }), /403/);
    // written after the 403 is sent, so it may land just after sipp has given up
    const refusal = await until(
      'the traffic event of the refused REGISTER',
      async () =>
        (await h.store.events(TENANT, 50, undefined, 'traffic')).find(
          (e) => e.type === 'sip_register_refused' && e.mac === d.mac,
        ) ?? null,
      5000,
    );
    assert.equal(refusal?.src, copiedTo, 'the refusal is recorded with its source address');
    assert.deepEqual(await h.sipStore.registrations(TENANT, d.mac), []);

    const phone = await h.register(account.user, account.password, { ...who, localIp: fetchedAt });
    const registered = (await h.sipStore.registrations(TENANT, d.mac))[0];
    assert.equal(registered?.address, fetchedAt);

    const elsewhere = await minimal(third);
    assert.notEqual(elsewhere.password, account.password, 'another address, another password');
    assert.deepEqual(
      (await h.sipStore.registrations(TENANT, d.mac))[0],
      registered,
      'the binding is untouched',
    );
    assert.equal((await h.store.getDevice(TENANT, d.mac))!.sipPassword, d.secret, 'nothing rotated');
    assert.equal((await minimal(fetchedAt)).password, account.password);
    phone.stop();
    // and the first phone's password still registers from its address after the other fetch
    (await h.register(account.user, account.password, { ...who, localIp: fetchedAt })).stop();
  });
});
