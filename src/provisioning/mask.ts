import type { SettingFamily } from '../domain/setting-formats';

/** What stands for every secret in an effective file. */
export const MASK = '********';

/**
 * Grandstream P-values that hold a secret, as the references' comments name them (F
 * `grandstream/<model>/{$mac}.xml`: "Admin password", "End User Password", "XML Config File Password",
 * SIP passwords of every account, PPPoE, TLS private key, HTTP, FTP, Wi-Fi, 802.1X, door PINs).
 */
const GRANDSTREAM_SECRETS = new Set([
  1, 2, 34, 82, 83, 196, 279, 281, 406, 506, 606, 734, 955, 1359, 1361, 1706, 1806, 2967, 3030, 3031, 3032,
  3033, 3060, 3061, 3062, 3063, 4120, 4121, 4122, 4123, 4124, 4505, 4512, 6714, 6769, 6777, 7829, 7830, 7903,
  8221, 10105, 10128, 10144, 10163, 10457, 10463, 14117, 14851, 15415, 15435, 15460, 15472, 22019,
]);

/** Words of a name that make its value a secret (`unlock_pin`, `admin_mode_password`, `aucKdsPin`). */
const SECRET_WORDS = new Set([
  'pass',
  'passwd',
  'password',
  'passphrase',
  'pwd',
  'pw',
  'pin',
  'pincode',
  'psk',
  'secret',
  'token',
  'credential',
  'credentials',
]);

/**
 * Whether an item's value is a secret, by its name: a Grandstream P-value of the list (leading
 * zeros as the phone reads them: `P002` is P2), else a name with a secret word in it (split at
 * dots, underscores, brackets and camel case: `WebUIPassword`, `aucKdsPin`), or ending in a key.
 */
export function isSecretName(name: string): boolean {
  const p = /^P0*([0-9]{1,6})$/i.exec(name);
  if (p) return GRANDSTREAM_SECRETS.has(Number(p[1]));
  const words = name
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
  return (
    words.some((w) => SECRET_WORDS.has(w) || /(?:password|passwd|pwd)$/.test(w)) ||
    /key$/.test(words.at(-1) ?? '')
  );
}

const quoted = (v: string) => (/^(["']).*\1$/.test(v) && v.length >= 2 ? `${v[0]}${MASK}${v[0]}` : MASK);

/**
 * `body` with every secret masked by where it stands in the file, whatever put it there (papgate's
 * templates, an operator's, a setting): credentials in URLs (`https://user:pass@host`) anywhere, and
 * by item name, the value of a `name = value` line, the text of an XML element, an XML attribute, a
 * Gigaset SYMB_ITEM's value, a CLI word after `password`.
 */
export function maskSecrets(family: SettingFamily, body: string): string {
  const urls = body.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@"'<>]+@/gi, `$1${MASK}@`);
  if (family === 'yealink' || family === 'panasonic')
    return urls.replace(
      /^(\s*)([^\s=#;]+)(\s*=[ \t]*)([^\r\n]*)$/gm,
      (line, sp, name: string, eq, value: string) =>
        isSecretName(name) && value !== '' && value !== '%NULL%' ? `${sp}${name}${eq}${quoted(value)}` : line,
    );
  if (family === 'patton')
    return urls.replace(/\b(password|secret|pin|key)(\s+)(?!\*{8})(\S+)/gi, `$1$2${MASK}`);
  return urls
    .replace(/<([A-Za-z_][\w.:-]*)(\s[^<>]*)?>([^<]+)<\/\1>/g, (el, name: string, attrs = '', _text) =>
      isSecretName(name) ? `<${name}${attrs}>${MASK}</${name}>` : el,
    )
    .replace(/<SYMB_ITEM\b[^>]*>/g, (tag) => {
      const id = /\bID\s*=\s*["']([^"']*)["']/.exec(tag)?.[1];
      return id !== undefined && isSecretName(id.replace(/\[[^\]]*\]/g, ''))
        ? tag.replace(/(\bvalue\s*=\s*)("[^"]*"|'[^']*')/, (_m, v) => `${v}"${MASK}"`)
        : tag;
    })
    .replace(
      /(\s)([A-Za-z_][\w.:-]*)(\s*=\s*)("[^"]*"|'[^']*')/g,
      (attr, sp, name: string, eq, value: string) =>
        isSecretName(name) ? `${sp}${name}${eq}${value[0]}${MASK}${value[0]}` : attr,
    );
}
