import type { Conn, ConnectionObserver, Handler, Listener, Router } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { resetConn } from '../common/reset.js';
import { sessionUdpLimitOf } from '../common/udp/association-limits.js';

export interface ServiceOptions {
  name: string;
  listener: Listener;
  handler: Handler;
  router: Router;
  log: Logger;
  observer?: ConnectionObserver | undefined;
}

/** Bytes a connection carried, when its type counts them (sockets, smux streams). */
function byteCounts(conn: Conn): { bytesIn: number; bytesOut: number } {
  const c = conn as Conn & { bytesRead?: unknown; bytesWritten?: unknown };
  return {
    bytesIn: typeof c.bytesRead === 'number' ? c.bytesRead : 0,
    bytesOut: typeof c.bytesWritten === 'number' ? c.bytesWritten : 0,
  };
}

/**
 * The router as the handler of `conn` sees it. When `conn` can be told that its request was read
 * (an smux stream, see SmuxStream.requestRead), the handler's first use of the router tells it: a
 * handler dials, binds or relays only once it has read the whole request.
 */
function routerFor(router: Router, conn: Conn): Router {
  const requestRead = (conn as Conn & { requestRead?: unknown }).requestRead;
  if (typeof requestRead !== 'function') return router;
  let told = false;
  return new Proxy(router, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        if (!told) {
          told = true;
          (requestRead as () => void).call(conn);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

export interface ServiceStats {
  /** Connections accepted since start. */
  accepted: number;
  /** Connections being handled now. */
  active: number;
}

/**
 * A GOST service: a listener whose every connection goes to a handler, with the router the handler
 * dials through. Each connection gets a child logger (`cid`, `client`) and an abort
 * signal; `close()` stops accepting, aborts handlers and destroys what is still open.
 */
export class Service {
  readonly name: string;
  readonly listener: Listener;
  private readonly handler: Handler;
  private readonly router: Router;
  private readonly log: Logger;
  private readonly observer: ConnectionObserver | undefined;
  /**
   * Each open connection with its own abort controller. Not one signal shared by all: an
   * EventTarget scans its whole listener list on every add and remove, so with thousands of
   * connections listening on one signal each new connection cost time proportional to the open ones.
   */
  private readonly open = new Map<Conn, AbortController>();
  private closing = false;
  private accepted = 0;
  /** Called when the last open connection is done, or when close() cuts a graceful stop short. */
  private onDrained: (() => void) | undefined;

  constructor(opts: ServiceOptions) {
    this.name = opts.name;
    this.listener = opts.listener;
    this.handler = opts.handler;
    this.router = opts.router;
    this.log = opts.log;
    this.observer = opts.observer;
  }

  get stats(): ServiceStats {
    return { accepted: this.accepted, active: this.open.size };
  }

  /** Starts listening; resolves once bound. */
  async start(): Promise<void> {
    await this.listener.listen((conn) => this.serve(conn));
    this.log.info({ addr: this.listener.address() }, 'listening');
  }

  address(): string {
    return this.listener.address();
  }

  private serve(conn: Conn): void {
    this.accepted += 1;
    const client = `${conn.remoteAddress ?? '?'}:${conn.remotePort ?? 0}`;
    const log = this.log.child({ cid: this.accepted, client });
    const abort = new AbortController();
    if (this.closing) abort.abort();
    this.open.set(conn, abort);
    // The handler owns the connection; this listener only keeps an error from going unhandled.
    conn.on('error', (err: Error) => log.debug({ err: err.message }, 'connection error'));
    log.debug('accepted');
    this.observer?.connectionOpened(this.name);
    const started = Date.now();
    let failure: string | undefined;
    const fail = (reason: string): void => {
      failure ??= reason;
    };
    this.handler
      .handle(conn, {
        router: routerFor(this.router, conn),
        log,
        signal: abort.signal,
        clientAddr: client,
        fail,
        sessionUdp: sessionUdpLimitOf(conn),
      })
      .catch((err: unknown) => {
        fail((err as Error).message);
        log.warn({ err: (err as Error).message }, 'handler failed');
      })
      .finally(() => {
        this.open.delete(conn);
        if (this.open.size === 0) this.onDrained?.();
        if (!conn.destroyed) conn.destroy();
        const bytes = byteCounts(conn);
        this.observer?.connectionClosed(this.name, { ...bytes, failed: failure !== undefined });
        log.debug({ ms: Date.now() - started, ...bytes, ...(failure ? { failed: failure } : {}) }, 'closed');
      });
  }

  /**
   * Graceful stop: stops accepting, lets the open connections finish for up to `graceMs`, then
   * closes (what is still open then is reset). A close() meanwhile ends the wait at once.
   */
  async stop(graceMs: number): Promise<void> {
    this.closing = true;
    this.listener.stopAccepting?.();
    if (graceMs > 0 && this.open.size > 0) {
      this.log.info({ open: this.open.size, graceMs }, 'stopping: waiting for open connections');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => this.onDrained?.(), graceMs);
        this.onDrained = () => {
          clearTimeout(timer);
          this.onDrained = undefined;
          resolve();
        };
      });
      if (this.open.size > 0)
        this.log.warn({ open: this.open.size }, 'stopping: grace period over, resetting');
    }
    await this.close();
  }

  /**
   * Stops accepting and cuts every connection still open: the listener goes first, so that a
   * multiplexing listener's sessions end as broken (their peers reset their applications) rather
   * than passing each stream's close on as an ordinary end; then every handler is aborted, which
   * resets what it relays.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.onDrained?.();
    const listenerClosed = this.listener.close();
    for (const abort of this.open.values()) abort.abort();
    await listenerClosed;
    for (const conn of this.open.keys()) resetConn(conn);
    this.open.clear();
  }
}
