import type { Device } from '../api';
import { formatTime, t } from '../i18n';

/**
 * An authenticated device marked as needing reset (a request without its credential from where a
 * challenge went unanswered: a factory-reset phone, or a stranger behind its address): the badge,
 * and when and from where that last happened.
 */
export function NeedsReset(props: { needsReset: Device['needsReset'] }) {
  const n = props.needsReset;
  if (!n) return null;
  return (
    <>
      {' '}
      <span class="badge needs-reset" title={t('device.needsReset.help')}>
        {t('device.needsReset')}
      </span>{' '}
      <span class="muted">
        {formatTime(n.at)} · {n.ip}
      </span>
    </>
  );
}
