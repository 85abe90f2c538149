/**
 * The floor of the "get" phase as its own process: a plain prom-client registry holding the same
 * per-peer families, set from the rows on every request, served by node:http. A process of its own,
 * so its garbage is never collected during one of the exporter's requests (or the other way round).
 * argv: peers. Prints its port on stdout, then serves until stdin closes.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMesh, renderTicks } from './fixtures.js';
import { PromClientFloor } from './floor.js';
import { SCRAPE_OFFSET_SECONDS } from './bench-source.js';

const peers = Number(process.argv[2]);
const ticks = renderTicks(createMesh(peers), 2);
const last = ticks[ticks.length - 1]!;
const floor = new PromClientFloor();
const server = createServer((_req, res) => {
  void floor.scrape(last.rows, Number.MAX_SAFE_INTEGER, last.readAt + SCRAPE_OFFSET_SECONDS).then((body) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
