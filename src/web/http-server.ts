import http from 'node:http';
import type { Logger } from '../logger.js';

// Plain HTTP only: the CLI without --web.config.file serves through this and never loads the web
// config stack (yaml, zod, bcrypt); tls.ts builds HTTPS on the same options.

/** How the log line at start describes serving without a web config. */
export const PLAIN_HTTP_DESCRIPTION = 'plain HTTP, no authentication';

export interface ServerFactoryOptions {
  /**
   * How often Node enforces headersTimeout and requestTimeout (ms, default 1000). Node's own
   * default of 30 s lets a client that never finishes its headers hold a socket that much longer.
   */
  readonly connectionsCheckingIntervalMs?: number;
  /** A TLS handshake must finish within this (ms, default 10 000; Node's default is 120 000). */
  readonly handshakeTimeoutMs?: number;
  /** Rejected TLS clients are logged at debug level. */
  readonly logger?: Logger;
}

/** Fits `listen(app, { createServer })` in src/server.ts. */
export type ServerFactory = (app: http.RequestListener) => http.Server;

export function httpServerFactory(options: ServerFactoryOptions = {}): ServerFactory {
  return (app) => http.createServer({ connectionsCheckingInterval: options.connectionsCheckingIntervalMs ?? 1000 }, app);
}
