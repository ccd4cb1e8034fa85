import type { Binder, BoundTunnel, Conn, Listener } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { DEFAULT_LIMITS, limitReporter } from '../../common/limits.js';

export interface RtcpListenerOptions {
  /** The address the last node of the chain should listen on for us (`:2222`). */
  addr: string;
  /** The listener's chain (`listener.chain`). */
  binder: Binder;
  log: Logger;
  /** First retry delay after a failed bind, ms. Default 1000 (GOST). */
  minBackoffMs?: number;
  /** Longest retry delay, ms. Default 5000 (GOST). */
  maxBackoffMs?: number;
  /** Peer connections a tunnel holds before the service takes them (`backlog`); default 1024. */
  backlog?: number | undefined;
}

/**
 * GOST's `rtcp` listener (x/listener/rtcp): asks the last node of its chain to listen on `addr` (a
 * multiplexed BIND) and hands every connection that arrives there to the service's handler (the
 * `rtcp` forwarder to the local target). When the tunnel dies it binds again, as GOST's service
 * loop does: the first retry after 1 s, each further failure doubling the wait up to 5 s; one log
 * line per attempt. `listen()` resolves at once: the service runs while the server is away.
 */
export class RtcpListener implements Listener {
  private readonly opts: RtcpListenerOptions;
  private readonly abort = new AbortController();
  private tunnel: BoundTunnel | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** False once a graceful stop began: new peers are refused and no new bind is made. */
  private accepting = true;
  /** Binds that succeeded (tests and logs). */
  binds = 0;

  constructor(opts: RtcpListenerOptions) {
    this.opts = opts;
  }

  listen(onConn: (conn: Conn) => void): Promise<void> {
    this.loop = this.run(onConn);
    return Promise.resolve();
  }

  address(): string {
    return this.opts.addr;
  }

  /** The address the server reported for the current tunnel, if one is up. */
  remoteAddress(): string | undefined {
    return this.tunnel?.addr;
  }

  /**
   * Graceful stop. The bind protocols have no message that closes only the published port, and
   * closing the tunnel would cut the connections still open through it; so the tunnel stays up
   * while every new peer's stream is refused at once (the peer sees its connection closed, as from a
   * full GOST backlog), and no new bind is made if the tunnel drops meanwhile.
   */
  stopAccepting(): void {
    this.accepting = false;
    this.wake?.();
  }

  async close(): Promise<void> {
    this.accepting = false;
    this.abort.abort();
    this.tunnel?.close();
    this.wake?.();
    await this.loop;
  }

  private async run(onConn: (conn: Conn) => void): Promise<void> {
    const { log, addr } = this.opts;
    const min = this.opts.minBackoffMs ?? 1000;
    const max = this.opts.maxBackoffMs ?? 5000;
    const signal = this.abort.signal;
    const backlog = { max: this.opts.backlog ?? DEFAULT_LIMITS.bindBacklog, onLimit: limitReporter(log) };
    let delay = 0;
    while (!signal.aborted && this.accepting) {
      if (delay > 0) {
        await this.sleep(delay);
        if (signal.aborted || !this.accepting) break;
      }
      let tunnel: BoundTunnel;
      try {
        tunnel = await this.opts.binder.bind('tcp', addr, { signal, log, backlog });
      } catch (err) {
        if (signal.aborted) break;
        delay = delay === 0 ? min : Math.min(delay * 2, max);
        log.warn({ bind: addr, err: toError(err).message, retryMs: delay }, 'rtcp: bind failed, retrying');
        continue;
      }
      if (signal.aborted || !this.accepting) {
        tunnel.close();
        break;
      }
      this.tunnel = tunnel;
      this.binds += 1;
      log.info({ bind: addr, remote: tunnel.addr }, 'rtcp: tunnel up');
      tunnel.accept((conn) => {
        if (this.accepting) onConn(conn);
        else conn.destroy(); // stopping: this peer is refused
      });
      const reason = await tunnel.closed;
      this.tunnel = undefined;
      if (signal.aborted || !this.accepting) break;
      // GOST: an accept error resets the delay, then waits the first step before binding again.
      delay = min;
      log.warn(
        { bind: addr, reason: reason?.message ?? 'closed', retryMs: delay },
        'rtcp: tunnel lost, binding again',
      );
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
