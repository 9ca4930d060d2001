import { useEffect, useState } from 'preact/hooks';
import { AUTH_STATES } from '../../../src/domain/auth';
import { api, ApiError, enc, type DeviceListPage, type RolloutSummary } from '../api';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { NeedsReset } from '../components/NeedsReset';
import { PapExpired } from '../components/PapExpired';
import { StateBadge } from '../components/StateBadge';
import { Status } from '../components/Status';
import { Title } from '../components/Title';
import { formatNumber, formatTime, t } from '../i18n';
import { SUMMARY_POLL_MS, summaryKey, useOnChange, usePoll } from '../lib/live';
import { go, href } from '../lib/location';
import { colonMac } from '../lib/mac';
import { PAGE_SIZE } from '../lib/paging';
import { useLoad } from '../lib/useLoad';

export function Devices(props: { tenant: string; query: URLSearchParams }) {
  const { tenant, query } = props;
  const state = query.get('state') ?? '';
  const site = query.get('site') ?? '';
  const q = query.get('q') ?? '';
  // The overview's "needs an admin" counts open the list filtered to them.
  const only =
    query.get('mismatch') === '1' ? 'mismatch' : query.get('papExpired') === '1' ? 'papExpired' : '';
  const page = Math.max(0, Number(query.get('page') ?? 0) || 0);
  const [search, setSearch] = useState(q);
  const base = `/t/${enc(tenant)}/devices`;
  const list = useLoad(() => {
    const p = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(page * PAGE_SIZE) });
    if (state) p.set('state', state);
    if (site) p.set('site', site);
    if (q) p.set('q', q);
    if (only) p.set(only, '1');
    return api<DeviceListPage>('GET', `/tenants/${enc(tenant)}/devices?${p}`);
  }, [tenant, state, site, q, only, page]);
  // Live: the counts are asked for every few seconds (cheap: counted once per tenant every 5 s on
  // the server), the list again only when they changed.
  const summary = useLoad(() => api<RolloutSummary>('GET', `/tenants/${enc(tenant)}/summary`), [tenant]);
  usePoll(summary.reload, SUMMARY_POLL_MS, [tenant]);
  useOnChange(summaryKey(summary.data), list.reload);
  const nav = (change: Record<string, string | number | undefined>) =>
    go(
      href(base, {
        state,
        site,
        q,
        ...(only ? { [only]: 1 } : {}),
        ...change,
        page: change.page ?? undefined,
      }),
    );
  // Searching as one types, once typing pauses.
  useEffect(() => {
    if (search === q) return;
    const timer = setTimeout(() => nav({ q: search }), 300);
    return () => clearTimeout(timer);
  }, [search]);

  const data = list.data;
  return (
    <>
      <Title>{t('devices.title')}</Title>
      <form class="filters" role="search" onSubmit={(e) => (e.preventDefault(), nav({ q: search }))}>
        <Field id="filter-q" label={t('devices.search')}>
          {(a) => (
            <input
              {...a}
              type="search"
              value={search}
              placeholder="00:15:65…"
              onInput={(e) => setSearch(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field id="filter-state" label={t('devices.filter.state')}>
          {(a) => (
            <select {...a} value={state} onChange={(e) => nav({ state: e.currentTarget.value })}>
              <option value="">{t('state.all')}</option>
              {AUTH_STATES.map((s) => (
                <option value={s}>
                  {t(`state.${s}`)}
                  {data ? ` (${formatNumber(data.stateCounts[s] ?? 0)})` : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="filter-site" label={t('devices.filter.site')}>
          {(a) => (
            <select {...a} value={site} onChange={(e) => nav({ site: e.currentTarget.value })}>
              <option value="">{t('site.all')}</option>
              {(data?.sites ?? (site ? [site] : [])).map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
          )}
        </Field>
      </form>
      {only && (
        <p>
          {t(only === 'mismatch' ? 'devices.only.mismatch' : 'devices.only.papExpired')}{' '}
          <a href={href(base)}>{t('devices.showAll')}</a>
        </p>
      )}
      {list.error && list.error instanceof ApiError && list.error.field ? (
        <Status error={list.error.message} />
      ) : !data ? (
        <Loading error={list.error} />
      ) : (
        <>
          <table class="devices">
            <thead>
              <tr>
                <th scope="col">{t('col.mac')}</th>
                <th scope="col">{t('col.state')}</th>
                <th scope="col">{t('col.site')}</th>
                <th scope="col">{t('col.model')}</th>
                <th scope="col">{t('col.lastprov')}</th>
                <th scope="col">{t('col.pap')}</th>
              </tr>
            </thead>
            <tbody>
              {data.devices.map((d) => (
                <tr>
                  <td>
                    <a href={href(`${base}/${d.mac}`)} class="mono">
                      {colonMac(d.mac)}
                    </a>
                  </td>
                  <td>
                    <StateBadge state={d.state} />
                    <NeedsReset needsReset={d.needsReset} />
                    <PapExpired device={d} />
                    {d.userAgentMismatch && (
                      <>
                        {' '}
                        <span class="badge needs-reset" title={t('device.uaMismatch.badgeHelp')}>
                          {t('device.uaMismatch.badge')}
                        </span>
                      </>
                    )}
                  </td>
                  <td>
                    <bdi>{d.site}</bdi>
                  </td>
                  <td>
                    {d.vendor} <bdi>{d.model}</bdi>
                  </td>
                  <td>
                    {d.lastProvisioning ? (
                      <>
                        {formatTime(d.lastProvisioning.at)} <span class="muted">{d.lastProvisioning.ip}</span>
                      </>
                    ) : (
                      <span class="muted">{t('never')}</span>
                    )}
                  </td>
                  <td class="mono pap">{d.pap ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.devices.length === 0 && <p>{t('devices.none')}</p>}
          <div class="pager">
            <span aria-live="polite">
              {t('devices.range', {
                from: formatNumber(data.total === 0 ? 0 : data.offset + 1),
                to: formatNumber(data.offset + data.devices.length),
                total: formatNumber(data.total),
              })}
            </span>
            <button type="button" disabled={page === 0} onClick={() => nav({ page: page - 1 || undefined })}>
              {t('devices.prev')}
            </button>
            <button
              type="button"
              disabled={data.offset + data.devices.length >= data.total}
              onClick={() => nav({ page: page + 1 })}
            >
              {t('devices.next')}
            </button>
          </div>
        </>
      )}
    </>
  );
}
