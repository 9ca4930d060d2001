import { LANGUAGES } from '../../../src/domain/device';
import { t } from '../i18n';
import { Field } from './Field';

/** A device's phone language: one of LANGUAGES, or '' for the tenant's. */
export function LanguageField(props: {
  id: string;
  value: string;
  error?: string | undefined;
  onChange: (e: { currentTarget: { value: string } }) => void;
}) {
  return (
    <Field id={props.id} label={t('add.language')} error={props.error}>
      {(a) => (
        <select {...a} value={props.value} onChange={props.onChange}>
          <option value="">{t('add.language.tenant')}</option>
          {LANGUAGES.map((l) => (
            <option value={l}>{l}</option>
          ))}
        </select>
      )}
    </Field>
  );
}
