import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { httpServerOptions, installEdgeLifecycle } from '../http/server';
import { Health, observabilityRoutes } from '../http/observability';
import { deviceAdditions } from './additions';
import { authHook, createApi, errorHandler, type AdminDeps } from './api';
import { consoleRoutes } from './console';
import { openApiDocument } from './openapi';
import { authenticateRoutes } from './routes/authenticate';
import { csvRoutes } from './routes/csv';
import { deviceRoutes } from './routes/devices';
import { deviceEditRoutes } from './routes/device-edit';
import { lifecycleRoutes } from './routes/lifecycle';
import { eventRoutes } from './routes/events';
import { fileRoutes } from './routes/files';
import { sessionRoutes } from './routes/session';
import { settingsRoutes } from './routes/settings';
import { siteRoutes } from './routes/sites';
import { summaryRoutes } from './routes/summary';
import { tenantRoutes } from './routes/tenants';
import { tokenRoutes } from './routes/tokens';
import { whitelistRoutes } from './routes/whitelist';

/**
 * The admin server: the API under /api/v1 (one module per resource in routes/, behind the token
 * check), the OpenAPI document, health and metrics, the console's files.
 */
export function createAdminServer(deps: AdminDeps): FastifyInstance {
  const ctx = createApi(deps);
  const { store, config } = ctx;
  const app = Fastify({
    ...httpServerOptions(config),
    bodyLimit: config.maxBodyBytes,
    // HEAD would run GET handlers that audit (the CSV export) for a body nobody receives.
    exposeHeadRoutes: false,
    // A path the router cannot decode never reaches the error handler: answer in our format anyway.
    frameworkErrors: (err, _req, reply) =>
      (reply as FastifyReply).code(400).send({ error: 'bad_request', message: err.message }),
  });

  const routes: string[] = [];
  app.addHook('onRoute', (o) => {
    for (const m of [o.method].flat()) if (m !== 'HEAD') routes.push(`${m} ${o.url}`);
  });
  app.decorate('papgateRoutes', routes);

  app.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  installEdgeLifecycle(
    app,
    (reply, status, headers) =>
      reply
        .code(status)
        .headers(headers)
        .send(
          status === 503
            ? { error: 'shutting_down', message: 'papgate is shutting down, retry later' }
            : { error: 'method_not_allowed', message: 'method not allowed' },
        ),
    {
      allow: 'GET, POST, PUT, PATCH, DELETE',
      contentType: 'application/json',
      body: JSON.stringify({ error: 'method_not_allowed', message: 'CONNECT is not supported' }),
    },
  );

  app.setErrorHandler(errorHandler(config, ctx.log));

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.get('/openapi.json', async () => openApiDocument);
  observabilityRoutes(app, {
    metrics: ctx.metrics,
    health: deps.health ?? new Health(store, false),
    serveMetrics: config.metrics.serve === 'admin',
  });
  consoleRoutes(app);

  const additions = deviceAdditions(ctx);
  // Every API route lives in this encapsulated plugin, so the token check is bound to the routes
  // themselves: whatever encoding of the path the router matched, the hook runs. The route modules
  // are plain functions on it, not plugins of their own: they share its hook and decoration.
  app.register(
    async (api) => {
      api.decorateRequest('principal', null);
      api.addHook('onRequest', authHook(deps.adminToken, ctx.tokens));
      tenantRoutes(api, ctx);
      sessionRoutes(api, ctx);
      tokenRoutes(api, ctx);
      deviceRoutes(api, ctx, additions);
      deviceEditRoutes(api, ctx, additions);
      lifecycleRoutes(api, ctx);
      csvRoutes(api, ctx, additions);
      siteRoutes(api, ctx);
      summaryRoutes(api, ctx);
      whitelistRoutes(api, ctx);
      eventRoutes(api, ctx);
      authenticateRoutes(api, ctx);
      settingsRoutes(api, ctx);
      fileRoutes(api, ctx, deps.effectiveFile);
    },
    { prefix: '/api/v1' },
  );

  return app;
}
