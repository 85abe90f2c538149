import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';
import type { HttpStats } from './http-stats.js';

interface Tracked {
  /** The HTTP-level socket (a TLSSocket over HTTPS) once a request arrived on it. */
  http: Socket | undefined;
  /** Responses in progress on this connection. */
  readonly active: Set<ServerResponse>;
}

export interface ConnectionTrackerOptions {
  /** At most this many open connections (the cap). */
  readonly maxConnections: number;
  readonly stats?: HttpStats;
}

/**
 * Every connection of a server, for the connection cap and a bounded shutdown.
 *
 * The cap: when a connection arrives at the cap, the oldest connection with no response in
 * progress (idle keep-alive, or still sending its request) is closed to make room, so sockets that
 * never finish their headers cannot starve real scrapes. If every connection is busy, the new one
 * is closed at once.
 *
 * The drain: Node stops enforcing its header and request timeouts once `server.close()` is
 * called, so a half-sent request could hold the process for as long as its client likes. Draining
 * closes every connection with nothing in progress at once, lets responses in progress finish
 * (their connection closes once the client has the whole body), and closes whatever is still
 * open when the grace period ends.
 */
export class ConnectionTracker {
  private readonly sockets = new Map<Socket, Tracked>();
  private draining = false;
  private drainDone: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly server: Server,
    private readonly options: ConnectionTrackerOptions,
  ) {
    if (options.stats) options.stats.connectionsTracked = true;
    server.on('connection', (socket: Socket) => this.accept(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.request(req, res));
  }

  get open(): number {
    return this.sockets.size;
  }

  /**
   * Stops accepting and closes every connection within `graceMs`: at once for those with nothing
   * in progress, once their response is delivered for the others. Resolves when none is left.
   */
  drain(graceMs: number): Promise<void> {
    this.drainDone ??= this.runDrain(graceMs);
    return this.drainDone;
  }

  private async runDrain(graceMs: number): Promise<void> {
    this.draining = true;
    // http.Server#close() also destroys every connection whose response has *ended*, even with
    // megabytes of it still queued for a slow reader, and stops the header and request timeout
    // checks. The plain net.Server close only stops accepting; this tracker closes the rest.
    NetServer.prototype.close.call(this.server);
    for (const [socket, tracked] of this.sockets) {
      if (tracked.active.size > 0) {
        // Closed when its response is done; the response says it is the connection's last.
        for (const res of tracked.active) if (!res.headersSent) res.setHeader('Connection', 'close');
        continue;
      }
      if (queued(socket, tracked) > 0) closeWhenFlushed(socket, tracked);
      else socket.destroy();
    }
    if (this.sockets.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        timer = setTimeout(() => this.closeAll(), graceMs);
      });
      clearTimeout(timer);
    }
    // Nothing is left: now http.Server#close() only stops its timeout checks.
    this.server.close();
  }

  /** Closes every connection now (the grace is over, or a second signal cut it short). */
  closeAll(): void {
    for (const socket of this.sockets.keys()) socket.destroy();
  }

  private accept(socket: Socket): void {
    if (this.draining) {
      socket.destroy();
      return;
    }
    if (this.sockets.size >= this.options.maxConnections && !this.evictOne()) {
      if (this.options.stats) this.options.stats.connectionsRejected++;
      socket.destroy();
      return;
    }
    this.sockets.set(socket, { http: undefined, active: new Set() });
    this.count();
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.count();
      if (this.draining && this.sockets.size === 0) this.drained?.();
    });
  }

  /** Closes the oldest connection with nothing in progress; false when every one is busy. */
  private evictOne(): boolean {
    for (const [socket, tracked] of this.sockets) {
      if (tracked.active.size > 0 || queued(socket, tracked) > 0 || socket.destroyed) continue;
      socket.destroy();
      this.sockets.delete(socket);
      if (this.options.stats) this.options.stats.connectionsEvicted++;
      return true;
    }
    return false;
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    const raw = rawSocket(req.socket);
    const tracked = this.sockets.get(raw);
    if (!tracked) return;
    tracked.http = req.socket;
    tracked.active.add(res);
    // During the drain a response says it is the connection's last.
    if (this.draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      tracked.active.delete(res);
      if (this.draining && tracked.active.size === 0) closeWhenFlushed(raw, tracked);
    });
  }

  private count(): void {
    if (this.options.stats) this.options.stats.connections = this.sockets.size;
  }
}

/** Bytes Node still holds for this connection (not yet handed to the kernel). */
function queued(raw: Socket, tracked: Tracked): number {
  const http = tracked.http;
  return (http?.writableLength ?? 0) + (http && http !== raw ? raw.writableLength : 0);
}

/**
 * Ends the connection behind its queued bytes: end() sends them, then a clean end of stream, and
 * the connection closes once the client has read everything and closed its side. destroy() here
 * would drop what is still queued.
 */
function closeWhenFlushed(raw: Socket, tracked: Tracked): void {
  (tracked.http ?? raw).end();
}

/** Over HTTPS the request's socket is the TLSSocket wrapped around the accepted TCP socket. */
function rawSocket(socket: Socket): Socket {
  return ((socket as Socket & { _parent?: Socket })._parent ?? socket) as Socket;
}
