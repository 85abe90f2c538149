import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BlockRecorder, longestOutside, longestWithin } from './blocks.js';
import { tsChild } from './child.js';
import type { BenchBackend } from './exporters.js';
import { LiveExporter } from './live.js';
import type { ScrapeReport } from './scrape-child.js';
import { summarize, type Summary } from './stats.js';

export interface EventLoopResult {
  readonly peers: number;
  readonly seconds: number;
  /** Event-loop delay of the host process, milliseconds. */
  readonly delayP50: number;
  readonly delayP99: number;
  readonly delayMax: number;
  /** Longest block while a scrape was in progress (request in to last byte out), ms. */
  readonly longestBlockInScrape: number;
  /** Longest block while a tick was being applied, ms. */
  readonly longestBlockInTick: number;
  /** Longest block with neither running (GC of earlier work, the OS running something else), ms. */
  readonly longestBlockElsewhere: number;
  readonly tick: Summary;
  /** As the scraper saw it, milliseconds. */
  readonly scrapeLatency: Summary;
  readonly scrapes: number;
  readonly bodyBytes: number;
  /** Scrapes whose body was not complete and correct (empty when all were). */
  readonly incomplete: string[];
}

/** Sampling every millisecond: fine enough to see any block worth talking about. */
const RESOLUTION_MS = 1;

/**
 * The host app's event loop while Ditto ticks every 500 ms and Prometheus scrapes every second,
 * from a separate process, as in production.
 */
export async function measureEventLoop(backend: BenchBackend, peers: number, seconds: number): Promise<EventLoopResult> {
  const live = await LiveExporter.start(backend, peers);
  try {
    live.startTicking();
    // One scrape first, so lazy initialisation is not counted.
    await (await fetch(live.url)).text();
    const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    histogram.enable();
    const recorder = new BlockRecorder();
    const ticksBefore = live.tickDurations.length;
    const scrapesBefore = live.scrapeWindows.length;
    const report = JSON.parse(await tsChild('./scrape-child.ts', [live.url, String(seconds), '1000', String(peers)])) as ScrapeReport;
    recorder.stop();
    histogram.disable();
    const scrapes = live.scrapeWindows.slice(scrapesBefore);
    const ticks = live.tickWindows.slice(ticksBefore);
    const ms = (ns: number) => ns / 1e6;
    return {
      peers,
      seconds,
      delayP50: ms(histogram.percentile(50)),
      delayP99: ms(histogram.percentile(99)),
      delayMax: ms(histogram.max),
      longestBlockInScrape: longestWithin(recorder.blocks, scrapes),
      longestBlockInTick: longestWithin(recorder.blocks, ticks),
      longestBlockElsewhere: longestOutside(recorder.blocks, [...scrapes, ...ticks]),
      tick: summarize(live.tickDurations.slice(ticksBefore)),
      scrapeLatency: summarize(report.latenciesMs),
      scrapes: report.scrapes,
      bodyBytes: report.bodyBytes,
      incomplete: report.incomplete,
    };
  } finally {
    await live.stop();
  }
}
