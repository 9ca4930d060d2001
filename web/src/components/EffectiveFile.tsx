import { useState } from 'preact/hooks';
import { api, enc } from '../api';
import { t } from '../i18n';
import { message } from '../lib/message';
import { Status } from './Status';

/** GET .../effective-file: the device's full file as it would get it now, every secret masked. */
interface EffectiveFile {
  readonly file: string;
  readonly sources: readonly { readonly origin: 'papgate' | 'operator'; readonly path: string }[];
  readonly body: string;
}

/**
 * A device's effective full file, loaded when asked for (it is rendered for each request), with
 * the templates it came from: papgate's own or the operator's.
 */
export function EffectiveFileView(props: { tenant: string; mac: string }) {
  const [file, setFile] = useState<EffectiveFile | null>(null);
  const [error, setError] = useState<string | null>(null);
  const show = async () => {
    try {
      setFile(
        await api<EffectiveFile>(
          'GET',
          `/tenants/${enc(props.tenant)}/devices/${enc(props.mac)}/effective-file`,
        ),
      );
      setError(null);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <section aria-labelledby="effective-file">
      <h2 id="effective-file">{t('device.file')}</h2>
      <p class="muted">{t('device.file.help')}</p>
      <button type="button" onClick={() => void show()}>
        {file ? t('device.file.reload') : t('device.file.show')}
      </button>
      <Status error={error} />
      {file && (
        <>
          <p>
            <span class="mono">{file.file}</span> · {t('device.file.sources')}
          </p>
          <ul>
            {file.sources.map((s) => (
              <li key={s.path + s.origin}>
                <span class="mono">{s.path}</span> (
                {s.origin === 'operator' ? t('device.file.operator') : t('device.file.papgate')})
              </li>
            ))}
          </ul>
          <pre class="mono effective-file">{file.body}</pre>
        </>
      )}
    </section>
  );
}
