import express, { type RequestHandler, type Router } from 'express';
import { createAuthMiddleware, type AuthMiddlewareOptions } from './auth.js';
import { createHeadersMiddleware } from './headers.js';
import type { WebConfig } from './web-config-load.js';

/**
 * The middleware a web config asks for, in order: configured response headers, then
 * authentication. An application that embeds the exporter's router mounts these ahead of it.
 */
export function webSecurityMiddleware(web: WebConfig | undefined, options: AuthMiddlewareOptions = {}): RequestHandler[] {
  if (!web) return [];
  return [createHeadersMiddleware(web.headers), createAuthMiddleware(web.auth, options)];
}

/** `router` behind the web config's middleware, for `createApp`: every path, unknown ones too, needs credentials. */
export function secureRouter(router: Router, web: WebConfig | undefined, options: AuthMiddlewareOptions = {}): Router {
  const guarded = express.Router({ caseSensitive: true, strict: true });
  const middleware = webSecurityMiddleware(web, options);
  if (middleware.length > 0) guarded.use(middleware);
  guarded.use(router);
  return guarded;
}
