import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';

/**
 * What a provisioning request is answered, in one shape, because two handlers send it: the front
 * handler on the Node server (a phone's plain GET) and fastify (everything else). The miss limit
 * and the rendered files make answers too, so the shape lives apart from the server.
 */
export interface Answer {
  readonly status: number;
  readonly contentType: string;
  /** Absent: headers only (HEAD). Kept files are bytes: they are sent without encoding them again. */
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A configuration file (or, for HEAD, its headers only). */
export function file(contentType: string, body?: string | Buffer): Answer {
  return { status: 200, contentType, body };
}

export function plain(status: number, headers?: Record<string, string>): Answer {
  return { status, contentType: 'text/plain; charset=utf-8', body: STATUS_TEXT[status] ?? 'Error', headers };
}

/** Every answer is `no-store`: a configuration may carry secrets, a refusal must not stick. */
export function reply(r: FastifyReply, a: Answer): FastifyReply {
  r.code(a.status).header('content-type', a.contentType).header('cache-control', 'no-store');
  for (const [k, v] of Object.entries(a.headers ?? {})) r.header(k, v);
  return r.send(a.body);
}

/** The same answer as `reply` gives through fastify, written by the front handler. */
export function write(res: ServerResponse, a: Answer): void {
  const headers: Record<string, string | number> = {
    'content-type': a.contentType,
    'cache-control': 'no-store',
    ...a.headers,
  };
  if (a.body !== undefined)
    headers['content-length'] = typeof a.body === 'string' ? Buffer.byteLength(a.body) : a.body.length;
  res.writeHead(a.status, headers);
  res.end(a.body);
}
