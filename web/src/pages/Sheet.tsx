import { enc } from '../api';
import { Loading } from '../components/Loading';
import { QrCode } from '../components/QrCode';
import { Title } from '../components/Title';
import { formatTime, t } from '../i18n';
import { allDevices } from '../lib/allDevices';
import { href } from '../lib/location';
import { colonMac } from '../lib/mac';
import { tx } from '../lib/tx';
import { useLoad } from '../lib/useLoad';

export function Sheet(props: { tenant: string; tenantName: string; site: string }) {
  const { tenant, site } = props;
  const list = useLoad(() => allDevices(tenant, { state: 'needed', site }), [tenant, site]);
  return (
    <article class="sheet">
      <div class="no-print buttons">
        <a href={href(`/t/${enc(tenant)}/sheets`)}>← {t('sheets.title')}</a>
        <button type="button" class="primary" onClick={() => window.print()}>
          {t('sheet.print')}
        </button>
      </div>
      <Title>{tx('sheet.title', { site })}</Title>
      {!list.data ? (
        <Loading error={list.error} />
      ) : list.data.length === 0 ? (
        <p>{t('sheet.none')}</p>
      ) : (
        <>
          <p>
            {tx('sheet.intro', { tenant: props.tenantName, count: list.data.length, site })}{' '}
            <span class="muted">{t('sheet.printed', { date: formatTime(Date.now()) })}</span>
          </p>
          <ol class="pap-cards">
            {list.data.map((d) => (
              <li class="pap-card">
                <div>
                  <div class="mono mac">{colonMac(d.mac)}</div>
                  <div class="model">
                    {d.vendor} <bdi>{d.model}</bdi>
                  </div>
                  <div class="mono pap big">{d.pap}</div>
                </div>
                <QrCode text={d.pap ?? ''} label={t('sheet.qr', { mac: colonMac(d.mac) })} />
              </li>
            ))}
          </ol>
        </>
      )}
    </article>
  );
}
