import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { CollectionError } from './backends/backend.js';
import { checkOption, RANGES } from './bounds.js';
import type { SyncExporter } from './exporter.js';
import { ConnectionTracker } from './http/connections.js';
import type { HttpStats } from './http/http-stats.js';
import { negotiateFormat } from './http/negotiate.js';
import { sendExposition } from './http/send.js';
import { SharedScrapes } from './http/shared-scrapes.js';
import type { Logger } from './logger.js';

export const DEFAULT_PORT = 9730;

export const SERVER_DEFAULTS = Object.freeze({
  /** Open connections at most; a Prometheus server keeps one per target. */
  maxConnections: 512,
  /** /metrics requests in progress at most (renders of one snapshot are shared among them). */
  maxConcurrentScrapes: 16,
  /** Seconds a /metrics response may take, render and send, before its connection is closed. */
  scrapeSendTimeoutSeconds: 60,
  /** How long in-flight responses get after a stop signal. */
  shutdownGraceSeconds: 10,
});

/** closeServer's grace in milliseconds: the range of --shutdown-grace. */
const SHUTDOWN_GRACE_MS = { min: RANGES.shutdownGrace.min * 1000, max: RANGES.shutdownGrace.max * 1000, unit: 'ms' } as const;

/** Seconds a scraper refused by the concurrency cap is asked to wait. */
const RETRY_AFTER_SECONDS = 1;
/** The only paths served; anything else is 404, other methods on these 405. */
export const ENDPOINTS = ['/', '/metrics', '/healthz', '/readyz'] as const;

const LANDING = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ditto Sync Exporter</title></head>
<body><h1>Ditto Sync Exporter</h1>
<p>Prometheus metrics for Ditto's <code>system:data_sync_info</code>.</p>
<ul><li><a href="metrics">metrics</a></li><li><a href="healthz">healthz</a></li><li><a href="readyz">readyz</a></li></ul>
</body></html>
`;

/** Sets the headers a page served beside user data should carry. */
function securityHeaders(res: Response): void {
  res.set({
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  });
}

export interface RouterOptions {
  /** /metrics requests in progress at most; more get 503 with Retry-After (default 16). */
  readonly maxConcurrentScrapes?: number;
  /**
   * Seconds a /metrics response may take, render and send (default 60). Past it the connection is
   * closed: a client that reads slowly or not at all would otherwise hold a scrape slot for ever.
   */
  readonly scrapeSendTimeout?: number;
}

/**
 * The exporter's endpoints as an express router: mount it in an application's own app, or serve
 * it with `createApp`. Only GET and HEAD; anything else on these paths gets 405. Concurrent
 * scrapes share renders, at most `maxConcurrentScrapes` are in progress, and a render whose
 * clients all went away stops.
 */
export function createRouter(exporter: SyncExporter, logger?: Logger, options: RouterOptions = {}): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const maxScrapes = options.maxConcurrentScrapes ?? SERVER_DEFAULTS.maxConcurrentScrapes;
  checkOption(maxScrapes, 'maxConcurrentScrapes', RANGES.maxConcurrentScrapes);
  const sendTimeout = options.scrapeSendTimeout ?? SERVER_DEFAULTS.scrapeSendTimeoutSeconds;
  checkOption(sendTimeout, 'scrapeSendTimeout', RANGES.scrapeSendTimeout);
  const stats = exporter.http;
  stats.used = true;
  const shared = new SharedScrapes(exporter, stats);
  const failed = (res: Response, error: unknown) => {
    logger?.error({ err: error }, 'request failed');
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
  };

  router.get('/metrics', async (req: Request, res: Response) => {
    if (stats.scrapesInFlight >= maxScrapes) {
      stats.scrapesRejected++;
      res.status(503).set('Retry-After', String(RETRY_AFTER_SECONDS)).set('Cache-Control', 'no-store').type('text/plain').send('too many concurrent scrapes\n');
      return;
    }
    stats.scrapesInFlight++;
    const client = new AbortController();
    // Node has no write timeout: a reader that stops reading would keep its slot, and 16 of them
    // every scrape's, for as long as they like.
    const deadline = setTimeout(() => {
      stats.scrapesTimedOut++;
      res.destroy();
    }, sendTimeout * 1000);
    deadline.unref();
    res.once('close', () => {
      clearTimeout(deadline);
      stats.scrapesInFlight--;
      // Closed before the body was written: the client went away.
      if (!res.writableFinished) client.abort(new Error('the client went away'));
    });
    let rendered;
    try {
      rendered = await shared.get(negotiateFormat(req.get('accept'), exporter.backend.formats), client.signal);
    } catch (error) {
      if (client.signal.aborted) return;
      if (error instanceof CollectionError) {
        logger?.error({ err: error }, 'metrics collection failed');
        if (!res.headersSent) res.status(500).type('text/plain').set('Cache-Control', 'no-store').send('metrics collection failed\n');
      } else failed(res, error);
      return;
    }
    // The body lives in a pooled buffer: it goes back once this response has written it, or closed.
    if (res.closed) rendered.release();
    else res.once('close', rendered.release);
    try {
      await sendExposition(req, res, rendered);
    } catch (error) {
      if (!client.signal.aborted) failed(res, error);
    }
  });
  router.get('/healthz', (_req, res) => {
    res.type('text/plain').set('Cache-Control', 'no-store').send('ok\n');
  });
  router.get('/readyz', async (_req, res) => {
    try {
      await exporter.ensureFresh();
      const { ready, reason } = exporter.readiness();
      res.status(ready ? 200 : 503).type('text/plain').set('Cache-Control', 'no-store').send(`${reason}\n`);
    } catch (error) {
      failed(res, error);
    }
  });
  router.get('/', (_req, res) => {
    securityHeaders(res);
    res.type('html').send(LANDING);
  });
  router.all([...ENDPOINTS], (_req, res) => {
    res.set('Allow', 'GET, HEAD').status(405).type('text/plain').send('method not allowed\n');
  });
  return router;
}

/** A standalone app around the router: 404 for unknown paths, no stack traces ever. */
export function createApp(router: Router, logger?: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(router);
  app.use((_req: Request, res: Response) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger?.error({ err: error }, 'request failed');
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
  });
  return app;
}

export interface ListenOptions {
  /** Undefined: every interface, IPv6 and IPv4 where the host has both. */
  readonly host?: string;
  readonly port: number;
  /** Open connections at most (default 512); see ConnectionTracker for what happens at the cap. */
  readonly maxConnections?: number;
  /** Where the connection counters go (the exporter's `http`). */
  readonly stats?: HttpStats;
  /** Slow-client limits (ms). */
  readonly requestTimeoutMs?: number;
  readonly headersTimeoutMs?: number;
  /** Builds the server; the default is plain HTTP. */
  readonly createServer?: (app: express.Express) => Server;
}

export async function listen(app: express.Express, options: ListenOptions): Promise<Server> {
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  // Node enforces header and request timeouts only every connectionsCheckingInterval (default 30 s).
  const server = options.createServer
    ? options.createServer(app)
    : createServer({ connectionsCheckingInterval: Math.min(1000, headersTimeout) }, app);
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.headersTimeout = headersTimeout;
  server.keepAliveTimeout = 5_000;
  const maxConnections = options.maxConnections ?? SERVER_DEFAULTS.maxConnections;
  checkOption(maxConnections, 'maxConnections', RANGES.maxConnections);
  trackers.set(server, new ConnectionTracker(server, { maxConnections, stats: options.stats }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

const trackers = new WeakMap<Server, ConnectionTracker>();

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/**
 * Stops accepting and closes every connection within `graceMs` (default 10 s): idle and half-sent
 * ones at once, the others once their response is delivered, and whatever is left when the grace
 * ends. Resolves when no connection is left.
 */
export async function closeServer(server: Server, graceMs: number = SERVER_DEFAULTS.shutdownGraceSeconds * 1000): Promise<void> {
  checkOption(graceMs, 'graceMs', SHUTDOWN_GRACE_MS);
  const tracker = trackers.get(server);
  if (tracker) {
    await tracker.drain(graceMs);
    return;
  }
  // A server listen() did not make: Node's own close, bounded the same way.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}

/** Cuts a closeServer() grace short: every connection is closed now (a second stop signal). */
export function closeAllNow(server: Server): void {
  const tracker = trackers.get(server);
  if (tracker) tracker.closeAll();
  else server.closeAllConnections();
}

