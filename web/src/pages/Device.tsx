import { useState } from 'preact/hooks';
import { api, enc, type AuditEvent, type Device } from '../api';
import { confirm } from '../components/ConfirmDialog';
import { EffectiveFileView } from '../components/EffectiveFile';
import { DeviceEdit } from '../components/DeviceEdit';
import { EventTable } from '../components/EventTable';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { NeedsReset } from '../components/NeedsReset';
import { StateBadge } from '../components/StateBadge';
import { Status } from '../components/Status';
import { Title } from '../components/Title';
import { formatTime, t } from '../i18n';
import { go, href } from '../lib/location';
import { DEVICE_POLL_MS, useOnChange, usePoll } from '../lib/live';
import { colonMac } from '../lib/mac';
import { message } from '../lib/message';
import { useLoad } from '../lib/useLoad';

export function DeviceDetail(props: { tenant: string; mac: string }) {
  const { tenant, mac } = props;
  const path = `/tenants/${enc(tenant)}/devices/${enc(mac)}`;
  const dev = useLoad(() => api<Device>('GET', path), [path]);
  const history = useLoad(
    () => api<{ events: AuditEvent[] }>('GET', `/tenants/${enc(tenant)}/events?count=100&mac=${enc(mac)}`),
    [path],
  );
  const traffic = useLoad(
    () =>
      api<{ events: AuditEvent[] }>(
        'GET',
        `/tenants/${enc(tenant)}/events?stream=traffic&count=20&mac=${enc(mac)}`,
      ),
    [path],
  );
  // Live: the phone authenticates, fetches or is locked while the page is open. The device is
  // asked again; its history and traffic only when what the page shows of it changed.
  usePoll(dev.reload, DEVICE_POLL_MS, [path]);
  const d0 = dev.data;
  useOnChange(
    d0 && JSON.stringify([d0.state, d0.suspendedUntil, d0.failedUntil, d0.lastProvisioning, d0.needsReset]),
    () => {
      history.reload();
      traffic.reload();
    },
  );
  const [status, setStatus] = useState<{ ok?: string | null; error?: string | null }>({});
  const [network, setNetwork] = useState('');
  const act = async (f: () => Promise<string | null>) => {
    try {
      setStatus({ ok: await f() });
      dev.reload();
      history.reload();
      traffic.reload();
    } catch (err) {
      setStatus({ error: message(err) });
    }
  };
  const d = dev.data;
  if (!d) return <Loading error={dev.error} />;
  const pretty = colonMac(d.mac);
  return (
    <>
      <p>
        <a href={href(`/t/${enc(tenant)}/devices`)}>← {t('device.back')}</a>
      </p>
      <Title>{t('device.title', { mac: pretty })}</Title>
      <dl class="device">
        <dt>{t('device.state')}</dt>
        <dd>
          <StateBadge state={d.state} />
          <NeedsReset needsReset={d.needsReset} />
          {d.needsReset && <p class="muted">{t('device.needsReset.help')}</p>}
        </dd>
        {d.pap !== null && (
          <>
            <dt>{t('device.pap')}</dt>
            <dd class="mono pap big">{d.pap}</dd>
          </>
        )}
        <dt>{t('device.attemptsLeft')}</dt>
        <dd>{d.attemptsLeft}</dd>
        <dt>{t('device.failures')}</dt>
        <dd>
          {d.consecutiveFailures} / {d.totalFailures}
        </dd>
        {d.failedUntil && (
          <>
            <dt>{t('device.lockUntil')}</dt>
            <dd>{formatTime(d.failedUntil)}</dd>
          </>
        )}
        {d.suspendedUntil && (
          <>
            <dt>{t('device.suspendedUntil')}</dt>
            <dd>
              {formatTime(d.suspendedUntil)} ·{' '}
              {d.suspensionNetwork === null ? (
                t('device.suspensionAnywhere')
              ) : (
                <span class="mono">{t('device.suspensionFor', { network: d.suspensionNetwork })}</span>
              )}
            </dd>
          </>
        )}
        <dt>{t('col.site')}</dt>
        <dd>
          <bdi>{d.site}</bdi>
        </dd>
        <dt>{t('col.model')}</dt>
        <dd>
          {d.vendor} <bdi>{d.model}</bdi>
          {!d.modelKnown && <p class="error">{t('device.modelUnknown')}</p>}
        </dd>
        <dt>{t('device.language')}</dt>
        <dd>{d.language ?? '–'}</dd>
        <dt>{t('device.created')}</dt>
        <dd>{formatTime(d.createdAt)}</dd>
        <dt>{t('device.authenticated')}</dt>
        <dd>{d.authenticatedAt ? `${formatTime(d.authenticatedAt)} (${d.authenticatedVia})` : '–'}</dd>
        <dt>{t('col.lastprov')}</dt>
        <dd>
          {d.lastProvisioning
            ? `${formatTime(d.lastProvisioning.at)} · ${d.lastProvisioning.ip} · ${d.lastProvisioning.outcome}`
            : t('never')}
        </dd>
        {d.challenged && (
          <>
            <dt>{t('device.challenged')}</dt>
            <dd>
              {formatTime(d.challenged.at)} · {d.challenged.ip}
            </dd>
          </>
        )}
      </dl>
      <div class="buttons">
        <button
          type="button"
          onClick={() =>
            act(async () => {
              if (!(await confirm(t('device.confirmReset', { mac: pretty })))) return null;
              const r = await api<{ pap: string }>('POST', `${path}/reset`);
              return t('device.resetDone', { pap: r.pap });
            })
          }
        >
          {t('device.reset')}
        </button>
        <button
          type="button"
          class="danger"
          onClick={() =>
            act(async () => {
              if (!(await confirm(t('device.confirmDelete', { mac: pretty })))) return null;
              await api('DELETE', path);
              go(href(`/t/${enc(tenant)}/devices`));
              return null;
            })
          }
        >
          {t('device.delete')}
        </button>
      </div>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            // Empty: unbound, the first fetch from anywhere takes the file (docs/security.md).
            await api('POST', `${path}/suspend`, network.trim() === '' ? {} : { network: network.trim() });
            setNetwork('');
            return t('device.suspended');
          });
        }}
      >
        <Field id="suspend-network" label={t('device.suspensionNetwork')}>
          {(a) => (
            <input
              {...a}
              value={network}
              placeholder={d.lastProvisioning?.ip ?? '198.51.100.0/24'}
              onInput={(e) => setNetwork(e.currentTarget.value)}
            />
          )}
        </Field>
        <button type="submit">{t('device.suspend')}</button>
      </form>
      <Status {...status} />
      <DeviceEdit
        device={d}
        path={path}
        onSaved={() => {
          dev.reload();
          history.reload();
        }}
      />
      <EffectiveFileView tenant={tenant} mac={mac} />
      <h2>{t('device.history')}</h2>
      {!history.data ? (
        <Loading error={history.error} />
      ) : history.data.events.length === 0 ? (
        <p>{t('device.noHistory')}</p>
      ) : (
        <EventTable events={history.data.events} withMac={false} tenant={tenant} />
      )}
      <h2>{t('device.traffic')}</h2>
      {!traffic.data ? (
        <Loading error={traffic.error} />
      ) : traffic.data.events.length === 0 ? (
        <p>{t('device.noHistory')}</p>
      ) : (
        <EventTable events={traffic.data.events} withMac={false} tenant={tenant} />
      )}
    </>
  );
}
