import { api, enc, type AuditEvent } from '../api';
import { EventTable } from '../components/EventTable';
import { Loading } from '../components/Loading';
import { Title } from '../components/Title';
import { t } from '../i18n';
import { href } from '../lib/location';
import { PAGE_SIZE } from '../lib/paging';
import { useLoad } from '../lib/useLoad';

/**
 * The audit trail (admin actions, attempts, state changes) and, on its second tab, the phone traffic
 * (provisioning answers, refused registrations): two streams, so that phones cannot push the audit
 * trail out of its stream.
 */
export function Audit(props: { tenant: string; traffic: boolean; before: string | undefined }) {
  const { tenant, traffic, before } = props;
  const stream = traffic ? 'traffic' : undefined;
  const list = useLoad(
    () =>
      api<{ events: AuditEvent[] }>(
        'GET',
        `/tenants/${enc(tenant)}/events?count=${PAGE_SIZE}${traffic ? '&stream=traffic' : ''}${before ? `&before=${enc(before)}` : ''}`,
      ),
    [tenant, traffic, before],
  );
  const events = list.data?.events;
  const base = `/t/${enc(tenant)}/audit`;
  return (
    <>
      <Title>{t(traffic ? 'audit.traffic' : 'audit.title')}</Title>
      <nav class="tabs" aria-label={t('audit.streams')}>
        <a href={href(base)} aria-current={traffic ? undefined : 'page'}>
          {t('audit.title')}
        </a>
        <a href={href(base, { stream: 'traffic' })} aria-current={traffic ? 'page' : undefined}>
          {t('audit.traffic')}
        </a>
      </nav>
      <p class="muted">{t(traffic ? 'audit.trafficHelp' : 'audit.help')}</p>
      {!events ? (
        <Loading error={list.error} />
      ) : events.length === 0 ? (
        <p>{t('audit.none')}</p>
      ) : (
        <EventTable events={events} withMac tenant={tenant} />
      )}
      <div class="pager">
        {before && <a href={href(base, { stream })}>{t('audit.newest')}</a>}
        {events && events.length === PAGE_SIZE && (
          <a href={href(base, { stream, before: events[events.length - 1]!.id })}>{t('audit.older')} →</a>
        )}
      </div>
    </>
  );
}
