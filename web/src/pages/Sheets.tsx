import { enc } from '../api';
import { Loading } from '../components/Loading';
import { Title } from '../components/Title';
import { formatNumber, t } from '../i18n';
import { allDevices } from '../lib/allDevices';
import { href } from '../lib/location';
import { tx } from '../lib/tx';
import { useLoad } from '../lib/useLoad';

export function Sheets(props: { tenant: string }) {
  const needed = useLoad(() => allDevices(props.tenant, { state: 'needed' }), [props.tenant]);
  const bySite = new Map<string, number>();
  for (const d of needed.data ?? []) bySite.set(d.site, (bySite.get(d.site) ?? 0) + 1);
  return (
    <>
      <Title>{t('sheets.title')}</Title>
      <p>{t('sheets.intro')}</p>
      {!needed.data ? (
        <Loading error={needed.error} />
      ) : bySite.size === 0 ? (
        <p>{t('sheet.none')}</p>
      ) : (
        <ul class="sites">
          {[...bySite]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([site, n]) => (
              <li>
                <a href={href(`/t/${enc(props.tenant)}/sheet/${enc(site)}`)}>{tx('sheets.open', { site })}</a>{' '}
                <span class="muted">({formatNumber(n)})</span>
              </li>
            ))}
        </ul>
      )}
    </>
  );
}
