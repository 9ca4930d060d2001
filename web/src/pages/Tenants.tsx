import { useState } from 'preact/hooks';
import { LANGUAGES } from '../../../src/domain/device';
import { api, ApiError, enc, type Tenant } from '../api';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { Title } from '../components/Title';
import { t } from '../i18n';
import { go, href } from '../lib/location';
import { message } from '../lib/message';
import { useLoad } from '../lib/useLoad';

export function Tenants() {
  const list = useLoad(() => api<{ tenants: Tenant[] }>('GET', '/tenants'), []);
  const [form, setForm] = useState({ id: '', name: '', language: '', timeZone: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    try {
      // POST creates only: an existing id is refused (409 tenant_exists), never overwritten.
      await api('POST', '/tenants', {
        id: form.id,
        name: form.name || form.id,
        ...(form.language ? { language: form.language } : {}),
        ...(form.timeZone.trim() ? { timeZone: form.timeZone.trim() } : {}),
      });
      go(href(`/t/${enc(form.id)}/devices`));
    } catch (err) {
      setErrors({ [err instanceof ApiError && err.field ? err.field : 'tenant']: message(err) });
    }
  };
  return (
    <>
      <Title>{t('tenants.title')}</Title>
      {!list.data ? (
        <Loading error={list.error} />
      ) : list.data.tenants.length === 0 ? (
        <p>{t('tenants.none')}</p>
      ) : (
        <ul class="tenant-list">
          {list.data.tenants.map((x) => (
            <li>
              <a href={href(`/t/${enc(x.id)}/overview`)}>
                <bdi>{x.name}</bdi>
              </a>{' '}
              <code>{x.id}</code>
            </li>
          ))}
        </ul>
      )}
      <form class="card inline-form" onSubmit={submit}>
        <h2>{t('tenants.create')}</h2>
        <Field id="tenant-id" label={t('tenants.id')} error={errors.tenant}>
          {(a) => (
            <input
              {...a}
              required
              value={form.id}
              onInput={(e) => setForm({ ...form, id: e.currentTarget.value })}
            />
          )}
        </Field>
        <Field id="tenant-name" label={t('tenants.name')} error={errors.name}>
          {(a) => (
            <input
              {...a}
              value={form.name}
              onInput={(e) => setForm({ ...form, name: e.currentTarget.value })}
            />
          )}
        </Field>
        <Field id="tenant-language" label={t('tenants.language')} error={errors.language}>
          {(a) => (
            <select
              {...a}
              value={form.language}
              onChange={(e) => setForm({ ...form, language: e.currentTarget.value })}
            >
              <option value="">–</option>
              {LANGUAGES.map((l) => (
                <option value={l}>{l}</option>
              ))}
            </select>
          )}
        </Field>
        <Field id="tenant-timezone" label={t('tenants.timeZone')} error={errors.timeZone}>
          {(a) => (
            <input
              {...a}
              value={form.timeZone}
              placeholder="Europe/Berlin"
              onInput={(e) => setForm({ ...form, timeZone: e.currentTarget.value })}
            />
          )}
        </Field>
        <button type="submit" class="primary">
          {t('tenants.create')}
        </button>
      </form>
    </>
  );
}
