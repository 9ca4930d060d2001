import type { Socket } from 'node:net';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { TlsOptions } from 'node:tls';
import type { FastifyHttpOptions, FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../config';

/** How long the answer to a CONNECT may take to reach a client that is still sending. */
const CONNECT_LINGER_MS = 1000;

/** Seconds a refused client is told to wait (503 while shutting down or while Redis is away). */
export const RETRY_AFTER_SECONDS = 5;

/**
 * Server options shared by both HTTP edges. Node's defaults let a client hold a connection open by
 * sending headers or a body slowly (60 s and 300 s, checked only every 30 s); a phone on a slow link
 * still sends a GET in well under the few seconds allowed here. In-flight requests are never cut by
 * a close: idle connections are, and `closeGracefully` bounds the rest.
 */
export function httpServerOptions(config: Config): FastifyHttpOptions<Server> {
  return {
    logger: false,
    requestTimeout: config.httpRequestTimeoutMs,
    keepAliveTimeout: 5_000,
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    http: {
      headersTimeout: config.httpHeadersTimeoutMs,
      requestTimeout: config.httpRequestTimeoutMs,
      connectionsCheckingInterval: 500,
    },
  };
}

/**
 * The same options for an HTTPS server with `tls` (certificate, key, client certificate request).
 * A TLS handshake gets as long as a request's headers, so a client stalling in it is cut as soon.
 * The server is made here rather than by fastify so that exactly one server holds the certificate
 * (fastify would add one per address a host name resolves to), which `setSecureContext` reloads.
 */
export function httpsServerOptions(config: Config, tls: TlsOptions): FastifyHttpOptions<Server> {
  const base = httpServerOptions(config);
  return {
    ...base,
    serverFactory: (handler) => {
      const server = https.createServer(
        { ...base.http, handshakeTimeout: config.httpHeadersTimeoutMs, ...tls },
        handler,
      );
      server.keepAliveTimeout = base.keepAliveTimeout!;
      server.requestTimeout = config.httpRequestTimeoutMs;
      // An https.Server is an http.Server over TLS: every member the edges use is there.
      return server as unknown as Server;
    },
  };
}

/** A handler that answers what it can itself and hands every other request to `next` (fastify). */
export type FrontHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (req: IncomingMessage, res: ServerResponse) => void,
) => void;

/**
 * `options` (of httpServerOptions or httpsServerOptions) with `front` placed before fastify's own
 * request handler, on a server made as fastify would make it.
 */
export function withFrontHandler(
  options: FastifyHttpOptions<Server>,
  front: FrontHandler,
): FastifyHttpOptions<Server> {
  const factory =
    options.serverFactory ??
    ((handler: (req: IncomingMessage, res: ServerResponse) => void) => {
      const server = http.createServer(options.http ?? {}, handler);
      server.keepAliveTimeout = options.keepAliveTimeout!;
      server.requestTimeout = options.requestTimeout!;
      return server;
    });
  return {
    ...options,
    serverFactory: (handler, opts) => factory((req, res) => front(req, res, handler), opts),
  };
}

/** What a front handler must know of the edge's shutdown (see installEdgeLifecycle). */
interface EdgeLifecycle {
  /** True once shutdown has begun: requests are fastify's then (503). */
  readonly closing: () => boolean;
  /** To be called after each answer a front handler sent itself. */
  readonly answered: () => void;
}

/**
 * Installs what both edges do the same way, each answering in its own documented error format
 * (`refuse(reply, status, headers)`):
 * - requests that arrive once shutdown has begun get 503 with Retry-After (and Connection: close,
 *   set by fastify), while the ones already running finish;
 * - CONNECT, which Node hands to a 'connect' listener instead of the router (without one it drops
 *   the connection), gets 405.
 */
export function installEdgeLifecycle(
  app: FastifyInstance,
  refuse: (reply: FastifyReply, status: 405 | 503, headers: Record<string, string>) => FastifyReply,
  connectReply: { readonly allow: string; readonly contentType: string; readonly body: string },
): EdgeLifecycle {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_req, reply) => {
    if (closing) return refuse(reply, 503, { 'retry-after': String(RETRY_AFTER_SECONDS) });
    return undefined;
  });
  // A connection whose request was in flight at shutdown must not then idle on until keep-alive
  // ends; one with a pipelined request still gets that request answered (503) first.
  const answered = () => {
    if (closing) setImmediate(() => app.server.closeIdleConnections());
  };
  app.addHook('onResponse', async () => answered());
  app.server.on('connect', (_req: unknown, socket: Socket) => {
    const { allow, contentType, body } = connectReply;
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nAllow: ${allow}\r\nContent-Type: ${contentType}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // Node hands the socket over as a tunnel: nothing reads what the client still sends.
    setTimeout(() => socket.destroy(), CONNECT_LINGER_MS).unref();
  });
  return { closing: () => closing, answered };
}

/**
 * Stops accepting connections and waits for requests in flight, at most `graceMs`; then the
 * remaining connections are cut so that shutdown always ends.
 */
export async function closeGracefully(app: FastifyInstance, graceMs: number): Promise<void> {
  const timer = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
}
