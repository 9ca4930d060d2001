import { useState } from 'preact/hooks';
import { api, enc, type TokenInfo } from '../api';
import { confirm } from '../components/ConfirmDialog';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { Title } from '../components/Title';
import { formatTime, t } from '../i18n';
import { message } from '../lib/message';
import { tx } from '../lib/tx';
import { useLoad } from '../lib/useLoad';

export function Tokens(props: { tenant: string }) {
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
