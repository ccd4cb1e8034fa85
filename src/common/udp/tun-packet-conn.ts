import type { Conn, UdpDropReason } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { joinHostPort, parseHostPort } from '../addr.js';
import { MAX_UDP_TUN_DATA, UdpTunDecoder, encodeUdpTunFrame } from '../../proto/socks5/udp.js';
import { StreamPacketConn } from './stream-packet-conn.js';

/**
 * Datagrams over a byte stream in GOST's UDP-TUN framing (SOCKS5 command 0xF3): the client end of
 * a tunnel (connector) and the server end (socks5 handler) are the same thing.
 *
 * Bounded: while the stream's write buffer is above its high-water mark (a slow tunnel), new
 * datagrams are dropped ('tunnel_busy') instead of queued. A frame that cannot be decoded ends the
 * stream, since nothing after it can be trusted.
 */
export class UdpTunPacketConn extends StreamPacketConn {
  private readonly decoder = new UdpTunDecoder();

  constructor(conn: Conn, log?: Logger) {
    super(conn, log, 'udp tunnel');
    conn.on('data', (chunk: Buffer) => {
      let datagrams;
      try {
        datagrams = this.decoder.push(chunk);
      } catch (err) {
        log?.warn({ err: (err as Error).message }, 'udp tunnel: bad frame, closing the tunnel');
        this.close();
        return;
      }
      for (const d of datagrams) this.deliver(d.data, joinHostPort(d.addr.host, d.addr.port));
    });
  }

  send(data: Buffer, addr: string): true | UdpDropReason {
    if (this.ended) return 'send_failed';
    // GOST reads RSV 0 as "the rest of the stream": an empty datagram would wreck the tunnel.
    if (data.length === 0) return 'bad_datagram';
    if (data.length > MAX_UDP_TUN_DATA) return 'too_large';
    if (this.busy) return 'tunnel_busy';
    const hp = parseHostPort(addr);
    if (hp === undefined || hp.host === '') return 'bad_datagram';
    let frame: Buffer;
    try {
      frame = encodeUdpTunFrame(data, hp.host, hp.port);
    } catch {
      return 'bad_datagram';
    }
    this.conn.write(frame);
    return true;
  }
}
