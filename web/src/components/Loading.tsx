import { t } from '../i18n';
import { tx } from '../lib/tx';

export function Loading(props: { error: Error | null }) {
  if (props.error)
    return (
      <p class="error" role="alert">
        {tx('error.generic', { message: props.error.message })}
      </p>
    );
  return <p aria-busy="true">{t('loading')}</p>;
}
