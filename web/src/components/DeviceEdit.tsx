import { useState } from 'preact/hooks';
import { api, ApiError, type Device } from '../api';
import { t, tn } from '../i18n';
import { formField } from '../lib/fields';
import { message } from '../lib/message';
import { Field } from './Field';
import { LanguageField } from './LanguageField';
import { Status } from './Status';

/**
 * The device's edit form (PATCH): site, model, language and its first account. The PAP and the
 * authentication state stay; a password left empty keeps the account's password (the API never
 * shows it), and the other accounts are sent back as read, so they keep theirs too.
 */
export function DeviceEdit(props: { device: Device; path: string; onSaved: () => void }) {
  const d = props.device;
  const first = d.accounts[0];
  const initial = {
    site: d.site,
    model: d.model,
    language: d.language ?? '',
    server: first?.server ?? '',
    user: first?.user ?? '',
    password: '',
    displayName: first?.displayName ?? '',
  };
  const [f, setF] = useState(initial);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [ok, setOk] = useState<string | null>(null);
  const set = (k: keyof typeof initial) => (e: { currentTarget: { value: string } }) =>
    setF({ ...f, [k]: e.currentTarget.value });
  /** The site the API has no record of, while "save anyway" is offered. */
  const [unknownSite, setUnknownSite] = useState<string | null>(null);
  const submit = async (e: Event, acceptSite = false) => {
    e.preventDefault();
    setErrors({});
    setOk(null);
    setUnknownSite(null);
    const account = f.server || f.user || f.password || f.displayName;
    try {
      await api<Device>('PATCH', `${props.path}${acceptSite ? '?unknownSite=accept' : ''}`, {
        site: f.site,
        model: f.model,
        language: f.language || null,
        ...(account || first
          ? {
              accounts: [
                ...(account
                  ? [
                      {
                        server: f.server,
                        user: f.user,
                        ...(first?.authUser ? { authUser: first.authUser } : {}),
                        ...(f.password ? { password: f.password } : {}),
                        ...(f.displayName ? { displayName: f.displayName } : {}),
                      },
                    ]
                  : []),
                ...d.accounts.slice(1),
              ],
            }
          : {}),
      });
      setF({ ...f, password: '' });
      setOk(t('edit.done'));
      props.onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'unknown_site') {
        setUnknownSite(f.site);
        setErrors({ site: tn('unknownSite', 1, { site: f.site }) });
        return;
      }
      setErrors({ [err instanceof ApiError ? formField(err.field, 'form') : 'form']: message(err) });
    }
  };
  const field = (k: keyof typeof initial, label: string, extra: Record<string, string> = {}) => (
    <Field id={`edit-${k}`} label={label} error={errors[k]}>
      {(a) => <input {...a} {...extra} value={f[k]} onInput={set(k)} />}
    </Field>
  );
  return (
    <details class="card">
      <summary>{t('edit.title')}</summary>
      <p class="muted">{t('edit.help')}</p>
      <form onSubmit={submit} class="grid-form" noValidate>
        {field('site', t('add.site'))}
        {field('model', t('add.model'))}
        <LanguageField
          id="edit-language"
          value={f.language}
          error={errors.language}
          onChange={set('language')}
        />
        <fieldset>
          <legend>{t('add.account')}</legend>
          {field('server', t('add.server'))}
          {field('user', t('add.user'))}
          {field('password', t('add.password'), { type: 'password', placeholder: t('edit.passwordKept') })}
          {field('displayName', t('add.displayName'))}
        </fieldset>
        <div class="buttons">
          <button type="submit" class="primary">
            {t('edit.submit')}
          </button>
          {unknownSite !== null && unknownSite === f.site && (
            <button type="button" onClick={(e) => submit(e, true)}>
              {t('edit.anyway')}
            </button>
          )}
        </div>
      </form>
      <Status ok={ok} error={errors.form ?? null} />
    </details>
  );
}
