import type { Device } from '../api';
import { t } from '../i18n';

export function StateBadge(props: { state: Device['state'] }) {
  return <span class={`badge state-${props.state}`}>{t(`state.${props.state}`)}</span>;
}
