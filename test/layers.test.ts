/**
 * Which way imports run (docs/architecture.md, "Which way imports run"): the rules of .dependency-cruiser.cjs,
 * which `npm run lint` checks too, run here so that CI (`npm test`) enforces them. A tree made for
 * the test breaks each rule once, so a rule that no longer matches anything fails here.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/lib/paths';

interface Rules {
  forbidden: { name: string }[];
  options: Record<string, unknown>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rules = require(path.join(PROJECT_ROOT, '.dependency-cruiser.cjs')) as Rules;

/** Each violation as `rule: from -> to`, cruising `dirs` below `baseDir` with the project's rules. */
async function violations(baseDir: string, dirs: string[]): Promise<string[]> {
  const { cruise } = await import('dependency-cruiser');
  // tsConfig names a file the CLI reads; relative imports need none of it.
  const options = { ...rules.options };
  delete options.tsConfig;
  const { output } = await cruise(dirs, {
    ...options,
    baseDir,
    validate: true,
    ruleSet: { forbidden: rules.forbidden } as never,
  });
  if (typeof output === 'string') throw new Error(output);
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
}

describe('layers: imports run one way, without cycles', function () {
  // dependency-cruiser parses every file with TypeScript: 20 s was too short on a loaded machine
  this.timeout(120_000);

  it('holds for src/ and web/src', async () => {
    assert.deepEqual(await violations(PROJECT_ROOT, ['src', 'web/src']), []);
  });

  it('catches each kind of wrong import, type-only imports and a cycle of types included', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'papgate-layers-'));
    const files: Record<string, string> = {
      // a cycle made of type-only imports
      'src/domain/a.ts': "import type { B } from './b';\nexport type A = { b?: B };\n",
      'src/domain/b.ts': "import type { A } from './a';\nexport type B = { a?: A };\n",
      'src/domain/io.ts': "import fs from 'node:fs';\nexport const read = fs.readFileSync;\n",
      'src/domain/up.ts': "import type { S } from '../store/s';\nexport type U = S;\n",
      'src/lib/m.ts': "import type { Session } from '../ivr/session';\nexport type M = Session;\n",
      'src/store/s.ts': "import type { Config } from '../config';\nexport type S = Config;\n",
      'src/config.ts': "import type { R } from './sip/r';\nexport type Config = R;\n",
      'src/ivr/session.ts': "import type { R } from '../sip/r';\nexport type Session = R;\n",
      'src/sip/r.ts': "import type { P } from '../provisioning/p';\nexport type R = { p?: P };\n",
      'src/provisioning/p.ts': "import type { A } from '../admin/a';\nexport type P = A;\n",
      'src/admin/a.ts': "import type { Main } from '../main';\nexport type A = Main;\n",
      'src/http/h.ts': "import type { A } from '../admin/a';\nexport type H = A;\n",
      'src/main.ts':
        "import type { H } from './http/h';\nimport type { C } from '../web/src/c';\nexport type Main = H | C;\n",
      'web/src/c.ts':
        "import type { S } from '../../src/store/s';\nimport type { P } from './pages/p';\nexport type C = S | P;\n",
      'web/src/pages/p.ts': 'export type P = string;\n',
      'web/src/App.tsx': "import type { P } from './pages/p';\nexport type App = P;\n",
      'web/src/lib/l.ts': "import type { K } from '../components/k';\nexport type L = K;\n",
      'web/src/components/k.ts': "import type { P } from '../pages/p';\nexport type K = P;\n",
    };
    try {
      for (const [file, text] of Object.entries(files)) {
        fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
      }
      const found = await violations(dir, ['src', 'web/src']);
      const named = new Set(found.map((v) => v.slice(0, v.indexOf(':'))));
      assert.deepEqual([...named].sort(), rules.forbidden.map((r) => r.name).sort(), found.join('\n'));
      assert.ok(found.includes('no-cycle: src/domain/a.ts -> src/domain/b.ts'), found.join('\n'));
      assert.ok(found.includes('lib-is-a-leaf: src/lib/m.ts -> src/ivr/session.ts'), found.join('\n'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
