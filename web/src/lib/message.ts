import { ApiError } from '../api';
import { t } from '../i18n';

/**
 * What the console says of an error: the API's message, except where it speaks the API's language
 * to a console user (a field path, "change it with PATCH"): then the console's words for the case.
 */
export function message(e: unknown): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e);
  if (e.code === 'tenant_exists') return t('apiError.tenant_exists');
  // "<field> is required" is shown beside the field it names
  if (e.field !== undefined && /^\S+ is required$/.test(e.message))
    return /^accounts\[\d+\]\.password$/.test(e.field)
      ? t('apiError.passwordRequired')
      : t('apiError.required');
  return e.message;
}
