import type { ComponentChildren } from 'preact';
import { enc, type AuditEvent } from '../api';
import { formatTime, t } from '../i18n';
import { href } from '../lib/location';
import { colonMac } from '../lib/mac';

/** An event's details; each value in <bdi>, since some (a site, a token's name) are user text. */
function describeEvent(e: AuditEvent): ComponentChildren {
  const parts: ComponentChildren[] = [];
  if (e.from !== undefined) parts.push(`${e.from} → ${e.to}`);
  // tenant_updated, device_edited: `changed` names the fields, each with its value and previous<Field>
  const changed = typeof e.changed === 'string' && e.changed !== '' ? e.changed.split(',') : [];
  for (const f of changed) {
    const previous = e[`previous${f[0]!.toUpperCase()}${f.slice(1)}`];
    parts.push(
      <>
        {f}:{' '}
        {previous !== undefined && (
          <>
            <bdi>{previous === '' ? '–' : previous}</bdi> →{' '}
          </>
        )}
        <bdi>{e[f] === undefined || e[f] === '' ? '–' : e[f]}</bdi>
      </>,
    );
  }
  for (const k of [
    'scope',
    'name',
    'part',
    'set',
    'removed',
    'passwordsChanged',
    'network',
    'via',
    'reason',
    'outcome',
    'channel',
    'ip',
    'src',
    'client',
    'entry',
    'token',
    'site',
    'file',
    'userAgent',
    'seenModel',
    'rows',
    'count',
    'limit',
    'macs',
  ])
    if (e[k] !== undefined && e[k] !== '' && !changed.includes(k))
      parts.push(
        <>
          {k}: <bdi>{e[k]}</bdi>
        </>,
      );
  // settings_changed (after its part): a common setting's value before and after (items are named only: `set`, `removed`)
  if (e.before !== undefined || e.after !== undefined)
    parts.push(
      <>
        <bdi>{e.before === '' || e.before === undefined ? '–' : e.before}</bdi> →{' '}
        <bdi>{e.after === '' || e.after === undefined ? '–' : e.after}</bdi>
      </>,
    );
  // times in ms (traffic_limited, traffic_suppressed, mac_probe_limited)
  for (const k of ['since', 'until'])
    if (e[k] !== undefined && e[k] !== '') parts.push(<>{`${k}: ${formatTime(Number(e[k]))}`}</>);
  return parts.flatMap((p, i) => (i === 0 ? [p] : [' · ', p]));
}

export function EventTable(props: { events: AuditEvent[]; withMac: boolean; tenant: string }) {
  return (
    <table class="events">
      <thead>
        <tr>
          <th scope="col">{t('col.time')}</th>
          <th scope="col">{t('col.event')}</th>
          {props.withMac && <th scope="col">{t('col.mac')}</th>}
          <th scope="col">{t('col.details')}</th>
          <th scope="col">{t('col.actor')}</th>
        </tr>
      </thead>
      <tbody>
        {props.events.map((e) => (
          <tr>
            <td>{formatTime(e.ts)}</td>
            <td>{e.type}</td>
            {props.withMac && (
              <td class="mono">
                {e.mac ? (
                  <a href={href(`/t/${enc(props.tenant)}/devices/${e.mac}`)}>{colonMac(String(e.mac))}</a>
                ) : (
                  ''
                )}
              </td>
            )}
            <td>{describeEvent(e)}</td>
            <td>
              <bdi>{e.actor ?? ''}</bdi>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
