import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, enc } from '../api';
import { COMMON_FIELDS, type CommonField } from '../../../src/domain/setting-layers';
import { SETTING_FAMILIES, SETTINGS_FORMATS, type SettingFamily } from '../../../src/domain/setting-formats';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { Title } from '../components/Title';
import { t } from '../i18n';
import { go, href } from '../lib/location';
import { message } from '../lib/message';
import { useLoad } from '../lib/useLoad';

interface Item {
  name: string;
  value: string;
}
interface Layer {
  items: Partial<Record<SettingFamily, Item[]>>;
  common: Partial<Record<CommonField, string>>;
}

/** The families that take items (Patton's CLI script takes none). */
const FAMILIES = SETTING_FAMILIES.filter((f) => SETTINGS_FORMATS[f] !== null);

/**
 * A settings layer (docs/settings.md): the tenant's, a site's (`?site=`) or a device's (`?mac=`),
 * its items per vendor family and (tenant, site) its common settings. An item the API refuses is
 * marked where it stands: the error's field names it (`items.yealink.3.value`).
 */
export function Settings(props: { tenant: string; site: string | null; mac: string | null }) {
  const { tenant, site, mac } = props;
  const path = `/tenants/${enc(tenant)}${site !== null ? `/sites/${enc(site)}` : ''}${mac !== null ? `/devices/${enc(mac)}` : ''}/settings`;
  const loaded = useLoad(() => api<Layer>('GET', path), [path]);
  // The layer being edited, with the path it was loaded from: another layer's form (the page
  // before a site was opened) is never shown under this one's heading, where what is typed would
  // be overwritten when this one arrives.
  const [edited, setEdited] = useState<{ path: string; layer: Layer } | null>(null);
  const layer = edited?.path === path ? edited.layer : null;
  const setLayer = (l: Layer) => setEdited({ path, layer: l });
  /** Families shown, those loaded and those added; a family removed is saved as an empty list. */
  const [shown, setShown] = useState<SettingFamily[]>([]);
  const [checkSync, setCheckSync] = useState(false);
  const [error, setError] = useState<{ field: string; message: string } | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [adding, setAdding] = useState<SettingFamily>(FAMILIES[0]!);
  const [target, setTarget] = useState({ site: site ?? '', mac: mac ?? '' });
  useEffect(() => {
    if (!loaded.data) return;
    setLayer(loaded.data);
    setShown(FAMILIES.filter((f) => loaded.data!.items[f] !== undefined));
    setError(null);
  }, [loaded.data]);

  if (!layer) return <Loading error={loaded.error} />;
  const takesCommon = mac === null;
  const errorAt = (field: string) => (error?.field === field ? error.message : undefined);
  const setItems = (family: SettingFamily, items: Item[]) =>
    setLayer({ ...layer, items: { ...layer.items, [family]: items } });

  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(null);
    try {
      const items = Object.fromEntries(
        FAMILIES.map((f) => [f, shown.includes(f) ? (layer.items[f] ?? []) : []]),
      );
      const common = Object.fromEntries(COMMON_FIELDS.map((f) => [f, layer.common[f] || null]));
      const r = await api<Layer & { checkSync?: Record<string, number> | null }>('PUT', path, {
        items,
        ...(takesCommon ? { common } : {}),
        ...(checkSync ? { checkSync: true } : {}),
      });
      setError(null);
      setSaved(
        r.checkSync === undefined
          ? t('settings.saved')
          : r.checkSync === null
            ? t('settings.savedNoSip')
            : t('settings.savedCheckSync', {
                counts: Object.entries(r.checkSync)
                  .map(([k, n]) => `${k}: ${n}`)
                  .join(', '),
              }),
      );
      loaded.reload();
    } catch (err) {
      setError({ field: err instanceof ApiError ? (err.field ?? '') : '', message: message(err) });
    }
  };

  const open = (e: Event) => {
    e.preventDefault();
    go(
      href(`/t/${enc(tenant)}/settings`, {
        site: target.site || undefined,
        mac: target.site ? undefined : target.mac || undefined,
      }),
    );
  };

  return (
    <>
      <Title>{t('settings.title')}</Title>
      <section class="card">
        <p class="muted">{t('settings.help')}</p>
        <form onSubmit={open} class="inline-form">
          <Field id="settings-site" label={t('col.site')}>
            {(a) => (
              <input
                {...a}
                value={target.site}
                onInput={(e) => setTarget({ ...target, site: e.currentTarget.value })}
              />
            )}
          </Field>
          <Field id="settings-mac" label="MAC">
            {(a) => (
              <input
                {...a}
                value={target.mac}
                onInput={(e) => setTarget({ ...target, mac: e.currentTarget.value })}
              />
            )}
          </Field>
          <button type="submit">{t('settings.open')}</button>
        </form>
        <h2>
          {site !== null ? (
            <>
              {t('settings.ofSite')} <bdi>{site}</bdi>
            </>
          ) : mac !== null ? (
            <>
              {t('settings.ofDevice')} <span class="mono">{mac}</span>
            </>
          ) : (
            t('settings.ofTenant')
          )}
        </h2>
      </section>
      <form onSubmit={save}>
        {takesCommon && (
          <section class="card">
            <h2>{t('settings.common')}</h2>
            {COMMON_FIELDS.map((f) => (
              <Field id={`settings-${f}`} label={t(`settings.${f}`)} error={errorAt(`common.${f}`)}>
                {(a) => (
                  <input
                    {...a}
                    value={layer.common[f] ?? ''}
                    onInput={(e) =>
                      setLayer({ ...layer, common: { ...layer.common, [f]: e.currentTarget.value } })
                    }
                  />
                )}
              </Field>
            ))}
          </section>
        )}
        {shown.map((family) => {
          const items = layer.items[family] ?? [];
          return (
            <section class="card">
              <h2>{family}</h2>
              <p class="muted">{SETTINGS_FORMATS[family]!.nameForm}</p>
              {errorAt(`items.${family}`) && <p class="field-error">{errorAt(`items.${family}`)}</p>}
              <table>
                <tbody>
                  {items.map((item, i) => (
                    <tr>
                      <td>
                        <Field
                          id={`${family}-${i}-name`}
                          label={t('settings.name')}
                          error={errorAt(`items.${family}.${i}.name`)}
                        >
                          {(a) => (
                            <input
                              {...a}
                              class="mono"
                              value={item.name}
                              onInput={(e) =>
                                setItems(
                                  family,
                                  items.map((x, j) => (j === i ? { ...x, name: e.currentTarget.value } : x)),
                                )
                              }
                            />
                          )}
                        </Field>
                      </td>
                      <td>
                        <Field
                          id={`${family}-${i}-value`}
                          label={t('settings.value')}
                          error={errorAt(`items.${family}.${i}.value`)}
                        >
                          {(a) => (
                            <input
                              {...a}
                              class="mono"
                              value={item.value}
                              onInput={(e) =>
                                setItems(
                                  family,
                                  items.map((x, j) => (j === i ? { ...x, value: e.currentTarget.value } : x)),
                                )
                              }
                            />
                          )}
                        </Field>
                      </td>
                      <td>
                        <button
                          type="button"
                          class="small"
                          onClick={() =>
                            setItems(
                              family,
                              items.filter((_, j) => j !== i),
                            )
                          }
                        >
                          {t('settings.removeItem', { name: item.name })}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button type="button" onClick={() => setItems(family, [...items, { name: '', value: '' }])}>
                {t('settings.addItem')}
              </button>{' '}
              <button type="button" class="small" onClick={() => setShown(shown.filter((f) => f !== family))}>
                {t('settings.removeFamily', { family })}
              </button>
            </section>
          );
        })}
        <section class="card">
          <div class="inline-form">
            <Field id="settings-family" label={t('settings.family')}>
              {(a) => (
                <select
                  {...a}
                  value={adding}
                  onChange={(e) => setAdding(e.currentTarget.value as SettingFamily)}
                >
                  {FAMILIES.filter((f) => !shown.includes(f)).map((f) => (
                    <option value={f}>{f}</option>
                  ))}
                </select>
              )}
            </Field>
            <button
              type="button"
              disabled={shown.includes(adding)}
              onClick={() => {
                setShown([...shown, adding]);
                setAdding(FAMILIES.find((f) => f !== adding && !shown.includes(f)) ?? adding);
              }}
            >
              {t('settings.addFamily')}
            </button>
          </div>
          <label>
            <input
              type="checkbox"
              checked={checkSync}
              onChange={(e) => setCheckSync(e.currentTarget.checked)}
            />{' '}
            {t('settings.checkSync')}
          </label>
          {error && error.field === '' && <p class="field-error">{error.message}</p>}
          {saved && <p role="status">{saved}</p>}
          <button type="submit" class="primary">
            {t('settings.save')}
          </button>
        </section>
      </form>
    </>
  );
}
