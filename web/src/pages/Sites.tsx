import { useState } from 'preact/hooks';
import { api, ApiError, enc } from '../api';
import { confirm } from '../components/ConfirmDialog';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { Title } from '../components/Title';
import { formatNumber, t } from '../i18n';
import { allDevices } from '../lib/allDevices';
import { href } from '../lib/location';
import { message } from '../lib/message';
import { tx } from '../lib/tx';
import { useLoad } from '../lib/useLoad';

/** A site record as the API answers it (src/domain/site.ts). */
interface SiteRecord {
  readonly name: string;
  readonly emergencyCallerId: string;
  readonly civicAddress: Readonly<Record<string, string>> | null;
  readonly emergencyRoute: string | null;
  readonly sendLocation: boolean | null;
}

/** The civic address fields the form offers (RFC 5139 names; the API knows a few more). */
const ADDRESS = [
  ['country', 'sites.country'],
  ['A3', 'sites.city'],
  ['RD', 'sites.street'],
  ['HNO', 'sites.number'],
  ['PC', 'sites.postcode'],
  ['NAM', 'sites.building'],
  ['FLR', 'sites.floor'],
  ['ROOM', 'sites.room'],
] as const;

const EMPTY = { name: '', callerId: '', route: '', location: '', address: {} as Record<string, string> };
type Form = typeof EMPTY;

function toForm(s: SiteRecord): Form {
  return {
    name: s.name,
    callerId: s.emergencyCallerId,
    route: s.emergencyRoute ?? '',
    location: s.sendLocation === null ? '' : String(s.sendLocation),
    address: { ...(s.civicAddress ?? {}) },
  };
}

/** The API's field names, and the form's field each error is shown beside. */
const ERROR_FIELD: Record<string, string> = {
  site: 'name',
  name: 'name',
  emergencyCallerId: 'callerId',
  civicAddress: 'address',
  emergencyRoute: 'route',
  sendLocation: 'location',
};

/**
 * A tenant's site records (emergency caller ID, address, route), and the sites its devices name
 * without one: those phones' emergency calls go without the site's data (docs/admin.md#sites).
 */
export function Sites(props: { tenant: string }) {
  const base = `/tenants/${enc(props.tenant)}/sites`;
  const records = useLoad(() => api<{ sites: SiteRecord[] }>('GET', base), [base]);
  const missing = useLoad(() => allDevices(props.tenant, { siteRecord: 'missing' }), [props.tenant]);
  const [f, setF] = useState<Form>(EMPTY);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState('');
  const reload = () => {
    records.reload();
    missing.reload();
  };

  const save = async (e: Event) => {
    e.preventDefault();
    setSaved('');
    const address = Object.fromEntries(Object.entries(f.address).filter(([, v]) => v.trim() !== ''));
    try {
      await api('PUT', `${base}/${enc(f.name)}`, {
        emergencyCallerId: f.callerId,
        civicAddress: Object.keys(address).length === 0 ? null : address,
        emergencyRoute: f.route.trim() === '' ? null : f.route.trim(),
        sendLocation: f.location === '' ? null : f.location === 'true',
      });
      setErrors({});
      setSaved(t('sites.saved', { site: f.name }));
      setF(EMPTY);
      reload();
    } catch (err) {
      const field = err instanceof ApiError ? (ERROR_FIELD[err.field ?? ''] ?? 'form') : 'form';
      setErrors({ [field]: message(err) });
    }
  };

  const remove = async (name: string) => {
    if (!(await confirm(t('sites.confirmDelete', { site: name })))) return;
    await api('DELETE', `${base}/${enc(name)}`).catch((err: unknown) => setErrors({ form: message(err) }));
    reload();
  };

  const bySite = new Map<string, number>();
  for (const d of missing.data ?? []) bySite.set(d.site, (bySite.get(d.site) ?? 0) + 1);

  return (
    <>
      <Title>{t('sites.title')}</Title>
      <p>{t('sites.intro')}</p>
      <section class="card">
        <h2>{t('sites.missing')}</h2>
        <p class="muted">{t('sites.missingHelp')}</p>
        {!missing.data ? (
          <Loading error={missing.error} />
        ) : bySite.size === 0 ? (
          <p>{t('sites.missingNone')}</p>
        ) : (
          <ul class="entries missing-sites">
            {[...bySite]
              .sort(([a], [b]) => a.localeCompare(b))
              .map(([site, n]) => (
                <li>
                  <a href={href(`/t/${enc(props.tenant)}/devices?site=${enc(site)}`)}>
                    <bdi>{site}</bdi>
                  </a>{' '}
                  <span class="muted">({t('sites.devices', { count: formatNumber(n) })})</span>{' '}
                  <button type="button" class="small" onClick={() => setF({ ...EMPTY, name: site })}>
                    {tx('sites.addRecord', { site })}
                  </button>
                </li>
              ))}
          </ul>
        )}
      </section>
      <section class="card">
        <h2>{t('sites.records')}</h2>
        {!records.data ? (
          <Loading error={records.error} />
        ) : records.data.sites.length === 0 ? (
          <p>{t('sites.none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('col.site')}</th>
                <th scope="col">{t('sites.callerId')}</th>
                <th scope="col">{t('sites.address')}</th>
                <th scope="col">{t('sites.route')}</th>
                <th scope="col">{t('sites.location')}</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {records.data.sites.map((s) => (
                <tr>
                  <td>
                    <bdi>{s.name}</bdi>
                  </td>
                  <td class="mono">{s.emergencyCallerId}</td>
                  <td>
                    <bdi>{Object.values(s.civicAddress ?? {}).join(', ') || '–'}</bdi>
                  </td>
                  <td class="mono">{s.emergencyRoute ?? '–'}</td>
                  <td>
                    {s.sendLocation === null ? t('sites.locationDefault') : t(s.sendLocation ? 'yes' : 'no')}
                  </td>
                  <td class="buttons">
                    <button type="button" class="small" onClick={() => setF(toForm(s))}>
                      {tx('sites.edit', { site: s.name })}
                    </button>
                    <button type="button" class="small" onClick={() => remove(s.name)}>
                      {tx('sites.delete', { site: s.name })}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <form onSubmit={save}>
          <Field id="site-name" label={t('sites.name')} error={errors.name}>
            {(a) => (
              <input
                {...a}
                required
                value={f.name}
                onInput={(e) => setF({ ...f, name: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field id="site-caller-id" label={t('sites.callerId')} error={errors.callerId}>
            {(a) => (
              <input
                {...a}
                required
                value={f.callerId}
                placeholder="+493012345678"
                onInput={(e) => setF({ ...f, callerId: e.currentTarget.value })}
              />
            )}
          </Field>
          <fieldset>
            <legend>{t('sites.address')}</legend>
            {errors.address && (
              <p class="field-error" id="site-address-error">
                {errors.address}
              </p>
            )}
            {ADDRESS.map(([k, label]) => (
              <Field id={`site-${k}`} label={t(label)}>
                {(a) => (
                  <input
                    {...a}
                    {...(errors.address ? { 'aria-describedby': 'site-address-error' } : {})}
                    value={f.address[k] ?? ''}
                    onInput={(e) => setF({ ...f, address: { ...f.address, [k]: e.currentTarget.value } })}
                  />
                )}
              </Field>
            ))}
          </fieldset>
          <Field id="site-route" label={t('sites.route')} error={errors.route}>
            {(a) => (
              <input
                {...a}
                value={f.route}
                placeholder="sip:psap.example.net"
                onInput={(e) => setF({ ...f, route: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field id="site-location" label={t('sites.location')} error={errors.location}>
            {(a) => (
              <select
                {...a}
                value={f.location}
                onChange={(e) => setF({ ...f, location: e.currentTarget.value })}
              >
                <option value="">{t('sites.locationDefault')}</option>
                <option value="true">{t('yes')}</option>
                <option value="false">{t('no')}</option>
              </select>
            )}
          </Field>
          {errors.form && <p class="field-error">{errors.form}</p>}
          <button type="submit" class="primary">
            {t('sites.save')}
          </button>
          {saved && <p role="status">{saved}</p>}
        </form>
      </section>
    </>
  );
}
