import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Request, Response } from 'express';

const gzipAsync = promisify(gzip);

/** Bodies below this go out as they are: compressing them costs more than it saves. */
const MIN_GZIP_BYTES = 4096;

/**
 * Sends an exposition body, gzipped when the scraper accepts it (Prometheus always does). zlib
 * runs on libuv's thread pool, so compressing a large body does not block the event loop.
 */
export async function sendExposition(req: Request, res: Response, contentType: string, body: string): Promise<void> {
  res.set('Content-Type', contentType).set('Vary', 'Accept, Accept-Encoding').set('Cache-Control', 'no-store');
  if (body.length >= MIN_GZIP_BYTES && req.acceptsEncodings('gzip', 'identity') === 'gzip') {
    const compressed = await gzipAsync(body);
    res.set('Content-Encoding', 'gzip').send(compressed);
    return;
  }
  res.send(body);
}
