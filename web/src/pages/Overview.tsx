import { AUTH_STATES } from '../../../src/domain/auth';
import { api, enc, type RolloutSummary, type StateCounts } from '../api';
import { Loading } from '../components/Loading';
import { Title } from '../components/Title';
import { formatNumber, formatTime, t, tn } from '../i18n';
import { authenticatedPercent, SUMMARY_POLL_MS, usePoll } from '../lib/live';
import { href } from '../lib/location';
import { useLoad } from '../lib/useLoad';

/** A tenant's start page: its devices per state and per site, to follow a roll-out as it happens. */
export function Overview(props: { tenant: string }) {
  const { tenant } = props;
  const summary = useLoad(() => api<RolloutSummary>('GET', `/tenants/${enc(tenant)}/summary`), [tenant]);
  usePoll(summary.reload, SUMMARY_POLL_MS, [tenant]);
  const s = summary.data;
  const devices = `/t/${enc(tenant)}/devices`;
  // Each count opens the device list filtered to it.
  const row = (label: string, c: StateCounts, site: string | undefined) => (
    <tr>
      <th scope="row">
        <bdi>{label}</bdi>
      </th>
      <td>
        <a href={href(devices, { site })}>{formatNumber(c.total)}</a>
      </td>
      {AUTH_STATES.map((state) => (
        <td>
          <a href={href(devices, { site, state })}>{formatNumber(c.states[state])}</a>
        </td>
      ))}
      <td>{formatNumber(c.suspended)}</td>
      <td>
        <progress max={100} value={authenticatedPercent(c)} aria-hidden="true" />{' '}
        {formatNumber(authenticatedPercent(c))} %
      </td>
    </tr>
  );
  return (
    <>
      <Title>{t('overview.title')}</Title>
      {!s ? (
        <Loading error={summary.error} />
      ) : s.total === 0 ? (
        <p>
          {t('overview.none')} <a href={href(`/t/${enc(tenant)}/add`)}>{t('nav.add')}</a>
        </p>
      ) : (
        <>
          <table class="overview">
            <thead>
              <tr>
                <th scope="col">{t('col.site')}</th>
                <th scope="col">{t('overview.devices')}</th>
                {AUTH_STATES.map((state) => (
                  <th scope="col">{t(`state.${state}`)}</th>
                ))}
                <th scope="col">{t('overview.suspended')}</th>
                <th scope="col">{t('overview.authenticated')}</th>
              </tr>
            </thead>
            <tbody>{s.sites.map((c) => row(c.site, c, c.site))}</tbody>
            <tfoot>{row(t('site.all'), s, undefined)}</tfoot>
          </table>
          {(s.userAgentMismatch > 0 || s.papExpired > 0) && (
            <section class="card attention">
              <h2>{t('overview.attention')}</h2>
              <ul>
                {s.userAgentMismatch > 0 && (
                  <li>
                    <a href={href(devices, { mismatch: 1 })}>
                      {tn('overview.mismatch', s.userAgentMismatch)}
                    </a>
                  </li>
                )}
                {s.papExpired > 0 && (
                  <li>
                    <a href={href(devices, { papExpired: 1 })}>{tn('overview.papExpired', s.papExpired)}</a>
                  </li>
                )}
              </ul>
            </section>
          )}
          <p class="muted" aria-live="polite">
            {t('overview.asOf', { time: formatTime(s.at) })}
          </p>
        </>
      )}
    </>
  );
}
