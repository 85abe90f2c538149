/**
 * Counters of the HTTP layer (connection cap, scrape cap, shared renders, auth throttling). The
 * server and router write them; the exporter's families read them at scrape time. One instance
 * per exporter, passed in, never global.
 */
export class HttpStats {
  /** True once a router or server reports here: only then are the HTTP families emitted. */
  used = false;
  /** Set by the standalone server's connection tracker; a mounted router has no view of connections. */
  connectionsTracked = false;
  connections = 0;
  /** Idle or still-sending connections closed to make room under --max-connections. */
  connectionsEvicted = 0;
  /** New connections closed at once: the cap was reached and every connection was busy. */
  connectionsRejected = 0;
  /** /metrics requests in progress (the cap's count; not a family: a scrape would count itself). */
  scrapesInFlight = 0;
  /** /metrics requests answered 503 by --max-concurrent-scrapes. */
  scrapesRejected = 0;
  /** /metrics responses whose connection was closed because they outlasted --scrape-send-timeout. */
  scrapesTimedOut = 0;
  /** /metrics requests served by a render another request had started. */
  scrapesShared = 0;
  /** Renders stopped because every client waiting for them went away. */
  rendersCancelled = 0;
  /** Basic-auth attempts answered 429 or 503 because too many bcrypt checks were waiting. */
  authThrottled = 0;

  view(): HttpView | undefined {
    if (!this.used) return undefined;
    return {
      connections: this.connectionsTracked ? this.connections : undefined,
      connectionsClosed: this.connectionsTracked
        ? new Map([
            ['evicted', this.connectionsEvicted],
            ['rejected', this.connectionsRejected],
          ])
        : undefined,
      scrapesRejected: this.scrapesRejected,
      scrapesTimedOut: this.scrapesTimedOut,
      scrapesShared: this.scrapesShared,
      rendersCancelled: this.rendersCancelled,
      authThrottled: this.authThrottled,
    };
  }
}

/** What one scrape reports about the HTTP layer. */
export interface HttpView {
  /** Undefined unless the exporter's own server is running (a mounted router sees no connections). */
  readonly connections: number | undefined;
  readonly connectionsClosed: ReadonlyMap<'evicted' | 'rejected', number> | undefined;
  readonly scrapesRejected: number;
  readonly scrapesTimedOut: number;
  readonly scrapesShared: number;
  readonly rendersCancelled: number;
  readonly authThrottled: number;
}
