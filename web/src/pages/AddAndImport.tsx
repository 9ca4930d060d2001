import { useState } from 'preact/hooks';
import { VENDORS } from '../../../src/domain/device';
import { api, ApiError, apiText, enc, type CsvRowError, type Device } from '../api';
import { Field } from '../components/Field';
import { LanguageField } from '../components/LanguageField';
import { Status } from '../components/Status';
import { Title } from '../components/Title';
import { t, tn } from '../i18n';
import { downloadText } from '../lib/download';
import { formField } from '../lib/fields';
import { colonMac } from '../lib/mac';
import { message } from '../lib/message';

const EMPTY_DEVICE = {
  mac: '',
  vendor: 'yealink',
  model: '',
  site: '',
  language: '',
  server: '',
  user: '',
  password: '',
  displayName: '',
};

export function AddAndImport(props: { tenant: string }) {
  const { tenant } = props;
  const [f, setF] = useState(EMPTY_DEVICE);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [added, setAdded] = useState<string | null>(null);
  const set = (k: keyof typeof EMPTY_DEVICE) => (e: { currentTarget: { value: string } }) =>
    setF({ ...f, [k]: e.currentTarget.value });

  /** The site the API has no record of, while "add anyway" is offered. */
  const [unknownSite, setUnknownSite] = useState<string | null>(null);
  const add = async (e: Event, acceptSite = false) => {
    e.preventDefault();
    setErrors({});
    setAdded(null);
    setUnknownSite(null);
    try {
      const accept = acceptSite ? '?unknownSite=accept' : '';
      const d = await api<Device>('POST', `/tenants/${enc(tenant)}/devices${accept}`, {
        mac: f.mac,
        vendor: f.vendor,
        model: f.model,
        site: f.site,
        ...(f.language ? { language: f.language } : {}),
        ...(f.server || f.user || f.password
          ? {
              accounts: [
                {
                  server: f.server,
                  user: f.user,
                  password: f.password,
                  ...(f.displayName ? { displayName: f.displayName } : {}),
                },
              ],
            }
          : {}),
      });
      setF({ ...EMPTY_DEVICE, vendor: f.vendor, model: f.model, site: f.site });
      setAdded(t('add.done', { mac: colonMac(d.mac), pap: d.pap ?? '' }));
    } catch (err) {
      if (err instanceof ApiError && err.code === 'unknown_site') {
        setUnknownSite(f.site);
        setErrors({ site: tn('unknownSite', 1, { site: f.site }) });
        return;
      }
      const field =
        err instanceof ApiError
          ? err.code === 'duplicate_mac' || err.code === 'mac_registered_elsewhere'
            ? 'mac'
            : formField(err.field, 'form')
          : 'form';
      setErrors({ [field]: message(err) });
    }
  };

  const [csv, setCsv] = useState('');
  const [update, setUpdate] = useState(false);
  const [importResult, setImportResult] = useState<{
    ok?: string;
    error?: string;
    rows?: readonly CsvRowError[];
    /** Only sites without a record are wrong: "import anyway" is offered. */
    unknownSites?: boolean;
  }>({});
  const doImport = async (e: Event, acceptSites = false) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (update) p.set('mode', 'update');
    if (acceptSites) p.set('unknownSite', 'accept');
    try {
      const r = await api<{ created: number; updated: number }>(
        'POST',
        `/tenants/${enc(tenant)}/devices.csv${p.size ? `?${p}` : ''}`,
        csv,
      );
      setImportResult({
        ok: [tn('import.done', r.created), ...(update ? [tn('import.updated', r.updated)] : [])].join(' '),
      });
      setCsv('');
    } catch (err) {
      const rows = err instanceof ApiError ? err.rows : undefined;
      // Every bad row a site without a record: the same file goes in with ?unknownSite=accept.
      const sites =
        rows && rows.length > 0 && rows.every((r) => r.unknownSite !== undefined)
          ? [...new Set(rows.map((r) => r.unknownSite!))]
          : [];
      setImportResult({
        error: [
          rows
            ? tn('import.failedRows', (err as ApiError).badRows ?? rows.length)
            : t('import.failed', { message: message(err) }),
          ...(sites.length > 0 ? [tn('unknownSite', sites.length, { site: sites.join(', ') })] : []),
        ].join(' '),
        ...(rows ? { rows } : {}),
        unknownSites: sites.length > 0,
      });
    }
  };
  const lines = csv.split(/\r\n|\n|\r/);

  const exportCsv = async (needed: boolean) => {
    const text = await apiText(`/tenants/${enc(tenant)}/devices.csv${needed ? '?state=needed' : ''}`);
    downloadText(`${tenant}-devices${needed ? '-needed' : ''}.csv`, text, 'text/csv');
  };

  const field = (k: keyof typeof EMPTY_DEVICE, label: string, required = false) => (
    <Field id={`add-${k}`} label={label} error={errors[k]}>
      {(a) => <input {...a} required={required} value={f[k]} onInput={set(k)} />}
    </Field>
  );

  return (
    <>
      <Title>{t('nav.add')}</Title>
      <section class="card">
        <h2>{t('add.title')}</h2>
        <form onSubmit={add} class="grid-form" noValidate>
          {field('mac', t('add.mac'), true)}
          <Field id="add-vendor" label={t('add.vendor')} error={errors.vendor}>
            {(a) => (
              <select {...a} value={f.vendor} onChange={set('vendor')}>
                {VENDORS.map((v) => (
                  <option value={v}>{v}</option>
                ))}
              </select>
            )}
          </Field>
          {field('model', t('add.model'), true)}
          {field('site', t('add.site'), true)}
          <LanguageField
            id="add-language"
            value={f.language}
            error={errors.language}
            onChange={set('language')}
          />
          <fieldset>
            <legend>{t('add.account')}</legend>
            {field('server', t('add.server'))}
            {field('user', t('add.user'))}
            {field('password', t('add.password'))}
            {field('displayName', t('add.displayName'))}
          </fieldset>
          <div class="buttons">
            <button type="submit" class="primary">
              {t('add.submit')}
            </button>
            {unknownSite !== null && unknownSite === f.site && (
              <button type="button" onClick={(e) => add(e, true)}>
                {t('add.anyway')}
              </button>
            )}
          </div>
        </form>
        <Status ok={added} error={errors.form ?? null} />
      </section>

      <section class="card">
        <h2>{t('import.title')}</h2>
        <p class="muted">{t('import.help')}</p>
        <form onSubmit={doImport}>
          <div class="field">
            <label for="import-file">{t('import.file')}</label>
            <input
              id="import-file"
              type="file"
              accept=".csv,text/csv"
              onChange={async (e) => {
                const input = e.currentTarget;
                const file = input.files?.[0];
                if (!file) return;
                setCsv(await file.text());
                // Choosing the same file again (edited since) must read it again: an input whose
                // value did not change fires no change event, so it is emptied once read.
                input.value = '';
              }}
            />
          </div>
          <div class="field">
            <label for="import-text">{t('import.text')}</label>
            <textarea
              id="import-text"
              rows={6}
              value={csv}
              onInput={(e) => setCsv(e.currentTarget.value)}
              spellcheck={false}
            />
          </div>
          <label class="check">
            <input
              id="import-update"
              type="checkbox"
              checked={update}
              onChange={(e) => setUpdate(e.currentTarget.checked)}
            />{' '}
            {t('import.update')}
          </label>
          <div class="buttons">
            <button type="submit" class="primary" disabled={csv.trim() === ''}>
              {t('import.submit')}
            </button>
            {importResult.unknownSites && csv.trim() !== '' && (
              <button type="button" onClick={(e) => doImport(e, true)}>
                {t('import.anyway')}
              </button>
            )}
          </div>
        </form>
        <Status ok={importResult.ok ?? null} error={importResult.error ?? null} />
        {importResult.rows && (
          <table class="import-errors">
            <thead>
              <tr>
                <th scope="col">{t('import.line')}</th>
                <th scope="col">{t('import.row')}</th>
                <th scope="col">{t('import.column')}</th>
                <th scope="col">{t('import.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {importResult.rows.map((r) => (
                <tr>
                  <td>{r.line}</td>
                  <td class="mono">{lines[r.line - 1] ?? ''}</td>
                  <td class="mono">{r.column ?? ''}</td>
                  <td class="error">
                    {r.unknownSite === undefined
                      ? r.reason
                      : t('import.noSiteRecord', { site: r.unknownSite })}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section class="card">
        <h2>{t('export.title')}</h2>
        <div class="buttons">
          <button type="button" onClick={() => exportCsv(false)}>
            {t('export.all')}
          </button>
          <button type="button" onClick={() => exportCsv(true)}>
            {t('export.needed')}
          </button>
        </div>
      </section>
    </>
  );
}
