import { useState } from 'preact/hooks';
import { api, enc } from '../api';
import { Field } from '../components/Field';
import { Loading } from '../components/Loading';
import { Status } from '../components/Status';
import { Title } from '../components/Title';
import { formatTime, t } from '../i18n';
import { message } from '../lib/message';
import { useLoad } from '../lib/useLoad';

export function Whitelist(props: { tenant: string }) {
  const base = `/tenants/${enc(props.tenant)}/whitelist`;
  const perm = useLoad(() => api<{ entries: string[] }>('GET', base), [base]);
  const temp = useLoad(
    () =>
      api<{ entries: { ip: string; site: string | null; expiresAt: string }[] }>('GET', `${base}/temporary`),
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
  const [tempError, setTempError] = useState<string | null>(null);
  const removeTemporary = async (x: { ip: string; site: string | null }) => {
    const site = x.site === null ? '' : `?site=${enc(x.site)}`;
    await api('DELETE', `${base}/temporary/${enc(x.ip)}${site}`).then(
      () => setTempError(null),
      (err: unknown) => setTempError(message(err)),
    );
    temp.reload();
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
                <th scope="col">{t('col.site')}</th>
                <th scope="col">{t('whitelist.expires')}</th>
                <th scope="col">{t('whitelist.removeCol')}</th>
              </tr>
            </thead>
            <tbody>
              {temp.data.entries.map((x) => (
                <tr>
                  <td class="mono">{x.ip}</td>
                  <td>{x.site === null ? t('whitelist.allSites') : <bdi>{x.site}</bdi>}</td>
                  <td>{formatTime(x.expiresAt)}</td>
                  <td>
                    <button type="button" class="small" onClick={() => removeTemporary(x)}>
                      {t('whitelist.remove', { entry: x.ip })}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Status error={tempError} />
      </section>
    </>
  );
}
