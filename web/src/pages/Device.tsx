import { useState } from 'preact/hooks';
import { api, enc, type AuditEvent, type Bypasses, type Device } from '../api';
import { confirm } from '../components/ConfirmDialog';
import { EffectiveFileView } from '../components/EffectiveFile';
import { DeviceEdit } from '../components/DeviceEdit';
import { EventTable } from '../components/EventTable';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { NeedsReset } from '../components/NeedsReset';
import { PapExpired } from '../components/PapExpired';
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
  // What a reset leaves open (docs/admin.md, "Device lifecycle"): shown, and offered for removal.
  const open = useLoad(() => api<Bypasses>('GET', `${path}/bypasses`), [path]);
  // Live: the phone authenticates, fetches or is locked while the page is open. The device is
  // asked again; its history, traffic and what lets it in only when what the page shows changed.
  usePoll(dev.reload, DEVICE_POLL_MS, [path]);
  const d0 = dev.data;
  useOnChange(
    d0 &&
      JSON.stringify([
        d0.state,
        d0.suspendedUntil,
        d0.failedUntil,
        d0.lastProvisioning,
        d0.needsReset,
        d0.disabledAt,
        d0.userAgentMismatch,
      ]),
    () => {
      history.reload();
      traffic.reload();
      open.reload();
    },
  );
  const [status, setStatus] = useState<{ ok?: string | null; error?: string | null }>({});
  const [network, setNetwork] = useState('');
  const act = async (f: () => Promise<string | null>) => {
    try {
      setStatus({ ok: await f() });
      dev.reload();
      open.reload();
      history.reload();
      traffic.reload();
    } catch (err) {
      setStatus({ error: message(err) });
    }
  };
  const removeTemporary = async (entries: Bypasses['temporary']) => {
    for (const e of entries) {
      const site = e.site === null ? '' : `?site=${enc(e.site)}`;
      await api('DELETE', `/tenants/${enc(tenant)}/whitelist/temporary/${enc(e.ip)}${site}`);
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
          <PapExpired device={d} />
          {d.papExpired && <p class="muted">{t('device.papExpired.help')}</p>}
        </dd>
        {d.disabledAt && (
          <>
            <dt>{t('device.disabledAt')}</dt>
            <dd>
              {formatTime(d.disabledAt)}
              <p class="muted">{t('device.disabled.help')}</p>
            </dd>
          </>
        )}
        {d.pap !== null && (
          <>
            <dt>{t('device.pap')}</dt>
            <dd class="mono pap big">{d.pap}</dd>
          </>
        )}
        {d.papExpiresAt && (
          <>
            <dt>{t('device.papExpiresAt')}</dt>
            <dd>{formatTime(d.papExpiresAt)}</dd>
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
        {d.pinBypassUntil && (
          <>
            <dt>{t('device.suspendedUntil')}</dt>
            <dd>
              {formatTime(d.pinBypassUntil)} ·{' '}
              {d.pinBypassNetwork === null ? (
                t('device.suspensionAnywhere')
              ) : (
                <span class="mono">{t('device.suspensionFor', { network: d.pinBypassNetwork })}</span>
              )}{' '}
              <button
                type="button"
                onClick={() =>
                  act(async () => {
                    await api('DELETE', `${path}/pin-bypass`);
                    return t('device.bypassEnded');
                  })
                }
              >
                {t('device.endBypass')}
              </button>
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
        {open.data && (open.data.temporary.length > 0 || open.data.permanent.length > 0) && (
          <>
            <dt>{t('device.open')}</dt>
            <dd>
              <p class="muted">{t('device.open.help')}</p>
              <ul>
                {open.data.temporary.map((e) => (
                  <li key={`${e.site}:${e.ip}`}>
                    <span class="mono">
                      {t('device.open.temporary', {
                        ip: e.ip,
                        site: e.site ?? '*',
                        until: formatTime(e.expiresAt),
                      })}
                    </span>{' '}
                    <button
                      type="button"
                      onClick={() =>
                        act(async () => {
                          await removeTemporary([e]);
                          return t('device.open.removed', { ip: e.ip });
                        })
                      }
                    >
                      {t('device.open.remove', { ip: e.ip })}
                    </button>
                  </li>
                ))}
                {open.data.permanent.map((entry) => (
                  <li key={entry} class="mono">
                    <a href={href(`/t/${enc(tenant)}/whitelist`)}>{t('device.open.permanent', { entry })}</a>
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
        {d.userAgentMismatch && (
          <>
            <dt>{t('device.uaMismatch')}</dt>
            <dd>
              {formatTime(d.userAgentMismatch.at)} · {d.userAgentMismatch.ip} ·{' '}
              {d.userAgentMismatch.model === null ? (
                t('device.uaMismatch.other')
              ) : (
                <>
                  <bdi>{t('device.uaMismatch.model', { model: d.userAgentMismatch.model })}</bdi>{' '}
                  <button
                    type="button"
                    onClick={() =>
                      act(async () => {
                        const r = await api<{ model: string }>('POST', `${path}/accept-model`);
                        return t('device.modelAccepted', { model: r.model });
                      })
                    }
                  >
                    {t('device.acceptModel', { model: d.userAgentMismatch.model })}
                  </button>
                </>
              )}
            </dd>
          </>
        )}
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
        {d.state === 'failed' && (
          <button
            type="button"
            onClick={() =>
              act(async () => {
                await api('POST', `${path}/unlock`);
                return t('device.unlocked');
              })
            }
          >
            {t('device.unlock')}
          </button>
        )}
        <button
          type="button"
          onClick={() =>
            act(async () => {
              // Read now, not as the page loaded it: a phone of the site may have authenticated since.
              const left = await api<Bypasses>('GET', `${path}/bypasses`);
              const addresses = [...left.temporary.map((e) => e.ip), ...left.permanent].join(', ');
              const question =
                addresses === ''
                  ? t('device.confirmReset', { mac: pretty })
                  : t('device.confirmResetOpen', { mac: pretty, addresses });
              // The temporary entries can go in the same answer (permanent ones are the site's own).
              const answer = await confirm(
                question,
                left.temporary.length === 0 ? undefined : t('device.resetAndRemove'),
              );
              if (!answer) return null;
              const r = await api<{ pap: string }>('POST', `${path}/reset`);
              if (answer === 'extra') await removeTemporary(left.temporary);
              return t('device.resetDone', { pap: r.pap });
            })
          }
        >
          {t('device.reset')}
        </button>
        {d.disabledAt ? (
          <button
            type="button"
            onClick={() =>
              act(async () => {
                await api('POST', `${path}/enable`);
                return t('device.enabledDone');
              })
            }
          >
            {t('device.enable')}
          </button>
        ) : (
          <button
            type="button"
            onClick={() =>
              act(async () => {
                if (!(await confirm(t('device.confirmDisable', { mac: pretty })))) return null;
                await api('POST', `${path}/disable`);
                return t('device.disabledDone');
              })
            }
          >
            {t('device.disable')}
          </button>
        )}
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
            await api('POST', `${path}/pin-bypass`, network.trim() === '' ? {} : { network: network.trim() });
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
