/**
 * Which way imports run in src/ and web/src (docs/architecture.md, "Which way imports run"), checked by
 * dependency-cruiser in `npm run lint` and by test/layers.test.ts in `npm test`. Type-only imports
 * count (tsPreCompilationDeps): a type cycle is a cycle all the same.
 *
 *   src/main.ts (composition root)
 *     -> edges: src/admin, src/provisioning, src/sip (-> src/ivr), src/http (shared by the edges)
 *       -> src/config.ts, src/store -> src/lib -> src/domain
 */
const EDGES = '^src/(admin|provisioning|sip|ivr|http)/';
const PROJECT = '^(src|web)/';

/** Files matching `from` must not import files matching `to`; `why` is what a violation says. */
const rule = (name, from, to, why) => ({ name, comment: why, severity: 'error', from, to });
/** Files of `layer` import of the project only what `allowed` matches. */
const only = (name, layer, allowed, why) =>
  rule(name, { path: layer }, { path: PROJECT, pathNot: allowed }, why);

module.exports = {
  forbidden: [
    rule('no-cycle', {}, { circular: true }, 'No import cycle anywhere, type-only imports included.'),
    only(
      'domain-is-pure',
      '^src/domain/',
      '^src/domain/',
      'src/domain: pure rules, importing nothing else of the project.',
    ),
    rule(
      'domain-without-io',
      { path: '^src/domain/' },
      {
        dependencyTypes: ['npm', 'npm-dev', 'core'],
        pathNot: '^(node_modules/(ipaddr\\.js|unhomoglyph)/|crypto$)',
      },
      'src/domain imports no package but ipaddr.js and unhomoglyph (a table of look-alike characters) and no Node.js module but crypto: no I/O.',
    ),
    only(
      'lib-is-a-leaf',
      '^src/lib/',
      '^src/(lib|domain)/',
      'src/lib (metrics, bounded, pacing, loglimit, log, paths) imports of the project only src/domain, ' +
        'whose lists (states, vendors, outcomes) metrics creates its series from.',
    ),
    only(
      'store-below-edges',
      '^src/store/',
      '^src/(store|domain|lib)/',
      'src/store imports src/domain and src/lib only: it knows nothing of HTTP, SIP or the configuration.',
    ),
    only(
      'config-below-edges',
      '^src/config(\\.ts$|/)',
      '^src/(config\\.ts$|config/|domain/|lib/)',
      'The configuration is read with the domain rules; it imports no edge and no store.',
    ),
    rule(
      'edges-apart',
      { path: '^src/(admin|provisioning)/' },
      { path: '^src/(admin|provisioning|sip|ivr)/', pathNot: '^src/$1/' },
      'The admin and provisioning edges import no other edge (src/http is shared by them).',
    ),
    rule(
      'sip-uses-ivr-only',
      { path: '^src/sip/' },
      { path: '^src/(admin|provisioning|http)/' },
      'The SIP edge hands calls to the IVR (src/ivr); it imports no HTTP edge.',
    ),
    rule(
      'ivr-below-sip',
      { path: '^src/ivr/' },
      { path: EDGES, pathNot: '^src/ivr/' },
      'A call is a session object (src/ivr) that the SIP edge drives; it imports no edge.',
    ),
    rule(
      'http-shared-by-edges',
      { path: '^src/http/' },
      { path: EDGES, pathNot: '^src/http/' },
      'src/http is what the HTTP edges share: it imports none of them.',
    ),
    rule(
      'nothing-imports-main',
      {},
      { path: '^src/main\\.ts$' },
      'src/main.ts is the composition root: it imports the parts, nothing imports it.',
    ),
    rule(
      'server-without-console',
      { path: '^src/' },
      { path: '^web/' },
      'The server serves the built console (dist/console) as files; it imports none of its source.',
    ),
    rule(
      'console-shares-domain-only',
      { path: '^web/' },
      { path: '^src/', pathNot: '^src/domain/' },
      'The console (web/src) shares the pure rules of src/domain with the server, nothing else.',
    ),
    rule(
      'console-pages-from-routes',
      { path: '^web/src/', pathNot: '^web/src/(routes|App)\\.tsx$' },
      { path: '^web/src/pages/' },
      'One file per page (web/src/pages): only routes.tsx imports one (and App.tsx the sign-in page).',
    ),
    rule(
      'console-app-signs-in-only',
      { path: '^web/src/App\\.tsx$' },
      { path: '^web/src/pages/', pathNot: '^web/src/pages/SignIn\\.tsx$' },
      'App.tsx shows the sign-in page before any route; every other page is reached through routes.tsx.',
    ),
    rule(
      'console-parts-below-pages',
      { path: '^web/src/(components|lib)/' },
      { path: '^web/src/(pages/|routes\\.tsx$|App\\.tsx$|main\\.tsx$)' },
      'web/src/components and web/src/lib import no page and not the routes.',
    ),
    rule(
      'console-lib-below-components',
      { path: '^web/src/lib/' },
      { path: '^web/src/components/' },
      'web/src/lib holds plain helpers: it imports no component.',
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
