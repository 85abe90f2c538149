import type { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../logger.js';
import { VERIFYING_CLIENT_AUTH } from './web-config.js';
import { secureContextOptions, type TlsSettings } from './web-config-load.js';
import { httpServerFactory, type ServerFactory, type ServerFactoryOptions } from './http-server.js';

export { httpServerFactory, type ServerFactory, type ServerFactoryOptions };

/** HTTPS when the web config has tls_server_config, plain HTTP otherwise; both with slow-client limits enforced promptly. */
export function createServerFactory(tls: TlsSettings | undefined, options: ServerFactoryOptions = {}): ServerFactory {
  return tls ? httpsServerFactory(tls, options) : httpServerFactory(options);
}

/**
 * HTTPS with exporter-toolkit's client_auth_type semantics. OpenSSL enforces
 * RequireAndVerifyClientCert during the handshake; the other policies (and client_allowed_sans)
 * are checked as soon as the handshake completes, and a failing connection is closed before any
 * request is read.
 */
export function httpsServerFactory(tls: TlsSettings, options: ServerFactoryOptions = {}): (app: http.RequestListener) => https.Server {
  const requestCert = tls.clientAuth !== 'NoClientCert';
  return (app) => {
    const server = https.createServer(
      {
        ...secureContextOptions(tls),
        requestCert,
        rejectUnauthorized: tls.clientAuth === 'RequireAndVerifyClientCert',
        handshakeTimeout: options.handshakeTimeoutMs ?? 10_000,
        connectionsCheckingInterval: options.connectionsCheckingIntervalMs ?? 1000,
        ALPNProtocols: ['http/1.1'],
      },
      app,
    );
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      const reason = clientCertificateRejection(socket, tls);
      if (reason === undefined) return;
      options.logger?.debug({ remote: socket.remoteAddress, reason }, 'TLS client rejected');
      socket.destroy();
    });
    server.on('tlsClientError', (error: Error, socket: Socket) => {
      options.logger?.debug({ remote: socket.remoteAddress, reason: error.message }, 'TLS handshake failed');
      socket.destroy();
    });
    return server;
  };
}

/** Why this connection's client certificate is not acceptable under the policy, or undefined when it is. */
export function clientCertificateRejection(socket: TLSSocket, tls: TlsSettings): string | undefined {
  if (tls.clientAuth === 'NoClientCert' || tls.clientAuth === 'RequestClientCert') return undefined;
  const cert = socket.getPeerX509Certificate();
  if (!cert) return tls.clientAuth === 'VerifyClientCertIfGiven' ? undefined : 'no client certificate';
  if (VERIFYING_CLIENT_AUTH.includes(tls.clientAuth) && !socket.authorized) {
    return `client certificate not trusted (${String(socket.authorizationError)})`;
  }
  if (tls.clientAllowedSans && !hasAllowedSan(cert, tls.clientAllowedSans)) return 'client certificate has none of client_allowed_sans';
  return undefined;
}

function hasAllowedSan(cert: X509Certificate, allowed: readonly string[]): boolean {
  const wanted = new Set(allowed.map(normalizeIp));
  return subjectAltNames(cert.subjectAltName).some((name) => wanted.has(name));
}

const SAN_TYPES: ReadonlyMap<string, boolean> = new Map([
  ['DNS', false],
  ['email', false],
  ['URI', false],
  ['IP Address', true],
]);

/**
 * The DNS, email, URI and IP values of Node's subjectAltName text, as Go lists them for
 * client_allowed_sans. Node quotes values with special characters as JSON strings (commas
 * escaped), so ", " only ever separates entries.
 */
export function subjectAltNames(text: string | undefined): string[] {
  if (!text) return [];
  const names: string[] = [];
  for (const entry of text.split(', ')) {
    const colon = entry.indexOf(':');
    const isIp = SAN_TYPES.get(entry.slice(0, colon));
    if (colon < 0 || isIp === undefined) continue;
    let value = entry.slice(colon + 1);
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    names.push(isIp ? normalizeIp(value) : value);
  }
  return names;
}

/** Node prints IPv6 SANs uncompressed (0:0:0:0:0:0:0:1), Go compressed (::1); compare one form. */
function normalizeIp(value: string): string {
  if (!value.includes(':')) return value;
  try {
    return new URL(`http://[${value}]/`).hostname.slice(1, -1);
  } catch {
    return value;
  }
}
