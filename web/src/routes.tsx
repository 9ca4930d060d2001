import { useEffect } from 'preact/hooks';
import { enc, type Session } from './api';
import { Loading } from './components/Loading';
import { Shell } from './components/Shell';
import { go, href, route } from './lib/location';
import { AddAndImport } from './pages/AddAndImport';
import { Audit } from './pages/Audit';
import { DeviceDetail } from './pages/Device';
import { Devices } from './pages/Devices';
import { Overview } from './pages/Overview';
import { Sheet } from './pages/Sheet';
import { Settings } from './pages/Settings';
import { Sheets } from './pages/Sheets';
import { Sites } from './pages/Sites';
import { Tenants } from './pages/Tenants';
import { Tokens } from './pages/Tokens';
import { Whitelist } from './pages/Whitelist';

/**
 * Which page each hash path shows: `#/` the operator's list of tenants, `#/t/<tenant>/<page>/…` one of
 * a tenant's pages (its overview when the path names none).
 */
export function Routes(props: { me: Session; onSignOut: () => void }) {
  const { me } = props;
  const { parts, query } = route.use();
  const [first, tenant, page = 'overview', ...rest] = parts;
  // A tenant token has one tenant: its start page is that tenant's overview.
  useEffect(() => {
    if (first !== 't' && me.role === 'tenant') go(href(`/t/${enc(me.tenant!)}/overview`));
  }, [first]);
  const inTenant = first === 't' && tenant !== undefined;
  return (
    <Shell me={me} tenant={inTenant ? tenant : undefined} page={page} onSignOut={props.onSignOut}>
      {(tenantName) =>
        inTenant ? (
          <TenantPage tenant={tenant} tenantName={tenantName} page={page} rest={rest} query={query} />
        ) : me.role === 'operator' ? (
          <Tenants />
        ) : null
      }
    </Shell>
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
    case 'overview':
      return <Overview tenant={tenant} />;
    case 'devices':
      return rest[0] ? (
        <DeviceDetail tenant={tenant} mac={rest[0]} />
      ) : (
        <Devices tenant={tenant} query={query} />
      );
    case 'add':
      return <AddAndImport tenant={tenant} />;
    case 'whitelist':
      return <Whitelist tenant={tenant} />;
    case 'settings':
      return <Settings tenant={tenant} site={query.get('site')} mac={query.get('mac')} />;
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
    case 'sites':
      return <Sites tenant={tenant} />;
    default:
      return <Loading error={new Error(`no page "${page}"`)} />;
  }
}
