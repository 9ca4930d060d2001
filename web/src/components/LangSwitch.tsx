import { lang, setLang, t, type Lang } from '../i18n';

export function LangSwitch() {
  const l = lang.use();
  return (
    <div class="lang" role="group" aria-label={t('lang.switch')}>
      {(['en', 'de'] as Lang[]).map((x) => (
        <button type="button" aria-pressed={l === x} onClick={() => setLang(x)} lang={x}>
          {x === 'en' ? 'English' : 'Deutsch'}
        </button>
      ))}
    </div>
  );
}
