import type { IncomingHttpHeaders, Server } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import { SyncExporter } from '../../src/exporter.js';
import { boundPort, closeServer, createApp, createRouter, listen } from '../../src/server.js';
import type { SyncSource } from '../../src/sources/source.js';
import { secureRouter } from '../../src/web/secure-router.js';
import { createServerFactory, type ServerFactoryOptions } from '../../src/web/tls.js';
import type { WebConfig } from '../../src/web/web-config-load.js';

/** A source that never ticks by itself: the test feeds the exporter's state directly. */
export function tinySource(): SyncSource {
  return { kind: 'replay', open: true, now: () => 1000, async start() {}, async close() {} };
}

export function tinyExporter(): SyncExporter {
  const exporter = new SyncExporter(tinySource(), { collectDefaultMetrics: false });
  exporter.state.ingest({
    readAt: 1000,
    rows: [
      { _id: 'peer-a', is_ditto_server: false, documents: { sync_session_status: 'Connected', synced_up_to_local_commit_id: 7, last_update_received_time: 990 } },
      { _id: 'cloud-1', is_ditto_server: true, documents: { sync_session_status: 'Connected', synced_up_to_local_commit_id: 5, last_update_received_time: 995 } },
    ],
  });
  return exporter;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** createApp(createRouter(...)) behind the web config, listening on 127.0.0.1:0 as the CLI would serve it. */
export async function startSecuredExporter(
  web: WebConfig | undefined,
  options: { factory?: ServerFactoryOptions; headersTimeoutMs?: number; requestTimeoutMs?: number } = {},
): Promise<RunningServer> {
  const exporter = tinyExporter();
  const app = createApp(secureRouter(createRouter(exporter), web));
  const server = await listen(app, {
    host: '127.0.0.1',
    port: 0,
    createServer: createServerFactory(web?.tls, options.factory),
    ...(options.headersTimeoutMs !== undefined && { headersTimeoutMs: options.headersTimeoutMs }),
    ...(options.requestTimeoutMs !== undefined && { requestTimeoutMs: options.requestTimeoutMs }),
  });
  const port = boundPort(server);
  return {
    server,
    port,
    url: `${web?.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await closeServer(server);
      await exporter.close();
    },
  };
}

export interface SimpleResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** TLS only: the negotiated cipher and protocol. */
  readonly tls?: { readonly cipher: string; readonly protocol: string | null };
}

export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly maxVersion?: 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers?: string;
}

/** One request on a fresh connection (no agent), so each TLS test does its own handshake. */
export function request(url: string, options: RequestOptions = {}): Promise<SimpleResponse> {
  const secure = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
        timeout: 5000,
        ...(secure && {
          ca: options.ca,
          cert: options.cert,
          key: options.key,
          ...(options.maxVersion && { maxVersion: options.maxVersion }),
          ...(options.ciphers && { ciphers: options.ciphers }),
        }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        const socket = res.socket as import('node:tls').TLSSocket;
        const tls = secure ? { cipher: socket.getCipher().standardName, protocol: socket.getProtocol() } : undefined;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8'), ...(tls && { tls }) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

export const basicHeader = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** What no error response may contain: stack frames, file system paths, module names. */
export const INTERNALS = /\bat \S+ \(|node_modules|\/work\/|\/tmp\/|Error:|\.ts\b|\.js\b/;
