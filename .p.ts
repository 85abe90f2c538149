import { SyncExporter } from './src/exporter.js';
import { renderFamilies } from './src/exposition/render.js';
import { ManualSource, row } from './test/helpers/fake-source.js';
const source = new ManualSource();
const ex = new SyncExporter(source, { collectDefaultMetrics: false, maxPeers: 10000 });
await ex.start();
const ids = Array.from({ length: 10000 }, (_, i) => `pk${String(i).padStart(38, '0')}`);
const withGraph = process.argv[2] === 'graph';
if (withGraph) source.sink!.presence({ localPeer: { peerKey: 'pkL', connections: [] }, remotePeers: ids.map((id, i) => ({ peerKey: id, deviceName: `d${i}`, os: 'iOS', dittoSdkVersion: '5', connections: [] })) }, source.clock);
const ticks: number[] = [], views: number[] = [], renders: number[] = [];
for (let k = 0; k < 40; k++) {
  const rows = ids.map((id, i) => row(id, { status: (i + k) % 3 ? 'Connected' : 'Not Connected', synced: k, lastUpdate: (source.clock - 5) * 1000 }));
  let t = performance.now();
  source.sink!.tick({ rows, readAt: ++source.clock });
  ticks.push(performance.now() - t);
  t = performance.now();
  const v = ex.view();
  views.push(performance.now() - t);
  t = performance.now();
  await renderFamilies(v, 'prometheus');
  renders.push(performance.now() - t);
}
const med = (a: number[]) => a.slice(10).sort((x, y) => x - y)[Math.floor((a.length - 10) / 2)]!.toFixed(2);
console.log(withGraph ? 'graph' : 'nograph', 'tick', med(ticks), 'view', med(views), 'render', med(renders));
await ex.close();
