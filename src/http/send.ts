import type { Request, Response } from 'express';
import type { SharedBody } from './shared-scrapes.js';

/** Bodies below this go out as they are: compressing them costs more than it saves. */
const MIN_GZIP_BYTES = 4096;

/**
 * Sends an exposition body, gzipped when the scraper accepts it (Prometheus always does). zlib
 * runs on libuv's thread pool, so compressing a large body does not block the event loop; the
 * compressed body is shared by every response of the same render.
 */
export async function sendExposition(req: Request, res: Response, exposition: SharedBody): Promise<void> {
  res.set('Content-Type', exposition.contentType).set('Vary', 'Accept, Accept-Encoding').set('Cache-Control', 'no-store');
  if (exposition.body.length >= MIN_GZIP_BYTES && req.acceptsEncodings('gzip', 'identity') === 'gzip') {
    const compressed = await exposition.gzipped();
    if (res.destroyed) return;
    res.set('Content-Encoding', 'gzip').send(compressed);
    return;
  }
  res.send(exposition.body);
}
