import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../logger.js';
import { BasicAuthVerifier } from './basic-auth.js';
import type { AuthSettings } from './web-config-load.js';

export const DEFAULT_REALM = 'ditto-sync-exporter';

export interface AuthMiddlewareOptions {
  /** Realm in the WWW-Authenticate challenge (default "ditto-sync-exporter"). */
  readonly realm?: string;
  /** Failed attempts are logged at debug level, without credentials. */
  readonly logger?: Logger;
  /** bcrypt checks allowed to queue before further attempts fail at once (default 32). */
  readonly maxQueuedVerifications?: number;
}

/**
 * Express middleware that lets a request through only with valid basic-auth or bearer credentials.
 * Anything else gets 401 with a challenge and no detail. With neither configured it passes
 * everything. Mount it ahead of every route it should protect: `app.use(auth, router)`.
 */
export function createAuthMiddleware(auth: AuthSettings, options: AuthMiddlewareOptions = {}): RequestHandler {
  const realm = options.realm ?? DEFAULT_REALM;
  if (!/^[\x20-\x7e]*$/.test(realm) || /["\\]/.test(realm)) throw new RangeError('realm must be printable ASCII without quotes or backslashes');
  const basic = auth.basicAuthUsers.size > 0 ? new BasicAuthVerifier(auth.basicAuthUsers, { maxQueued: options.maxQueuedVerifications }) : undefined;
  const bearer = auth.bearerToken !== undefined ? digest(auth.bearerToken) : undefined;
  if (!basic && !bearer) return (_req, _res, next) => next();

  const challenges = [...(basic ? [`Basic realm="${realm}"`] : []), ...(bearer ? [`Bearer realm="${realm}"`] : [])];
  const allowed = async (header: string | undefined): Promise<boolean> => {
    const credentials = parseAuthorization(header);
    if (credentials?.scheme === 'basic' && basic) {
      const pair = decodeBasic(credentials.value);
      return pair !== undefined && (await basic.verify(pair.user, pair.password));
    }
    if (credentials?.scheme === 'bearer' && bearer) return timingSafeEqual(digest(credentials.value), bearer);
    return false;
  };

  return async (req: Request, res: Response, next: NextFunction) => {
    if (await allowed(req.headers.authorization)) {
      next();
      return;
    }
    options.logger?.debug({ remote: req.socket.remoteAddress, path: req.path }, 'unauthorized request');
    res.status(401).set('WWW-Authenticate', challenges).set('Cache-Control', 'no-store').type('text/plain').send('unauthorized\n');
  };
}

/** Scheme (lower case) and credentials of an Authorization header, or undefined when malformed. */
export function parseAuthorization(header: string | undefined): { scheme: string; value: string } | undefined {
  const match = header === undefined ? null : /^([A-Za-z][A-Za-z0-9-]*) +([\x21-\x7e]+) *$/.exec(header);
  return match ? { scheme: match[1]!.toLowerCase(), value: match[2]! } : undefined;
}

/** user:password from base64 (strict alphabet, as Go's decoder); undefined without a colon. */
export function decodeBasic(value: string): { user: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Comparing fixed-length digests keeps both the content and the length of the token out of the timing. */
const digest = (token: string): Buffer => createHash('sha256').update(token).digest();
