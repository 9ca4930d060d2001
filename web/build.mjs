// Bundles the console (web/src, TypeScript + Preact) into dist/console/app.js and app.css, which the
// admin server serves. Type-checking is `tsc -p web/tsconfig.json` (esbuild only strips types).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await esbuild.build({
  absWorkingDir: root,
  entryPoints: { app: 'web/src/main.tsx' },
  outdir: 'dist/console',
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
});
