import type { Conn, UdpDropReason } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { ProtocolError } from '../../core/errors.js';
import { MAX_DATAGRAM_BYTES, encodeRelayDatagram, parseRelayDatagram } from '../../proto/relay/datagram.js';
import { parseRelayResponse } from '../../proto/relay/codec.js';
import { MAX_HEAD_BYTES, STATUS_OK, statusText } from '../../proto/relay/constants.js';
import { StreamPacketConn } from './stream-packet-conn.js';

export interface RelayPacketConnOptions {
  /** The one peer of this stream: every datagram received is reported as coming from it. */
  peer: string;
  /**
   * Client end: the stream starts with the server's relay response (a GOST server sends it only
   * together with the first datagram back); a refusal closes this channel, naming the status.
   */
  expectResponse: boolean;
  log?: Logger | undefined;
}

/**
 * Datagrams over a relay stream after a UDP CONNECT: `LEN(2, BE) data` each, no address (the stream
 * has one fixed peer, so `send` ignores its address). The client and server ends differ only in
 * the response at the head of what the client reads.
 *
 * Bounded as UdpTunPacketConn: while the stream's write buffer is above its high-water mark, new
 * datagrams are dropped ('tunnel_busy'); what cannot be parsed ends the stream.
 */
export class RelayPacketConn extends StreamPacketConn {
  private readonly opts: RelayPacketConnOptions;
  private pending: Buffer = Buffer.alloc(0);
  private awaitingResponse: boolean;

  constructor(conn: Conn, opts: RelayPacketConnOptions) {
    super(conn, opts.log, 'relay udp');
    this.opts = opts;
    this.awaitingResponse = opts.expectResponse;
    conn.on('data', (chunk: Buffer) => {
      try {
        this.take(chunk);
      } catch (err) {
        opts.log?.warn({ err: (err as Error).message, peer: opts.peer }, 'relay udp: closing the tunnel');
        this.close();
      }
    });
  }

  private take(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.awaitingResponse) {
      const res = parseRelayResponse(buf);
      if (res === undefined) {
        if (buf.length > MAX_HEAD_BYTES)
          throw new ProtocolError('ERR_RELAY_PROTOCOL', 'relay: response too large');
        this.pending = buf;
        return;
      }
      const { status } = res.value;
      if (status !== STATUS_OK)
        throw new ProtocolError(
          'ERR_RELAY_PROTOCOL',
          `relay: ${this.opts.peer}: ${status} ${statusText(status)}`,
        );
      this.awaitingResponse = false;
      buf = buf.subarray(res.consumed);
    }
    for (;;) {
      const d = parseRelayDatagram(buf);
      if (d === undefined) break;
      buf = buf.subarray(d.consumed);
      if (!this.closed) this.deliver(d.value, this.opts.peer);
    }
    // At most one partial datagram (≤ 65537 bytes) waits here.
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }

  send(data: Buffer, _addr: string): true | UdpDropReason {
    if (this.ended) return 'send_failed';
    if (data.length > MAX_DATAGRAM_BYTES) return 'too_large';
    if (this.busy) return 'tunnel_busy';
    this.conn.write(encodeRelayDatagram(data));
    return true;
  }
}
