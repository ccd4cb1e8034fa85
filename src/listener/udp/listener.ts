import type { Conn, Listener, UdpObserver } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { SocketPacketConn } from '../../common/udp/socket-packet-conn.js';
import { PeerSessions, type PeerSessionOptions } from '../../common/udp/peer-sessions.js';

export interface UdpListenerOptions extends PeerSessionOptions {
  addr: string;
  log: Logger;
  observer?: UdpObserver | undefined;
}

/**
 * GOST's `udp` listener: one UDP socket; every remote peer becomes a session (a datagram Conn)
 * handed to the handler — the `udp` forward handler sends its datagrams to the target through the
 * chain (`-L udp://:5353/1.1.1.1:53 -F socks5+mws://server:8443`).
 */
export class UdpListener implements Listener {
  private readonly opts: UdpListenerOptions;
  private packets: SocketPacketConn | undefined;
  private sessions: PeerSessions | undefined;

  constructor(opts: UdpListenerOptions) {
    this.opts = opts;
  }

  async listen(onConn: (conn: Conn) => void): Promise<void> {
    this.packets = await SocketPacketConn.bind(this.opts.addr);
    this.sessions = new PeerSessions(this.packets, this.opts, this.opts.log, this.opts.observer, onConn);
  }

  address(): string {
    return this.packets?.localAddress() ?? this.opts.addr;
  }

  /** Graceful stop: datagrams from new peers are dropped; open sessions go on. */
  stopAccepting(): void {
    this.sessions?.stopAccepting();
  }

  async close(): Promise<void> {
    this.sessions?.closeAll();
    this.packets?.close();
    await this.packets?.done;
  }
}
