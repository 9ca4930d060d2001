import type { Device } from '../api';
import { t, type Lang } from '../i18n';

/** The badge of a device whose PAP outlived PAP_LIFETIME_DAYS: only a reset helps. */
export function PapExpired(props: { device: Pick<Device, 'papExpired'>; lang?: Lang }) {
  if (!props.device.papExpired) return null;
  return (
    <>
      {' '}
      <span class="badge needs-reset" title={t('device.papExpired.help', {}, props.lang)}>
        {t('device.papExpired', {}, props.lang)}
      </span>
    </>
  );
}
