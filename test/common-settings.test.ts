import assert from 'node:assert/strict';
import { InputError } from '../src/domain/errors';
import {
  PHONE_LANGUAGES,
  ntpHost,
  parseNtpServer,
  parsePhoneLanguage,
  parseTimeZone,
  type CommonSettings,
} from '../src/domain/settings';
import { VENDOR_MODULES, moduleFor } from '../src/provisioning/vendors';
import { posixTz, zoneRules } from '../src/provisioning/vendors/tz';

/**
 * Expected values come from the references, not from papgate's output (config/templates/README.md,
 * "Common settings"): W = wazo-provd-plugins at 2321a3f3, W-provd = wazo-provd's tz data before it
 * moved to zoneinfo (8106209^ `wazo_provd/tzinform/tzdatax`, `month/W<week>.<weekday, 1 = Sunday>`,
 * W5 = last), F = fusionpbx at c7a00dcb3e.
 */

function items(
  vendor: Parameters<typeof moduleFor>[0],
  settings: CommonSettings,
  model = 'X',
): Record<string, string> {
  return Object.fromEntries(
    moduleFor(vendor)
      .commonItems(settings, model, new Date().getUTCFullYear())
      .map((i) => [i.name, i.value]),
  );
}

function refused(fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.field === field);
}

describe('common settings: input validation', () => {
  it('takes IANA zone names in their canonical spelling and refuses offsets and unknown names', () => {
    assert.equal(parseTimeZone('Europe/Berlin'), 'Europe/Berlin');
    assert.equal(parseTimeZone(' europe/berlin '), 'Europe/Berlin');
    assert.equal(parseTimeZone('UTC'), 'UTC');
    assert.equal(parseTimeZone('America/Argentina/Buenos_Aires'), 'America/Argentina/Buenos_Aires');
    assert.equal(parseTimeZone('Asia/Kolkata'), 'Asia/Kolkata');
    for (const bad of [
      '+01:00',
      'GMT+1x',
      'Europe/Nowhere',
      '',
      'Europe/../etc',
      'Europe/Berlin"',
      42,
      null,
      'a'.repeat(65),
    ]) {
      refused(() => parseTimeZone(bad), 'timeZone');
    }
  });

  it('takes an NTP host, address or host:port and refuses anything that could break a file', () => {
    assert.equal(parseNtpServer('Pool.NTP.org'), 'pool.ntp.org');
    assert.equal(parseNtpServer('ntp1.example.net:1123'), 'ntp1.example.net:1123');
    assert.equal(parseNtpServer('192.0.2.1:123'), '192.0.2.1:123');
    assert.equal(parseNtpServer('2001:DB8::1'), '2001:db8::1');
    assert.equal(parseNtpServer('[2001:db8:0::1]:4123'), '[2001:db8::1]:4123');
    assert.equal(parseNtpServer('time'), 'time');
    const bad = [
      '',
      'a b',
      'x;y',
      'x"y',
      "x'y",
      'x<y',
      'x&y',
      'x\ny',
      'host:0',
      'host:65536',
      'host:',
      'host:1:2',
      '10.0.0',
      '-x.example',
      'x..example',
      `${'a'.repeat(64)}.example`,
      'http://x',
      '[x]:1',
      'x%0a',
      'fe80::1%eth0',
      '[fe80::1%25eth0]:123',
      '0x7f.1',
      '127.1',
    ];
    for (const b of bad) refused(() => parseNtpServer(b), 'ntpServer');
  });

  it('writes the NTP host only where the port is the default one', () => {
    assert.equal(ntpHost('pool.ntp.org'), 'pool.ntp.org');
    assert.equal(ntpHost('pool.ntp.org:123'), 'pool.ntp.org');
    assert.equal(ntpHost('[2001:db8::1]:123'), '2001:db8::1');
    assert.equal(ntpHost('2001:db8::1'), '2001:db8::1');
    assert.equal(ntpHost('pool.ntp.org:1123'), null);
  });

  it('takes a supported ISO 639-1 code in any case and lists the supported ones', () => {
    assert.equal(parsePhoneLanguage('DE'), 'de');
    assert.ok(PHONE_LANGUAGES.includes('en'));
    refused(() => parsePhoneLanguage('xx'), 'phoneLanguage');
    refused(() => parsePhoneLanguage('de_DE'), 'phoneLanguage');
  });
});

describe('common settings: time zone rules from the tz database', () => {
  it('Europe/Berlin: W-provd 3600 3/W5.1;10/W5.1;3600 (last Sundays), at 02:00 and 03:00 local', () => {
    // W-provd's times are the tz rules' own (01:00 UTC for the EU); the phones take local wall time,
    // as W's own test has it for Bucharest (03:00 and 04:00 local, v86/tests/test_common.py:303-316).
    assert.deepEqual(zoneRules('Europe/Berlin', 2025), {
      standardOffset: 3600,
      dst: {
        start: { month: 3, week: 5, weekday: 0, time: 7200 },
        end: { month: 10, week: 5, weekday: 0, time: 10800 },
        save: 3600,
      },
    });
  });

  it('southern hemisphere: Australia/Sydney starts in October and ends in April (W-provd 10/W1.1;4/W1.1)', () => {
    assert.deepEqual(zoneRules('Australia/Sydney', 2026), {
      standardOffset: 36000,
      dst: {
        start: { month: 10, week: 1, weekday: 0, time: 7200 },
        end: { month: 4, week: 1, weekday: 0, time: 10800 },
        save: 3600,
      },
    });
  });

  it('no DST and half-hour offsets: Asia/Kolkata 19800, America/Regina -21600 (W-provd "-")', () => {
    assert.deepEqual(zoneRules('Asia/Kolkata', 2025), { standardOffset: 19800, dst: null });
    assert.deepEqual(zoneRules('America/Regina', 2025), { standardOffset: -21600, dst: null });
    assert.deepEqual(zoneRules('UTC', 2025), { standardOffset: 0, dst: null });
  });

  it('a "last Sunday" stays last in a year where it is also the 4th (October 2025)', () => {
    assert.equal(zoneRules('Europe/Bucharest', 2025).dst?.end.week, 5);
    assert.equal(zoneRules('Europe/Bucharest', 2026).dst?.start.week, 5);
  });

  it('POSIX strings as the references write them', () => {
    const rule = (zone: string) => posixTz(zone, zoneRules(zone, 2026), 2026);
    // W wazo_grandstream/common/common.py:38, F grandstream/grp2612/{$mac}.xml:3856.
    assert.equal(rule('Europe/Paris'), 'CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00');
    // F grp2612 :3881 (Sydney), :3845 (Newfoundland), :3866 (India): the rules, the names are the phone's to show.
    const rulePart = (s: string) => s.replace(/[A-Z]{3,}/g, 'N').replace(/\+/g, '');
    assert.equal(
      rulePart(rule('Australia/Sydney')),
      rulePart('EST-10EDT-11,M10.1.0/02:00:00,M4.1.0/03:00:00'),
    );
    assert.equal(
      rulePart(rule('America/St_Johns')),
      rulePart('NST+3:30NDT+2:30,M3.2.0/02:00:00,M11.1.0/02:00:00'),
    );
    assert.equal(rulePart(rule('Asia/Kolkata')), rulePart('TZT-5:30'));
  });
});

describe('common settings: each vendor family in its own items', () => {
  it('every module maps the common settings, and none writes an item for settings left out', () => {
    for (const m of VENDOR_MODULES) assert.deepEqual(m.commonItems({}, 'X', 2026), [], m.family);
  });

  it('a stored zone the tz database does not know gives no time items, not an error', () => {
    for (const m of VENDOR_MODULES) {
      assert.deepEqual(m.commonItems({ timeZone: 'Mars/Olympus_Mons' }, 'X', 2026), [], m.family);
    }
  });

  it('Yealink: W v86/tests/test_common.py:280-302 (America/Montreal, America/Regina), lang W common.py:324-331', () => {
    assert.deepEqual(items('yealink', { timeZone: 'America/Montreal' }), {
      'local_time.time_zone': '-5',
      'local_time.summer_time': '1',
      'local_time.dst_time_type': '1',
      'local_time.start_time': '3/2/7/2',
      'local_time.end_time': '11/1/7/2',
      'local_time.offset_time': '60',
    });
    assert.deepEqual(items('yealink', { timeZone: 'America/Regina' }), {
      'local_time.time_zone': '-6',
      'local_time.summer_time': '0',
    });
    // Week 5 = last (Yealink's "5 = the last week in a month"; W-provd's W5 for Europe/Bucharest).
    assert.equal(items('yealink', { timeZone: 'Europe/Bucharest' })['local_time.end_time'], '10/5/7/4');
    assert.equal(items('yealink', { timeZone: 'Asia/Kolkata' })['local_time.time_zone'], '+5:30');
    // W clamps to -11..+12 (common.py:431): outside, no time items rather than a clock hours off.
    assert.equal(items('yealink', { timeZone: 'Pacific/Auckland' })['local_time.time_zone'], '+12');
    assert.equal(items('yealink', { timeZone: 'Pacific/Pago_Pago' })['local_time.time_zone'], '-11');
    for (const zone of ['Pacific/Kiritimati', 'Pacific/Tongatapu', 'Etc/GMT+12'])
      assert.deepEqual(items('yealink', { timeZone: zone, ntpServer: 'pool.ntp.org' }), {
        'local_time.ntp_server1': 'pool.ntp.org',
      });
    assert.deepEqual(items('yealink', { ntpServer: 'pool.ntp.org', phoneLanguage: 'de' }), {
      'local_time.ntp_server1': 'pool.ntp.org',
      'lang.gui': 'German',
      'lang.wui': 'German',
    });
    // DECT: the web interface and the handsets (W v87/templates/base-dect.tpl:35-36).
    assert.deepEqual(items('yealink', { phoneLanguage: 'fr' }, 'W60B'), {
      'lang.wui': 'French',
      'custom.handset.language': '1',
    });
    assert.deepEqual(items('yealink', { phoneLanguage: 'nl' }), {}, 'a language W has no name for');
    assert.deepEqual(items('yealink', { ntpServer: 'pool.ntp.org:1123' }), {}, 'a port the item cannot take');
  });

  it('snom: W common.py:268-280 (<locale country><offset>), zones with the same rules, none otherwise', () => {
    assert.deepEqual(
      items('snom', { timeZone: 'Europe/Berlin', ntpServer: 'ntp.example', phoneLanguage: 'de' }),
      {
        timezone: 'GER+1',
        ntp_server: 'ntp.example',
        language: 'Deutsch',
        web_language: 'Deutsch',
      },
    );
    assert.equal(items('snom', { timeZone: 'America/New_York' }).timezone, 'USA-5');
    assert.equal(items('snom', { timeZone: 'Europe/Vienna' }).timezone, 'GER+1', 'EU rules, +1');
    assert.equal(items('snom', { timeZone: 'America/Toronto' }).timezone, 'USA-5', 'US rules, -5');
    assert.deepEqual(items('snom', { timeZone: 'Asia/Kolkata' }), {}, 'no listed zone has its rules');
    assert.deepEqual(items('snom', { timeZone: 'America/Phoenix' }), {}, '-7 without DST is not Denver');
  });

  it('Poly: W common.py:193-236 applied to W-provd New York (3/W2.1, 11/W1.1) and Berlin (W5.1), lang :151-159', () => {
    const ny = items('poly', {
      timeZone: 'America/New_York',
      ntpServer: 'pool.ntp.org',
      phoneLanguage: 'fr',
    });
    assert.deepEqual(ny, {
      'tcpIpApp.sntp.gmtOffset': '-18000',
      'tcpIpApp.sntp.gmtOffset.overrideDHCP': '1',
      'tcpIpApp.sntp.daylightSavings.enable': '1',
      'tcpIpApp.sntp.daylightSavings.fixedDayEnable': '0',
      'tcpIpApp.sntp.daylightSavings.start.month': '3',
      'tcpIpApp.sntp.daylightSavings.start.time': '2',
      'tcpIpApp.sntp.daylightSavings.start.dayOfWeek': '1',
      'tcpIpApp.sntp.daylightSavings.start.dayOfWeek.lastInMonth': '0',
      'tcpIpApp.sntp.daylightSavings.start.date': '8',
      'tcpIpApp.sntp.daylightSavings.stop.month': '11',
      'tcpIpApp.sntp.daylightSavings.stop.time': '2',
      'tcpIpApp.sntp.daylightSavings.stop.dayOfWeek': '1',
      'tcpIpApp.sntp.daylightSavings.stop.dayOfWeek.lastInMonth': '0',
      'tcpIpApp.sntp.daylightSavings.stop.date': '1',
      'tcpIpApp.sntp.address': 'pool.ntp.org',
      'tcpIpApp.sntp.address.overrideDHCP': '1',
      'lcl.ml.lang': 'French_France',
    });
    const berlin = items('poly', { timeZone: 'Europe/Berlin' });
    assert.equal(berlin['tcpIpApp.sntp.gmtOffset'], '3600');
    assert.equal(berlin['tcpIpApp.sntp.daylightSavings.start.dayOfWeek.lastInMonth'], '1');
    assert.equal(berlin['tcpIpApp.sntp.daylightSavings.start.date'], undefined);
    assert.deepEqual(items('poly', { timeZone: 'Asia/Kolkata' }), {
      'tcpIpApp.sntp.gmtOffset': '19800',
      'tcpIpApp.sntp.gmtOffset.overrideDHCP': '1',
      'tcpIpApp.sntp.daylightSavings.enable': '0',
    });
  });

  it('Cisco/Linksys: W common.py:344-380 applied to W-provd New York; no language on an ATA', () => {
    assert.deepEqual(
      items('cisco', { timeZone: 'America/New_York', ntpServer: '192.0.2.5', phoneLanguage: 'de' }),
      {
        Time_Zone: 'GMT-05:00',
        Daylight_Saving_Time_Enable: 'yes',
        Daylight_Saving_Time_Rule: 'start=3/8/7/2:0:0;end=11/1/7/2:0:0;save=1:0:0',
        Primary_NTP_Server: '192.0.2.5',
      },
    );
    assert.equal(
      items('linksys', { timeZone: 'Europe/Berlin' }).Daylight_Saving_Time_Rule,
      'start=3/-1/7/2:0:0;end=10/-1/7/3:0:0;save=1:0:0',
    );
    assert.deepEqual(items('cisco', { timeZone: 'Asia/Kolkata' }), {
      Time_Zone: 'GMT+05:30',
      Daylight_Saving_Time_Enable: 'no',
    });
  });

  it('Gigaset N510: W common.py:154-186 codes by offset (Berlin 0x1b, Kolkata 0x30), none for an offset W lacks; N720 the same codes in BS_IP_Data (W N720 base.tpl:73,76-82)', () => {
    assert.deepEqual(
      items('gigaset', { timeZone: 'Europe/Berlin', ntpServer: 'pool.ntp.org', phoneLanguage: 'de' }, 'N510'),
      {
        'BS_IP_Data1.uiI_TIME_TIMEZONE': '0x1b',
        'BS_IP_Data1.ucB_TIME_USE_AUTOMATIC_DST': '0x1',
        'BS_IP_Data1.aucS_TIME_NTP_SERVER': '"pool.ntp.org"',
        'BS_IP_Data1.ucI_HTTPLANGUAGE': '0x2',
      },
    );
    assert.equal(
      items('gigaset', { timeZone: 'Asia/Kolkata' }, 'N510')['BS_IP_Data1.uiI_TIME_TIMEZONE'],
      '0x30',
    );
    assert.deepEqual(
      items('gigaset', { timeZone: 'America/St_Johns' }, 'N510'),
      {},
      '-03:30 is not in the table',
    );
    assert.deepEqual(
      items('gigaset', { timeZone: 'Europe/Berlin', ntpServer: 'pool.ntp.org', phoneLanguage: 'de' }, 'N720'),
      {
        'BS_IP_Data.uiI_TIME_TIMEZONE': '0x1b',
        'BS_IP_Data.ucB_TIME_USE_AUTOMATIC_DST': '1',
        'BS_IP_Data.aucS_TIME_NTP_SERVER[%]': '"pool.ntp.org"',
        'BS_IP_Data.ucB_TIME_USE_AUTOMATIC_NTP_SYN': '1',
        'BS_IP_Data.ucI_HTTPLANGUAGE': '2',
      },
    );
    assert.deepEqual(items('gigaset', { timeZone: 'Asia/Kolkata', phoneLanguage: 'pl' }, 'N720 DM PRO'), {
      'BS_IP_Data.uiI_TIME_TIMEZONE': '0x30',
      'BS_IP_Data.ucB_TIME_USE_AUTOMATIC_DST': '0',
      'BS_IP_Data.ucI_HTTPLANGUAGE': '17',
    });
  });

  it('Patton: W common.py:92-197 and base.tpl:3-16 applied to W-provd New York', () => {
    assert.deepEqual(
      items('patton', { timeZone: 'America/New_York', ntpServer: 'pool.ntp.org', phoneLanguage: 'de' }),
      {
        'clock local default-offset': '-05:00',
        'clock local dst-rule': 'DSTRULE -04:00 from 02:00 mar second sunday until 02:00 nov first sunday',
        'sntp-client': '',
        'sntp-client server primary': 'pool.ntp.org',
      },
    );
    assert.deepEqual(items('patton', { timeZone: 'Asia/Kathmandu' }), {
      'clock local default-offset': '+05:45',
    });
  });

  it('Grandstream: P64 customize + P246 (F grp2612 :3887-3905), P30, P1362 (W common.py:39-47)', () => {
    assert.deepEqual(
      items('grandstream', { timeZone: 'Europe/Paris', ntpServer: 'pool.ntp.org', phoneLanguage: 'it' }),
      {
        P64: 'customize',
        P246: 'CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00',
        P143: '0',
        P30: 'pool.ntp.org',
        P1362: 'it',
      },
    );
  });

  it('Panasonic: F tgp550/{$mac}.cfg:18-28 (the US start rule: month 3, 2nd, Sunday 0, 120 min), NTP_ADDR', () => {
    const ny = items('panasonic', {
      timeZone: 'America/New_York',
      ntpServer: 'pool.ntp.org',
      phoneLanguage: 'en',
    });
    assert.deepEqual(
      [
        ny.TIME_ZONE,
        ny.DST_ENABLE,
        ny.DST_OFFSET,
        ny.DST_START_MONTH,
        ny.DST_START_ORDINAL_DAY,
        ny.DST_START_DAY_OF_WEEK,
        ny.DST_START_TIME,
      ],
      ['-300', 'Y', '60', '3', '2', '0', '120'],
    );
    assert.equal(ny.NTP_ADDR, 'pool.ntp.org');
    assert.equal(ny.DEFAULT_LANGUAGE, 'en-US');
    assert.deepEqual(items('panasonic', { timeZone: 'Asia/Kolkata', phoneLanguage: 'de' }), {
      TIME_ZONE: '330',
      DST_ENABLE: 'N',
    });
  });
});
