import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { AUTH_STATES } from '../../src/domain/auth';
import { LANGUAGES, VENDORS } from '../../src/domain/device';
import {
  api,
  ApiError,
  apiText,
  enc,
  session,
  whenUnauthorized,
  type AuditEvent,
  type CsvRowError,
  type Device,
  type DevicePage,
  type Session,
  type Tenant,
  type TokenInfo,
} from './api';
import { chosenLang, formatNumber, formatTime, lang, setLang, t } from './i18n';
import { allDevices } from './lib/allDevices';
import { downloadText } from './lib/download';
import { go, href, route } from './lib/location';
import { colonMac } from './lib/mac';
import { message } from './lib/message';
import { PAGE_SIZE } from './lib/paging';
import { tx } from './lib/tx';
import { useLoad } from './lib/useLoad';
import { ConfirmDialog, confirm } from './components/ConfirmDialog';
import { EventTable } from './components/EventTable';
import { Field } from './components/Field';
import { LangSwitch } from './components/LangSwitch';
import { Loading } from './components/Loading';
import { QrCode } from './components/QrCode';
import { StateBadge } from './components/StateBadge';
import { Status } from './components/Status';
import { Title } from './components/Title';
import './app.css';

// ---- sign-in ---------------------------------------------------------------------------------------

function SignIn(props: { onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api<Session>('GET', '/session', undefined, token.trim());
      session.signIn(token.trim());
      props.onSignedIn();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? t('signin.wrong') : message(err));
    }
  };
  return (
    <main class="signin">
      <form onSubmit={submit} class="card">
        <Title>{t('app.title')}</Title>
        <h2>{t('signin.title')}</h2>
        <p>{t('signin.intro')}</p>
        <Field id="token" label={t('signin.token')} error={error ?? undefined}>
          {(a) => (
            <input
              {...a}
              type="password"
              autoComplete="off"
              required
              value={token}
              onInput={(e) => setToken(e.currentTarget.value)}
            />
          )}
        </Field>
        <button type="submit" class="primary">
          {t('signin.submit')}
        </button>
        <LangSwitch />
      </form>
    </main>
  );
}

// ---- the signed-in shell ---------------------------------------------------------------------------

const TENANT_PAGES = [
  ['devices', 'nav.devices'],
  ['add', 'nav.add'],
  ['whitelist', 'nav.whitelist'],
  ['audit', 'nav.audit'],
  ['sheets', 'nav.sheets'],
  ['tokens', 'nav.tokens'],
] as const;

function Shell(props: { me: Session; onSignOut: () => void }) {
  const r = route.use();
  lang.use();
  const { me } = props;
  const [first, tenant, page = 'devices', ...rest] = r.parts;
  // A tenant token has one tenant: its start page is that tenant's devices.
  useEffect(() => {
    if (first !== 't' && me.role === 'tenant') go(href(`/t/${enc(me.tenant!)}/devices`));
  }, [first]);
  const inTenant = first === 't' && tenant !== undefined;
  const tenantInfo = useLoad(
    () => (inTenant ? api<Tenant>('GET', `/tenants/${enc(tenant)}`) : Promise.resolve(null)),
    [inTenant ? tenant : null],
  );
  useEffect(() => {
    const tl = tenantInfo.data?.language;
    if (tl && !chosenLang()) setLang(tl, false);
  }, [tenantInfo.data]);
  const print = inTenant && page === 'sheet';

  return (
    <>
      <header class={print ? 'no-print' : ''}>
        <a class="brand" href={me.role === 'operator' ? '#/' : href(`/t/${enc(me.tenant!)}/devices`)}>
          papgate
        </a>
        {inTenant && <bdi class="tenant-name">{tenantInfo.data?.name ?? tenant}</bdi>}
        <nav aria-label={t('nav.main')}>
          {me.role === 'operator' && (
            <a href="#/" aria-current={!inTenant ? 'page' : undefined}>
              {t('nav.tenants')}
            </a>
          )}
          {inTenant &&
            TENANT_PAGES.map(([p, key]) => (
              <a
                href={href(`/t/${enc(tenant)}/${p}`)}
                aria-current={page === p || (p === 'sheets' && page === 'sheet') ? 'page' : undefined}
              >
                {t(key)}
              </a>
            ))}
        </nav>
        <span class="who">
          {me.role === 'operator' ? t('signedin.operator') : tx('signedin.tenant', { name: me.token! })}
        </span>
        <LangSwitch />
        <button type="button" onClick={props.onSignOut}>
          {t('signout')}
        </button>
      </header>
      <main id="main">
        {!inTenant ? (
          me.role === 'operator' ? (
            <Tenants />
          ) : null
        ) : (
          <TenantPage
            tenant={tenant}
            tenantName={tenantInfo.data?.name ?? tenant}
            page={page}
            rest={rest}
            query={r.query}
          />
        )}
      </main>
      <ConfirmDialog />
    </>
  );
}

function TenantPage(props: {
  tenant: string;
  tenantName: string;
  page: string;
  rest: string[];
  query: URLSearchParams;
}) {
  const { tenant, page, rest, query } = props;
  switch (page) {
    case 'devices':
      return rest[0] ? (
        <DevicePage tenant={tenant} mac={rest[0]} />
      ) : (
        <Devices tenant={tenant} query={query} />
      );
    case 'add':
      return <AddAndImport tenant={tenant} />;
    case 'whitelist':
      return <Whitelist tenant={tenant} />;
    case 'audit':
      return (
        <Audit
          tenant={tenant}
          traffic={query.get('stream') === 'traffic'}
          before={query.get('before') ?? undefined}
        />
      );
    case 'sheets':
      return <Sheets tenant={tenant} />;
    case 'sheet':
      return <Sheet tenant={tenant} tenantName={props.tenantName} site={rest[0] ?? ''} />;
    case 'tokens':
      return <Tokens tenant={tenant} />;
    default:
      return <Loading error={new Error(`no page "${page}"`)} />;
  }
}

// ---- tenants (operator) ---------------------------------------------------------------------------

function Tenants() {
  const list = useLoad(() => api<{ tenants: Tenant[] }>('GET', '/tenants'), []);
  const [form, setForm] = useState({ id: '', name: '', language: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api('PUT', `/tenants/${enc(form.id)}`, {
        name: form.name || form.id,
        ...(form.language ? { language: form.language } : {}),
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
              <a href={href(`/t/${enc(x.id)}/devices`)}>
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
        <button type="submit" class="primary">
          {t('tenants.create')}
        </button>
      </form>
    </>
  );
}

// ---- devices ----------------------------------------------------------------------------------------

function Devices(props: { tenant: string; query: URLSearchParams }) {
  const { tenant, query } = props;
  const state = query.get('state') ?? '';
  const site = query.get('site') ?? '';
  const q = query.get('q') ?? '';
  const page = Math.max(0, Number(query.get('page') ?? 0) || 0);
  const [search, setSearch] = useState(q);
  const base = `/t/${enc(tenant)}/devices`;
  const list = useLoad(() => {
    const p = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(page * PAGE_SIZE) });
    if (state) p.set('state', state);
    if (site) p.set('site', site);
    if (q) p.set('q', q);
    return api<DevicePage>('GET', `/tenants/${enc(tenant)}/devices?${p}`);
  }, [tenant, state, site, q, page]);
  const nav = (change: Record<string, string | number | undefined>) =>
    go(href(base, { state, site, q, ...change, page: change.page ?? undefined }));
  // Searching as one types, once typing pauses.
  useEffect(() => {
    if (search === q) return;
    const timer = setTimeout(() => nav({ q: search }), 300);
    return () => clearTimeout(timer);
  }, [search]);

  const data = list.data;
  return (
    <>
      <Title>{t('devices.title')}</Title>
      <form class="filters" role="search" onSubmit={(e) => (e.preventDefault(), nav({ q: search }))}>
        <Field id="filter-q" label={t('devices.search')}>
          {(a) => (
            <input
              {...a}
              type="search"
              value={search}
              placeholder="00:15:65…"
              onInput={(e) => setSearch(e.currentTarget.value)}
            />
          )}
        </Field>
        <Field id="filter-state" label={t('devices.filter.state')}>
          {(a) => (
            <select {...a} value={state} onChange={(e) => nav({ state: e.currentTarget.value })}>
              <option value="">{t('state.all')}</option>
              {AUTH_STATES.map((s) => (
                <option value={s}>
                  {t(`state.${s}`)}
                  {data ? ` (${formatNumber(data.stateCounts[s] ?? 0)})` : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id="filter-site" label={t('devices.filter.site')}>
          {(a) => (
            <select {...a} value={site} onChange={(e) => nav({ site: e.currentTarget.value })}>
              <option value="">{t('site.all')}</option>
              {(data?.sites ?? (site ? [site] : [])).map((s) => (
                <option value={s}>{s}</option>
              ))}
            </select>
          )}
        </Field>
      </form>
      {list.error && list.error instanceof ApiError && list.error.field ? (
        <Status error={list.error.message} />
      ) : !data ? (
        <Loading error={list.error} />
      ) : (
        <>
          <table class="devices">
            <thead>
              <tr>
                <th scope="col">{t('col.mac')}</th>
                <th scope="col">{t('col.state')}</th>
                <th scope="col">{t('col.site')}</th>
                <th scope="col">{t('col.model')}</th>
                <th scope="col">{t('col.lastprov')}</th>
                <th scope="col">{t('col.pap')}</th>
              </tr>
            </thead>
            <tbody>
              {data.devices.map((d) => (
                <tr>
                  <td>
                    <a href={href(`${base}/${d.mac}`)} class="mono">
                      {colonMac(d.mac)}
                    </a>
                  </td>
                  <td>
                    <StateBadge state={d.state} />
                  </td>
                  <td>
                    <bdi>{d.site}</bdi>
                  </td>
                  <td>
                    {d.vendor} <bdi>{d.model}</bdi>
                  </td>
                  <td>
                    {d.lastProvisioning ? (
                      <>
                        {formatTime(d.lastProvisioning.at)} <span class="muted">{d.lastProvisioning.ip}</span>
                      </>
                    ) : (
                      <span class="muted">{t('never')}</span>
                    )}
                  </td>
                  <td class="mono pap">{d.pap ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.devices.length === 0 && <p>{t('devices.none')}</p>}
          <div class="pager">
            <span aria-live="polite">
              {t('devices.range', {
                from: formatNumber(data.total === 0 ? 0 : data.offset + 1),
                to: formatNumber(data.offset + data.devices.length),
                total: formatNumber(data.total),
              })}
            </span>
            <button type="button" disabled={page === 0} onClick={() => nav({ page: page - 1 || undefined })}>
              {t('devices.prev')}
            </button>
            <button
              type="button"
              disabled={data.offset + data.devices.length >= data.total}
              onClick={() => nav({ page: page + 1 })}
            >
              {t('devices.next')}
            </button>
          </div>
        </>
      )}
    </>
  );
}

function DevicePage(props: { tenant: string; mac: string }) {
  const { tenant, mac } = props;
  const path = `/tenants/${enc(tenant)}/devices/${enc(mac)}`;
  const dev = useLoad(() => api<Device>('GET', path), [path]);
  const history = useLoad(
    () => api<{ events: AuditEvent[] }>('GET', `/tenants/${enc(tenant)}/events?count=100&mac=${enc(mac)}`),
    [path],
  );
  const traffic = useLoad(
    () =>
      api<{ events: AuditEvent[] }>(
        'GET',
        `/tenants/${enc(tenant)}/events?stream=traffic&count=20&mac=${enc(mac)}`,
      ),
    [path],
  );
  const [status, setStatus] = useState<{ ok?: string | null; error?: string | null }>({});
  const act = async (f: () => Promise<string | null>) => {
    try {
      setStatus({ ok: await f() });
      dev.reload();
      history.reload();
      traffic.reload();
    } catch (err) {
      setStatus({ error: message(err) });
    }
  };
  const d = dev.data;
  if (!d) return <Loading error={dev.error} />;
  const pretty = colonMac(d.mac);
  return (
    <>
      <p>
        <a href={href(`/t/${enc(tenant)}/devices`)}>← {t('device.back')}</a>
      </p>
      <Title>{t('device.title', { mac: pretty })}</Title>
      <dl class="device">
        <dt>{t('device.state')}</dt>
        <dd>
          <StateBadge state={d.state} />
        </dd>
        {d.pap !== null && (
          <>
            <dt>{t('device.pap')}</dt>
            <dd class="mono pap big">{d.pap}</dd>
          </>
        )}
        <dt>{t('device.attemptsLeft')}</dt>
        <dd>{d.attemptsLeft}</dd>
        <dt>{t('device.failures')}</dt>
        <dd>
          {d.consecutiveFailures} / {d.totalFailures}
        </dd>
        {d.failedUntil && (
          <>
            <dt>{t('device.lockUntil')}</dt>
            <dd>{formatTime(d.failedUntil)}</dd>
          </>
        )}
        {d.suspendedUntil && (
          <>
            <dt>{t('device.suspendedUntil')}</dt>
            <dd>{formatTime(d.suspendedUntil)}</dd>
          </>
        )}
        <dt>{t('col.site')}</dt>
        <dd>
          <bdi>{d.site}</bdi>
        </dd>
        <dt>{t('col.model')}</dt>
        <dd>
          {d.vendor} <bdi>{d.model}</bdi>
        </dd>
        <dt>{t('device.language')}</dt>
        <dd>{d.language ?? '–'}</dd>
        <dt>{t('device.created')}</dt>
        <dd>{formatTime(d.createdAt)}</dd>
        <dt>{t('device.authenticated')}</dt>
        <dd>{d.authenticatedAt ? `${formatTime(d.authenticatedAt)} (${d.authenticatedVia})` : '–'}</dd>
        <dt>{t('col.lastprov')}</dt>
        <dd>
          {d.lastProvisioning
            ? `${formatTime(d.lastProvisioning.at)} · ${d.lastProvisioning.ip} · ${d.lastProvisioning.outcome}`
            : t('never')}
        </dd>
      </dl>
      <div class="buttons">
        <button
          type="button"
          onClick={() =>
            act(async () => {
              if (!(await confirm(t('device.confirmReset', { mac: pretty })))) return null;
              const r = await api<{ pap: string }>('POST', `${path}/reset`);
              return t('device.resetDone', { pap: r.pap });
            })
          }
        >
          {t('device.reset')}
        </button>
        <button
          type="button"
          onClick={() =>
            act(async () => {
              await api('POST', `${path}/suspend`);
              return t('device.suspended');
            })
          }
        >
          {t('device.suspend')}
        </button>
        <button
          type="button"
          class="danger"
          onClick={() =>
            act(async () => {
              if (!(await confirm(t('device.confirmDelete', { mac: pretty })))) return null;
              await api('DELETE', path);
              go(href(`/t/${enc(tenant)}/devices`));
              return null;
            })
          }
        >
          {t('device.delete')}
        </button>
      </div>
      <Status {...status} />
      <h2>{t('device.history')}</h2>
      {!history.data ? (
        <Loading error={history.error} />
      ) : history.data.events.length === 0 ? (
        <p>{t('device.noHistory')}</p>
      ) : (
        <EventTable events={history.data.events} withMac={false} tenant={tenant} />
      )}
      <h2>{t('device.traffic')}</h2>
      {!traffic.data ? (
        <Loading error={traffic.error} />
      ) : traffic.data.events.length === 0 ? (
        <p>{t('device.noHistory')}</p>
      ) : (
        <EventTable events={traffic.data.events} withMac={false} tenant={tenant} />
      )}
    </>
  );
}

// ---- add, import, export -------------------------------------------------------------------------

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

function AddAndImport(props: { tenant: string }) {
  const { tenant } = props;
  const [f, setF] = useState(EMPTY_DEVICE);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [added, setAdded] = useState<string | null>(null);
  const set = (k: keyof typeof EMPTY_DEVICE) => (e: { currentTarget: { value: string } }) =>
    setF({ ...f, [k]: e.currentTarget.value });

  const add = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setAdded(null);
    try {
      const d = await api<Device>('POST', `/tenants/${enc(tenant)}/devices`, {
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
      const field =
        err instanceof ApiError
          ? err.code === 'duplicate_mac' || err.code === 'mac_registered_elsewhere'
            ? 'mac'
            : (err.field?.replace(/^accounts.*/, 'server') ?? 'form')
          : 'form';
      setErrors({ [field]: message(err) });
    }
  };

  const [csv, setCsv] = useState('');
  const [importResult, setImportResult] = useState<{
    ok?: string;
    error?: string;
    rows?: readonly CsvRowError[];
  }>({});
  const doImport = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<{ created: number }>('POST', `/tenants/${enc(tenant)}/devices.csv`, csv);
      setImportResult({ ok: t('import.done', { count: r.created }) });
      setCsv('');
    } catch (err) {
      setImportResult({
        error: t('import.failed', { message: message(err) }),
        ...(err instanceof ApiError && err.rows ? { rows: err.rows } : {}),
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
          <Field id="add-language" label={t('add.language')} error={errors.language}>
            {(a) => (
              <select {...a} value={f.language} onChange={set('language')}>
                <option value="">{t('add.language.tenant')}</option>
                {LANGUAGES.map((l) => (
                  <option value={l}>{l}</option>
                ))}
              </select>
            )}
          </Field>
          <fieldset>
            <legend>{t('add.account')}</legend>
            {field('server', t('add.server'))}
            {field('user', t('add.user'))}
            {field('password', t('add.password'))}
            {field('displayName', t('add.displayName'))}
          </fieldset>
          <button type="submit" class="primary">
            {t('add.submit')}
          </button>
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
                const file = e.currentTarget.files?.[0];
                if (file) setCsv(await file.text());
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
          <button type="submit" class="primary" disabled={csv.trim() === ''}>
            {t('import.submit')}
          </button>
        </form>
        <Status ok={importResult.ok ?? null} error={importResult.error ?? null} />
        {importResult.rows && (
          <table class="import-errors">
            <thead>
              <tr>
                <th scope="col">{t('import.line')}</th>
                <th scope="col">{t('import.row')}</th>
                <th scope="col">{t('import.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {importResult.rows.map((r) => (
                <tr>
                  <td>{r.line}</td>
                  <td class="mono">{lines[r.line - 1] ?? ''}</td>
                  <td class="error">{r.reason}</td>
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

// ---- whitelist --------------------------------------------------------------------------------------

function Whitelist(props: { tenant: string }) {
  const base = `/tenants/${enc(props.tenant)}/whitelist`;
  const perm = useLoad(() => api<{ entries: string[] }>('GET', base), [base]);
  const temp = useLoad(
    () => api<{ entries: { ip: string; expiresAt: string }[] }>('GET', `${base}/temporary`),
    [base],
  );
  const [entry, setEntry] = useState('');
  const [error, setError] = useState<string | undefined>();
  const add = async (e: Event) => {
    e.preventDefault();
    try {
      await api('POST', base, { entry });
      setEntry('');
      setError(undefined);
      perm.reload();
    } catch (err) {
      setError(message(err));
    }
  };
  const remove = async (x: string) => {
    await api('DELETE', `${base}/${enc(x)}`).catch((err: unknown) => setError(message(err)));
    perm.reload();
  };
  return (
    <>
      <Title>{t('whitelist.title')}</Title>
      <section class="card">
        <h2>{t('whitelist.permanent')}</h2>
        {!perm.data ? (
          <Loading error={perm.error} />
        ) : perm.data.entries.length === 0 ? (
          <p>{t('whitelist.none')}</p>
        ) : (
          <ul class="entries">
            {perm.data.entries.map((x) => (
              <li>
                <span class="mono">{x}</span>
                <button type="button" class="small" onClick={() => remove(x)}>
                  {t('whitelist.remove', { entry: x })}
                </button>
              </li>
            ))}
          </ul>
        )}
        <form onSubmit={add} class="inline-form">
          <Field id="wl-entry" label={t('whitelist.entry')} error={error}>
            {(a) => (
              <input
                {...a}
                required
                value={entry}
                placeholder="198.51.100.0/24"
                onInput={(e) => setEntry(e.currentTarget.value)}
              />
            )}
          </Field>
          <button type="submit" class="primary">
            {t('whitelist.add')}
          </button>
        </form>
      </section>
      <section class="card">
        <h2>{t('whitelist.temporary')}</h2>
        <p class="muted">{t('whitelist.temporaryHelp')}</p>
        {!temp.data ? (
          <Loading error={temp.error} />
        ) : temp.data.entries.length === 0 ? (
          <p>{t('whitelist.none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">IP</th>
                <th scope="col">{t('whitelist.expires')}</th>
              </tr>
            </thead>
            <tbody>
              {temp.data.entries.map((x) => (
                <tr>
                  <td class="mono">{x.ip}</td>
                  <td>{formatTime(x.expiresAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}

// ---- audit ------------------------------------------------------------------------------------------

/**
 * The audit trail (admin actions, attempts, state changes) and, on its second tab, the phone traffic
 * (provisioning answers, refused registrations): two streams, so that phones cannot push the audit
 * trail out of its stream.
 */
function Audit(props: { tenant: string; traffic: boolean; before: string | undefined }) {
  const { tenant, traffic, before } = props;
  const stream = traffic ? 'traffic' : undefined;
  const list = useLoad(
    () =>
      api<{ events: AuditEvent[] }>(
        'GET',
        `/tenants/${enc(tenant)}/events?count=${PAGE_SIZE}${traffic ? '&stream=traffic' : ''}${before ? `&before=${enc(before)}` : ''}`,
      ),
    [tenant, traffic, before],
  );
  const events = list.data?.events;
  const base = `/t/${enc(tenant)}/audit`;
  return (
    <>
      <Title>{t(traffic ? 'audit.traffic' : 'audit.title')}</Title>
      <nav class="tabs" aria-label={t('audit.streams')}>
        <a href={href(base)} aria-current={traffic ? undefined : 'page'}>
          {t('audit.title')}
        </a>
        <a href={href(base, { stream: 'traffic' })} aria-current={traffic ? 'page' : undefined}>
          {t('audit.traffic')}
        </a>
      </nav>
      <p class="muted">{t(traffic ? 'audit.trafficHelp' : 'audit.help')}</p>
      {!events ? (
        <Loading error={list.error} />
      ) : events.length === 0 ? (
        <p>{t('audit.none')}</p>
      ) : (
        <EventTable events={events} withMac tenant={tenant} />
      )}
      <div class="pager">
        {before && <a href={href(base, { stream })}>{t('audit.newest')}</a>}
        {events && events.length === PAGE_SIZE && (
          <a href={href(base, { stream, before: events[events.length - 1]!.id })}>{t('audit.older')} →</a>
        )}
      </div>
    </>
  );
}

// ---- PAP sheets -------------------------------------------------------------------------------------

function Sheets(props: { tenant: string }) {
  const needed = useLoad(() => allDevices(props.tenant, { state: 'needed' }), [props.tenant]);
  const bySite = new Map<string, number>();
  for (const d of needed.data ?? []) bySite.set(d.site, (bySite.get(d.site) ?? 0) + 1);
  return (
    <>
      <Title>{t('sheets.title')}</Title>
      <p>{t('sheets.intro')}</p>
      {!needed.data ? (
        <Loading error={needed.error} />
      ) : bySite.size === 0 ? (
        <p>{t('sheet.none')}</p>
      ) : (
        <ul class="sites">
          {[...bySite]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([site, n]) => (
              <li>
                <a href={href(`/t/${enc(props.tenant)}/sheet/${enc(site)}`)}>{tx('sheets.open', { site })}</a>{' '}
                <span class="muted">({formatNumber(n)})</span>
              </li>
            ))}
        </ul>
      )}
    </>
  );
}

function Sheet(props: { tenant: string; tenantName: string; site: string }) {
  const { tenant, site } = props;
  const list = useLoad(() => allDevices(tenant, { state: 'needed', site }), [tenant, site]);
  return (
    <article class="sheet">
      <div class="no-print buttons">
        <a href={href(`/t/${enc(tenant)}/sheets`)}>← {t('sheets.title')}</a>
        <button type="button" class="primary" onClick={() => window.print()}>
          {t('sheet.print')}
        </button>
      </div>
      <Title>{tx('sheet.title', { site })}</Title>
      {!list.data ? (
        <Loading error={list.error} />
      ) : list.data.length === 0 ? (
        <p>{t('sheet.none')}</p>
      ) : (
        <>
          <p>
            {tx('sheet.intro', { tenant: props.tenantName, count: list.data.length, site })}{' '}
            <span class="muted">{t('sheet.printed', { date: formatTime(Date.now()) })}</span>
          </p>
          <ol class="pap-cards">
            {list.data.map((d) => (
              <li class="pap-card">
                <div>
                  <div class="mono mac">{colonMac(d.mac)}</div>
                  <div class="model">
                    {d.vendor} <bdi>{d.model}</bdi>
                  </div>
                  <div class="mono pap big">{d.pap}</div>
                </div>
                <QrCode text={d.pap ?? ''} label={t('sheet.qr', { mac: colonMac(d.mac) })} />
              </li>
            ))}
          </ol>
        </>
      )}
    </article>
  );
}

// ---- tokens -----------------------------------------------------------------------------------------

function Tokens(props: { tenant: string }) {
  const base = `/tenants/${enc(props.tenant)}/tokens`;
  const list = useLoad(() => api<{ tokens: TokenInfo[] }>('GET', base), [base]);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [made, setMade] = useState<{ name: string; token: string } | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await api<{ name: string; token: string }>('POST', base, { name });
      setMade(r);
      setName('');
      setError(undefined);
      list.reload();
    } catch (err) {
      setError(message(err));
    }
  };
  const revoke = async (x: TokenInfo) => {
    if (!(await confirm(t('tokens.confirmRevoke', { name: x.name })))) return;
    await api('DELETE', `${base}/${x.id}`).catch((err: unknown) => setError(message(err)));
    list.reload();
  };
  return (
    <>
      <Title>{t('tokens.title')}</Title>
      <p>{t('tokens.intro')}</p>
      {made && (
        <div class="card new-token" role="status">
          <p>{t('tokens.newToken', { name: made.name })}</p>
          <input
            class="mono"
            readOnly
            value={made.token}
            aria-label={made.name}
            onFocus={(e) => e.currentTarget.select()}
          />
        </div>
      )}
      {!list.data ? (
        <Loading error={list.error} />
      ) : list.data.tokens.length === 0 ? (
        <p>{t('tokens.none')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('tokens.name')}</th>
              <th scope="col">{t('tokens.created')}</th>
              <th scope="col">{t('tokens.lastUsed')}</th>
              <th scope="col">{t('tokens.revoked')}</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {list.data.tokens.map((x) => (
              <tr>
                <td>{x.name}</td>
                <td>{formatTime(x.createdAt)}</td>
                <td>{x.lastUsedAt ? formatTime(x.lastUsedAt) : t('never')}</td>
                <td>{x.revokedAt ? formatTime(x.revokedAt) : '–'}</td>
                <td>
                  {!x.revokedAt && (
                    <button type="button" class="small danger" onClick={() => revoke(x)}>
                      {tx('tokens.revoke', { name: x.name })}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form onSubmit={create} class="inline-form card">
        <Field id="token-name" label={t('tokens.name')} error={error}>
          {(a) => <input {...a} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <button type="submit" class="primary">
          {t('tokens.create')}
        </button>
      </form>
    </>
  );
}

// ---- the app ----------------------------------------------------------------------------------------

function App() {
  const [me, setMe] = useState<Session | null>(null);
  const [signedIn, setSignedIn] = useState(session.token !== null);
  lang.use();
  const signOut = () => {
    session.signOut();
    setMe(null);
    setSignedIn(false);
  };
  useEffect(() => whenUnauthorized(signOut), []);
  useEffect(() => {
    if (!signedIn) return;
    api<Session>('GET', '/session').then(setMe, signOut);
  }, [signedIn]);
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  if (!me) return <Loading error={null} />;
  return <Shell me={me} onSignOut={signOut} />;
}

setLang(lang.value, false);
render(<App />, document.getElementById('app')!);

// An entry without exports counts as CommonJS under the root package.json ("type": "commonjs"), and
// esbuild would then wrap every module of the bundle in a lazy initialiser; this keeps it one flat scope.
export {};
