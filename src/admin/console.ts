import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PROJECT_ROOT } from '../lib/paths';

/** Where `web/build.mjs` writes the bundle (part of the build: `npm run build`, scripts/setup.sh). */
const CONSOLE_DIR = path.join(PROJECT_ROOT, 'dist', 'console');

/**
 * Everything the page may load comes from this origin, and no script or style is inline, so an
 * injected `<script>` or `onerror=` attribute does not run even if some text ever slipped through
 * unescaped. `connect-src 'self'` keeps the token from being sent anywhere else.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>papgate console</title>
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<link rel="stylesheet" href="/console/app.css">
<script src="/console/app.js" defer></script>
</head>
<body><noscript>The papgate console needs JavaScript.</noscript><div id="app"></div></body>
</html>
`;

const ASSETS = {
  '/console/app.js': 'text/javascript; charset=utf-8',
  '/console/app.css': 'text/css; charset=utf-8',
} as const;

function secure(reply: FastifyReply, type: string): FastifyReply {
  return reply
    .header('Content-Type', type)
    .header('Content-Security-Policy', CONSOLE_CSP)
    .header('X-Content-Type-Options', 'nosniff')
    .header('X-Frame-Options', 'DENY')
    .header('Referrer-Policy', 'no-referrer')
    .header('Cache-Control', 'no-cache');
}

/** The tab's icon: browsers ask for /favicon.ico on every page; a 404 there filled the logs. */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f5fa8"/>' +
  '<path d="M5 12V4h3.5a2.5 2.5 0 0 1 0 5H5" fill="none" stroke="#fff" stroke-width="2"/></svg>';

/** The console's page and bundle; the bundle is read once, on first request, from CONSOLE_DIR. */
export function consoleRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  app.get('/', async (_req, reply) => secure(reply, 'text/html; charset=utf-8').send(PAGE));
  app.get('/favicon.ico', async (_req, reply) => secure(reply, 'image/svg+xml').send(FAVICON));
  for (const [url, type] of Object.entries(ASSETS)) {
    app.get(url, async (_req, reply) => {
      let body = cache.get(url);
      if (body === undefined) {
        const file = path.join(CONSOLE_DIR, path.basename(url));
        if (!fs.existsSync(file))
          return reply
            .code(503)
            .send({ error: 'console_not_built', message: 'the console is not built: run `npm run build`' });
        body = fs.readFileSync(file);
        cache.set(url, body);
      }
      return secure(reply, type).send(body);
    });
  }
}
