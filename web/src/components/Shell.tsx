import type { ComponentChildren } from 'preact';
import { api, enc, type Session, type Tenant } from '../api';
import { lang, t } from '../i18n';
import { href } from '../lib/location';
import { tx } from '../lib/tx';
import { useLoad } from '../lib/useLoad';
import { ConfirmDialog } from './ConfirmDialog';
import { LangSwitch } from './LangSwitch';

const TENANT_PAGES = [
  ['overview', 'nav.overview'],
  ['devices', 'nav.devices'],
  ['add', 'nav.add'],
  ['whitelist', 'nav.whitelist'],
  ['settings', 'nav.settings'],
  ['audit', 'nav.audit'],
  ['sheets', 'nav.sheets'],
  ['sites', 'nav.sites'],
  ['tokens', 'nav.tokens'],
] as const;

/**
 * What frames every signed-in page: the header (tenant, navigation, language, sign-out) and the
 * confirmation dialog. It loads the open tenant and hands its name to the page (the console stays in
 * its user's language: the tenant's is for its PAP sheets).
 */
export function Shell(props: {
  me: Session;
  /** The tenant whose pages are open; none on the operator's list of tenants. */
  tenant: string | undefined;
  page: string;
  onSignOut: () => void;
  /** The page, given the tenant's name (its id until the tenant has loaded). */
  children: (tenantName: string) => ComponentChildren;
}) {
  lang.use();
  const { me, tenant, page } = props;
  const inTenant = tenant !== undefined;
  const tenantInfo = useLoad(
    () => (inTenant ? api<Tenant>('GET', `/tenants/${enc(tenant)}`) : Promise.resolve(null)),
    [inTenant ? tenant : null],
  );
  const tenantName = tenantInfo.data?.name ?? tenant ?? '';
  const print = inTenant && page === 'sheet';

  return (
    <>
      <header class={print ? 'no-print' : ''}>
        <a class="brand" href={me.role === 'operator' ? '#/' : href(`/t/${enc(me.tenant!)}/overview`)}>
          papgate
        </a>
        {inTenant && <bdi class="tenant-name">{tenantName}</bdi>}
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
      <main id="main">{props.children(tenantName)}</main>
      <ConfirmDialog />
    </>
  );
}
