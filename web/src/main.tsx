import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, enc, session, whenUnauthorized, type Session, type Tenant } from './api';
import { ConfirmDialog } from './components/ConfirmDialog';
import { LangSwitch } from './components/LangSwitch';
import { Loading } from './components/Loading';
import { chosenLang, lang, setLang, t } from './i18n';
import { go, href, route } from './lib/location';
import { tx } from './lib/tx';
import { useLoad } from './lib/useLoad';
import { AddAndImport } from './pages/AddAndImport';
import { Audit } from './pages/Audit';
import { DevicePage } from './pages/Device';
import { Devices } from './pages/Devices';
import { Sheet } from './pages/Sheet';
import { Sheets } from './pages/Sheets';
import { SignIn } from './pages/SignIn';
import { Tenants } from './pages/Tenants';
import { Tokens } from './pages/Tokens';
import { Whitelist } from './pages/Whitelist';
import './app.css';

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
