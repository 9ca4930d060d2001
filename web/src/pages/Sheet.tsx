import { papCard } from '../../../src/domain/hotline';
import type { Language, Vendor } from '../../../src/domain/device';
import { api, enc, type Session, type Tenant } from '../api';
import { Loading } from '../components/Loading';
import { PapExpired } from '../components/PapExpired';
import { QrCode } from '../components/QrCode';
import { Title } from '../components/Title';
import { formatDate, formatTime, t } from '../i18n';
import { allDevices } from '../lib/allDevices';
import { href } from '../lib/location';
import { colonMac } from '../lib/mac';
import { tx } from '../lib/tx';
import { useLoad } from '../lib/useLoad';

/**
 * A site's PAP sheet, handed to the phones' users: printed in the tenant's language (else
 * DEFAULT_LANGUAGE) whatever the console shows, each card in its device's language, with the name
 * and extension of its first account and what reaches the IVR on that phone (papCard).
 */
export function Sheet(props: { tenant: string; tenantName: string; site: string }) {
  const { tenant, site } = props;
  const list = useLoad(
    () =>
      Promise.all([
        allDevices(tenant, { state: 'needed', site }),
        api<Tenant>('GET', `/tenants/${enc(tenant)}`),
        api<Session>('GET', '/session'),
      ]),
    [tenant, site],
  );
  const [devices, info, me] = list.data ?? [];
  const sheetLang = info?.language ?? me?.defaultLanguage ?? 'en';
  return (
    <article class="sheet">
      <div class="no-print buttons">
        <a href={href(`/t/${enc(tenant)}/sheets`)}>← {t('sheets.title')}</a>
        <button type="button" class="primary" onClick={() => window.print()}>
          {t('sheet.print')}
        </button>
      </div>
      <Title>{tx('sheet.title', { site }, sheetLang)}</Title>
      {!devices || !me ? (
        <Loading error={list.error} />
      ) : devices.length === 0 ? (
        <p>{t('sheet.none')}</p>
      ) : (
        <>
          <p lang={sheetLang}>
            {tx('sheet.intro', { tenant: props.tenantName, count: devices.length, site }, sheetLang)}{' '}
            <span class="muted">
              {t('sheet.printed', { date: formatTime(Date.now(), sheetLang) }, sheetLang)}
            </span>
          </p>
          <ol class="pap-cards">
            {devices.map((d) => {
              const card = papCard(
                { ...d, vendor: d.vendor as Vendor, language: d.language as Language | null },
                sheetLang,
              );
              return (
                <li class="pap-card" lang={card.language}>
                  <div>
                    {card.name !== null && (
                      <div class="name">
                        <bdi>{card.name}</bdi>
                      </div>
                    )}
                    {card.extension !== null && (
                      <div class="extension">
                        {tx('sheet.extension', { extension: card.extension }, card.language)}
                      </div>
                    )}
                    <div class="mono mac">{colonMac(d.mac)}</div>
                    <div class="model">
                      {d.vendor} <bdi>{d.model}</bdi>
                    </div>
                    {/* An expired PAP is refused at the IVR: no instruction to type it. */}
                    {d.papExpired ? (
                      <PapExpired device={d} lang={card.language} />
                    ) : (
                      <>
                        <div class="mono pap big">{d.pap}</div>
                        {d.papExpiresAt && (
                          <div class="valid-until">
                            {t(
                              'sheet.validUntil',
                              { date: formatDate(d.papExpiresAt, card.language) },
                              card.language,
                            )}
                          </div>
                        )}
                        <p class="instruction">
                          {t(
                            card.reach === 'lift' ? 'sheet.lift' : 'sheet.dial',
                            { number: me.authServiceNumber },
                            card.language,
                          )}
                        </p>
                      </>
                    )}
                  </div>
                  {!d.papExpired && (
                    <QrCode
                      text={d.pap ?? ''}
                      label={t('sheet.qr', { mac: colonMac(d.mac) }, card.language)}
                    />
                  )}
                </li>
              );
            })}
          </ol>
        </>
      )}
    </article>
  );
}
