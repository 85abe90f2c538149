/** Web security for the exporter's HTTP endpoints: what the CLI and embedding applications import. */
export { createAuthMiddleware, DEFAULT_REALM, type AuthMiddlewareOptions } from './auth.js';
export { createHeadersMiddleware } from './headers.js';
export { secureRouter, webSecurityMiddleware } from './secure-router.js';
export { createServerFactory, httpServerFactory, httpsServerFactory, type ServerFactory, type ServerFactoryOptions } from './tls.js';
export { describeWebConfig, loadWebConfig, type AuthSettings, type TlsSettings, type WebConfig } from './web-config-load.js';
export { CLIENT_AUTH_TYPES, parseWebConfig, validateWebConfig, WebConfigError, type ClientAuthType } from './web-config.js';
