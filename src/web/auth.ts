import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { HttpStats } from '../http/http-stats.js';
import { LogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import { BasicAuthVerifier, type VerifyOutcome } from './basic-auth.js';
import type { AuthSettings } from './web-config-load.js';

export const DEFAULT_REALM = 'ditto-sync-exporter';

export interface AuthMiddlewareOptions {
  /** Realm in the WWW-Authenticate challenge (default "ditto-sync-exporter"). */
  readonly realm?: string;
  /** Failed attempts are logged at debug level, without credentials. */
  readonly logger?: Logger;
  /** bcrypt checks allowed to wait, all clients together, before further attempts get 503 (default 32). */
  readonly maxQueuedVerifications?: number;
  /** bcrypt checks one remote address may have waiting before its further attempts get 429 (default 8). */
  readonly maxQueuedPerClient?: number;
  /** Counts throttled attempts (ditto_sync_exporter_auth_throttled_total). */
  readonly stats?: HttpStats;
}

/** Seconds a throttled client is asked to wait before trying again. */
const RETRY_AFTER_SECONDS = 1;

const BODIES: Record<'throttled' | 'overloaded' | 'unavailable', string> = {
  throttled: 'too many login attempts\n',
  overloaded: 'too many login attempts, try again\n',
  unavailable: 'cannot check credentials now, try again\n',
};

/**
 * Express middleware that lets a request through only with valid basic-auth or bearer credentials.
 * Wrong or missing credentials get 401 with a challenge and no detail. While too many bcrypt
 * checks wait, an attempt gets 429 (its address has too many waiting) or 503 (all together), with
 * Retry-After: a flood never turns a correct login into a 401. A check that could not be made (its
 * bcrypt worker died, and the retry's too) gets 503 as well, never 401. With neither configured it passes
 * everything. Mount it ahead of every route it should protect: `app.use(auth, router)`.
 */
export function createAuthMiddleware(auth: AuthSettings, options: AuthMiddlewareOptions = {}): RequestHandler {
  const realm = options.realm ?? DEFAULT_REALM;
  if (!/^[\x20-\x7e]*$/.test(realm) || /["\\]/.test(realm)) throw new RangeError('realm must be printable ASCII without quotes or backslashes');
  const basic =
    auth.basicAuthUsers.size > 0
      ? new BasicAuthVerifier(auth.basicAuthUsers, { maxQueued: options.maxQueuedVerifications, maxQueuedPerClient: options.maxQueuedPerClient })
      : undefined;
  if (basic?.mixedCosts) {
    options.logger?.info('basic_auth_users hashes differ in bcrypt cost: every check is made to take as long as one at the highest cost');
  }
  const bearer = auth.bearerToken !== undefined ? digest(auth.bearerToken) : undefined;
  if (!basic && !bearer) return (_req, _res, next) => next();
  const logLimiter = new LogLimiter((kind, suppressed, seconds) =>
    options.logger?.warn({ suppressed, seconds: Math.round(seconds) }, `${suppressed} more "${kind}" lines not logged one by one`),
  );

  const challenges = [...(basic ? [`Basic realm="${realm}"`] : []), ...(bearer ? [`Bearer realm="${realm}"`] : [])];
  const outcome = async (req: Request): Promise<VerifyOutcome> => {
    const credentials = parseAuthorization(req.headers.authorization);
    if (credentials?.scheme === 'basic' && basic) {
      const pair = decodeBasic(credentials.value);
      return pair === undefined ? 'denied' : basic.verify(pair.user, pair.password, req.socket.remoteAddress ?? '');
    }
    if (credentials?.scheme === 'bearer' && bearer) return timingSafeEqual(digest(credentials.value), bearer) ? 'ok' : 'denied';
    return 'denied';
  };

  return async (req: Request, res: Response, next: NextFunction) => {
    const result = await outcome(req);
    if (result === 'ok') {
      next();
      return;
    }
    if (result === 'throttled' || result === 'overloaded' || result === 'unavailable') {
      if (result === 'unavailable') {
        if (logLimiter.allow('basic-auth check failed')) options.logger?.warn({ remote: req.socket.remoteAddress, path: req.path }, 'basic-auth check failed (its bcrypt worker died, and the retry\'s too): answered 503');
      } else {
        if (options.stats) options.stats.authThrottled++;
        options.logger?.debug({ remote: req.socket.remoteAddress, path: req.path, result }, 'authentication throttled');
      }
      res
        .status(result === 'throttled' ? 429 : 503)
        .set('Retry-After', String(RETRY_AFTER_SECONDS))
        .set('Cache-Control', 'no-store')
        .type('text/plain')
        .send(BODIES[result]);
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
