// The scraper of the "get" phase, in its own process so it never shares the exporter's event loop.
// argv: JSON {name: url}, requests, warmup. Sends sequential GETs on one keep-alive connection per
// server, alternating between the servers in blocks of BLOCK requests, first without then with
// Accept-Encoding: gzip, and prints JSON. Blocks, not single requests: a server's caches are then
// those of a server scraped over and over (as both are here), not those another process just
// overwrote; alternating blocks still spreads any change in machine load over both.
import http from 'node:http';

const urls = JSON.parse(process.argv[2]);
const requests = Number(process.argv[3]);
const warmup = Number(process.argv[4]);
const BLOCK = 10;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (url, gzip) =>
  new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get(url, { agent, headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => (bytes += chunk.length));
      res.on('end', () => (res.statusCode === 200 ? resolve({ ms: performance.now() - start, bytes }) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
const out = {};
for (const gzip of [false, true]) {
  const encoding = gzip ? 'gzip' : 'identity';
  out[encoding] = {};
  for (const name of Object.keys(urls)) out[encoding][name] = { ms: [], bytes: 0 };
  for (let i = 0; i < warmup + requests; i += BLOCK) {
    for (const name of Object.keys(urls)) {
      for (let j = i; j < Math.min(i + BLOCK, warmup + requests); j++) {
        const { ms, bytes } = await get(urls[name], gzip);
        if (j >= warmup) {
          out[encoding][name].ms.push(ms);
          out[encoding][name].bytes = bytes;
        }
      }
    }
  }
}
process.stdout.write(JSON.stringify(out));
