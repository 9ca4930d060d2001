/** The items a file sets, named as the phone reads them (key, element, P-value, symb_item ID). */
const ITEMS: Record<string, RegExp> = {
  yealink: /^([a-z0-9_.]+) = /gm,
  cisco: /<([A-Z][A-Za-z0-9_-]*_?)>/g,
  snom: /<([a-z_]+(?: idx="[0-9]+")?) perm=/g,
  poly: /\s([a-zA-Z][a-zA-Z0-9.]*)="/g,
  gigaset: /ID="([^"]+)"|<(S_CONFIGFILE_URL|S_PROV_USERNAME|S_PROV_PASSWORD|MAC_ADDRESS|PROFILE_NAME)\b/g,
  grandstream: /<(P[0-9]+)>/g,
  panasonic: /^([A-Z0-9_]+)=/gm,
};

export function items(family: string, body: string): Set<string> {
  const out = new Set<string>();
  for (const m of body.matchAll(ITEMS[family]!)) out.add(m[1] ?? m[2]!);
  return out;
}
