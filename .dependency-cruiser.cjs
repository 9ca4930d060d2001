/**
 * Which way imports run in src/ and web/src (docs/architecture.md, "Layers"), checked by
 * dependency-cruiser in `npm run lint` and by test/layers.test.ts in `npm test`. Type-only imports
 * count (tsPreCompilationDeps): a type cycle is a cycle all the same.
 *
 *   src/main.ts (composition root)
 *     -> edges: src/admin, src/provisioning, src/sip (-> src/ivr), src/http (shared by the edges)
 *       -> src/config.ts, src/store -> src/lib -> src/domain
 */
const EDGES = '^src/(admin|provisioning|sip|ivr|http)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'No import cycle anywhere, type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-is-pure',
      comment: 'src/domain: pure rules. It imports nothing of the project outside src/domain.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^(src|web)/', pathNot: '^src/domain/' },
    },
    {
      name: 'domain-without-io',
      comment: 'src/domain imports no package but ipaddr.js and no Node.js module but crypto: no I/O.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'core'], pathNot: '^(node_modules/ipaddr\\.js/|crypto$)' },
    },
    {
      name: 'lib-is-a-leaf',
      comment:
        'src/lib (metrics, bounded, pacing, loglimit, log, paths) imports nothing of the project but ' +
        'src/domain: metrics pre-creates its series from the domain lists (states, vendors, outcomes).',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^(src|web)/', pathNot: '^src/(lib|domain)/' },
    },
    {
      name: 'store-below-edges',
      comment:
        'src/store imports src/domain and src/lib only: it knows nothing of HTTP, SIP or the configuration.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^(src|web)/', pathNot: '^src/(store|domain|lib)/' },
    },
    {
      name: 'config-below-edges',
      comment:
        'The configuration is read from declarations with the domain rules; it imports no edge or store.',
      severity: 'error',
      from: { path: '^src/config(\\.ts$|/)' },
      to: { path: '^(src|web)/', pathNot: '^src/(config\\.ts$|config/|domain/|lib/)' },
    },
    {
      name: 'edges-apart',
      comment: 'The admin and provisioning edges import no other edge (src/http is shared by them).',
      severity: 'error',
      from: { path: '^src/(admin|provisioning)/' },
      to: { path: '^src/(admin|provisioning|sip|ivr)/', pathNot: '^src/$1/' },
    },
    {
      name: 'sip-uses-ivr-only',
      comment: 'The SIP edge hands calls to the IVR (src/ivr); it imports no HTTP edge.',
      severity: 'error',
      from: { path: '^src/sip/' },
      to: { path: '^src/(admin|provisioning|http)/' },
    },
    {
      name: 'ivr-below-sip',
      comment: 'A call is a session object (src/ivr) the SIP edge drives; it imports no edge.',
      severity: 'error',
      from: { path: '^src/ivr/' },
      to: { path: EDGES, pathNot: '^src/ivr/' },
    },
    {
      name: 'http-shared-by-edges',
      comment: 'src/http is what the HTTP edges share: it imports none of them.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: EDGES, pathNot: '^src/http/' },
    },
    {
      name: 'nothing-imports-main',
      comment: 'src/main.ts is the composition root: it imports the parts, nothing imports it.',
      severity: 'error',
      from: {},
      to: { path: '^src/main\\.ts$' },
    },
    {
      name: 'server-without-console',
      comment: 'The server serves the built console (dist/web) as files; it imports none of its source.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^web/' },
    },
    {
      name: 'console-shares-domain-only',
      comment: 'The console (web/src) shares the pure rules of src/domain with the server, nothing else.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^src/', pathNot: '^src/domain/' },
    },
    {
      name: 'console-pages-from-routes',
      comment:
        'One file per page (web/src/pages): only routes.tsx imports one (and App.tsx the sign-in page).',
      severity: 'error',
      from: { path: '^web/src/', pathNot: '^web/src/(routes|App)\\.tsx$' },
      to: { path: '^web/src/pages/' },
    },
    {
      name: 'console-parts-below-pages',
      comment: 'web/src/components and web/src/lib import no page and not the routes.',
      severity: 'error',
      from: { path: '^web/src/(components|lib)/' },
      to: { path: '^web/src/(pages/|routes\\.tsx$|App\\.tsx$|main\\.tsx$)' },
    },
    {
      name: 'console-lib-below-components',
      comment: 'web/src/lib holds plain helpers: it imports no component.',
      severity: 'error',
      from: { path: '^web/src/lib/' },
      to: { path: '^web/src/components/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
