import type { Binder, Conn, Listener, PacketConn, UdpObserver } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { PeerSessions, type PeerSessionOptions } from '../../common/udp/peer-sessions.js';

export interface RudpListenerOptions extends PeerSessionOptions {
  /** The address the chain's last node listens on for us (`rudp://:5353/...` → `:5353`). */
  addr: string;
  /** The listener's chain (`-F`, config `listener.chain`); without hops the bind is local. */
  binder: Binder;
  log: Logger;
  observer?: UdpObserver | undefined;
}

/** GOST's re-bind backoff: 1 s, doubling, at most 5 s. */
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 5000;

/**
 * GOST's `rudp` listener (reverse UDP): the last node of its chain receives UDP on `addr` for us
 * (SOCKS5 UDP-TUN with that port, or relay BIND with the UDP flag; the server runs with
 * `bind=true`) and every
 * remote peer's datagrams come down one tunnel stream; each peer becomes a session for the handler,
 * which forwards it to the target in the URL (`rudp://:5353/127.0.0.1:53`). When the tunnel dies
 * it binds again (1 s, 2 s, 4 s, then every 5 s).
 */
export class RudpListener implements Listener {
  private readonly opts: RudpListenerOptions;
  private readonly abort = new AbortController();
  private packets: PacketConn | undefined;
  private sessions: PeerSessions | undefined;
  private loop: Promise<void> | undefined;
  private bound: string | undefined;
  private stopping = false;

  constructor(opts: RudpListenerOptions) {
    this.opts = opts;
  }

  async listen(onConn: (conn: Conn) => void): Promise<void> {
    if (this.opts.binder.bindUdp === undefined) throw new Error('rudp: this router cannot bind UDP');
    this.loop = this.bindLoop(onConn);
    // The remote bind happens in the background (as GOST, which binds on its first Accept): a
    // server that is down at start-up is retried rather than fatal.
    await Promise.resolve();
  }

  private async bindLoop(onConn: (conn: Conn) => void): Promise<void> {
    const { log, binder } = this.opts;
    const signal = this.abort.signal;
    let retryMs = FIRST_RETRY_MS;
    while (!signal.aborted) {
      try {
        const r = await (binder.bindUdp as NonNullable<Binder['bindUdp']>).call(binder, this.opts.addr, {
          signal,
          log,
        });
        this.packets = r.packets;
        this.bound = r.bound;
        retryMs = FIRST_RETRY_MS;
        log.info({ addr: this.opts.addr, bound: r.bound }, 'rudp: bound on the remote node');
        this.sessions = new PeerSessions(r.packets, this.opts, log, this.opts.observer, onConn);
        if (this.stopping) this.sessions.stopAccepting();
        await r.packets.done;
        this.sessions.closeAll();
        if (signal.aborted) return;
        log.warn({ addr: this.opts.addr }, 'rudp: bind tunnel closed; binding again');
      } catch (err) {
        if (signal.aborted) return;
        log.warn({ addr: this.opts.addr, err: toError(err).message, retryMs }, 'rudp: bind failed; retrying');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, retryMs);
        signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  }

  address(): string {
    return this.bound ?? this.opts.addr;
  }

  /** Graceful stop: datagrams from new peers are dropped; open sessions go on. */
  stopAccepting(): void {
    this.stopping = true;
    this.sessions?.stopAccepting();
  }

  async close(): Promise<void> {
    this.abort.abort();
    this.sessions?.closeAll();
    this.packets?.close();
    await this.loop;
  }
}
