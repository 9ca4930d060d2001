import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/paths';
import { SECTIONS, type Variable } from './kinds';
import { VARIABLES } from './variables';

/**
 * docs/configuration.md, made from the declarations (variables.ts): `npm run docs:config` writes
 * it, test/config-docs.test.ts fails when the page in the repository is not what this makes.
 */

export const PAGE = path.join(PROJECT_ROOT, 'docs', 'configuration.md');

const INTRO = `# Configuration

papgate is configured by environment variables, read once at start-up and validated as
\`src/config/variables.ts\` declares each of them (\`loadConfig\` in \`src/config.ts\`); a bad
value stops the service with a message naming the variable, e.g.
\`papgate: configuration error: ADMIN_PORT: must be between 0 and 65535, got 70000\`. An empty
variable counts as unset, except a list, which it leaves empty. A variable that begins like
papgate's (\`SIP_\`, \`IVR_\`, \`PROVISIONING_\`, \`AUTH_\`, ...) but is none of them, such as a
mistyped \`SIP_OVERLOAD_BEHIND_M\`, is ignored with a warning at start-up that lists the
declared ones of its group.

This page lists every variable by what it configures, with its default, the values it takes and
what it does. It is generated from the declarations in \`src/config/variables.ts\` by
\`npm run docs:config\`, and \`test/config-docs.test.ts\` fails when the two differ: change a
variable there, not here.

In production set \`PROVISIONING_BASE_URL\` (what phones use to reach papgate) and \`SIP_REGISTRAR\`
(what they use to reach drachtio-server) to public names.
`;

/** A Markdown table laid out as prettier lays it out, so that formatting the page changes nothing. */
function table(rows: readonly (readonly string[])[]): string {
  const cells = rows.map((r) => r.map((c) => c.replace(/\|/g, '\\|')));
  const widths = cells[0]!.map((_, i) => Math.max(3, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

export function renderConfigurationPage(): string {
  const all = Object.entries(VARIABLES) as [string, Variable<unknown, never>][];
  const sections = Object.entries(SECTIONS).map(([id, title]) => {
    const rows = all
      .filter(([, v]) => v.section === id)
      .map(([name, v]) => [`\`${name}\``, v.shown, v.accepts, v.meaning]);
    return `## ${title}\n\n${table([['variable', 'default', 'values', 'meaning'], ...rows])}\n`;
  });
  return [INTRO, ...sections].join('\n');
}

if (require.main === module) {
  fs.mkdirSync(path.dirname(PAGE), { recursive: true });
  fs.writeFileSync(PAGE, renderConfigurationPage());
  process.stdout.write(`wrote ${path.relative(process.cwd(), PAGE)}\n`);
}
