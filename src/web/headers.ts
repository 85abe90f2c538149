import type { RequestHandler } from 'express';

/** Sets the response headers from `http_server_config.headers` on every response, 401s included. */
export function createHeadersMiddleware(headers: ReadonlyArray<readonly [string, string]>): RequestHandler {
  if (headers.length === 0) return (_req, _res, next) => next();
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
