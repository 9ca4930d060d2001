import { useState } from 'preact/hooks';
import { api, ApiError, session, type Session } from '../api';
import { Field } from '../components/Field';
import { LangSwitch } from '../components/LangSwitch';
import { Title } from '../components/Title';
import { t } from '../i18n';
import { message } from '../lib/message';

export function SignIn(props: { onSignedIn: () => void }) {
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
