import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { CollectionError } from './backends/backend.js';
import type { SyncExporter } from './exporter.js';
import { negotiateFormat } from './http/negotiate.js';
import { sendExposition } from './http/send.js';
import type { Logger } from './logger.js';

export const DEFAULT_PORT = 9730;
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

/**
 * The exporter's endpoints as an express router: mount it in an application's own app, or serve
 * it with `createApp`. Only GET and HEAD; anything else on these paths gets 405.
 */
export function createRouter(exporter: SyncExporter, logger?: Logger): Router {
  const router = express.Router({ caseSensitive: true, strict: true });
  const failed = (res: Response, error: unknown) => {
    logger?.error({ err: error }, 'request failed');
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error\n');
  };

  router.get('/metrics', async (req: Request, res: Response) => {
    let rendered;
    try {
      rendered = await exporter.scrape(negotiateFormat(req.get('accept'), exporter.backend.formats));
    } catch (error) {
      if (error instanceof CollectionError) {
        logger?.error({ err: error }, 'metrics collection failed');
        if (!res.headersSent) res.status(500).type('text/plain').set('Cache-Control', 'no-store').send('metrics collection failed\n');
      } else failed(res, error);
      return;
    }
    try {
      await sendExposition(req, res, rendered.contentType, rendered.body);
    } catch (error) {
      failed(res, error);
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
  readonly host: string;
  readonly port: number;
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** Stops accepting, lets in-flight requests finish, then drops idle keep-alive sockets. */
export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

