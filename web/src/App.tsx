import { useEffect, useState } from 'preact/hooks';
import { api, session, whenUnauthorized, type Session } from './api';
import { Loading } from './components/Loading';
import { lang } from './i18n';
import { SignIn } from './pages/SignIn';
import { Routes } from './routes';

/** Signed out, the sign-in page; signed in, the pages the session may see. Any 401 signs out. */
export function App() {
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
  return <Routes me={me} onSignOut={signOut} />;
}
