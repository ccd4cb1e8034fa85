import { ProtocolError } from '../../core/errors.js';
import { decodeAddress, encodeAddress, type Socks5Address } from './address.js';

/**
 * SOCKS5 UDP datagrams (RFC 1928 §7) and GOST's UDP-over-TCP variant (command 0xF3, "UDP-TUN"):
 *
 *   +-----+------+------+----------+----------+----------+
 *   | RSV | FRAG | ATYP | DST.ADDR | DST.PORT |   DATA   |
 *   +-----+------+------+----------+----------+----------+
 *   |  2  |  1   |  1   | Variable |    2     | Variable |
 *
 * On a UDP socket RSV is 0 and the datagram's end ends DATA. Inside a stream (gosocks5
 * `UDPDatagram`, x/internal/util/socks `udpTunConn`) RSV carries DATA's length (big-endian) and
 * FRAG is 0xFF. GOST's reader treats RSV 0 as "read to the end of the stream", so a zero-length
 * datagram cannot cross a GOST tunnel: senders here never write one (see UdpTunDecoder).
 */

/** FRAG value GOST writes on every UDP-TUN datagram ("UDP tun relay flag"). */
export const UDP_TUN_FRAG = 0xff;
/** Largest DATA a UDP-TUN frame can carry (RSV is 16 bits). */
export const MAX_UDP_TUN_DATA = 0xffff;

export interface Socks5Datagram {
  frag: number;
  addr: Socks5Address;
  data: Buffer;
}

function header(rsv: number, frag: number, host: string, port: number): Buffer {
  const addr = encodeAddress(host, port);
  const head = Buffer.allocUnsafe(3 + addr.length);
  head.writeUInt16BE(rsv, 0);
  head[2] = frag;
  addr.copy(head, 3);
  return head;
}

/** A standard SOCKS5 UDP datagram (RSV 0, FRAG 0), as sent on the client's UDP socket. */
export function encodeUdpDatagram(data: Buffer, host: string, port: number): Buffer {
  return Buffer.concat([header(0, 0, host, port), data]);
}

/**
 * Parses one standard datagram read from a UDP socket. RSV is not checked (gosocks5 ignores it);
 * the caller decides what to do with FRAG. Throws ProtocolError `ERR_SOCKS_PROTOCOL` when the
 * header is short or its address type unknown.
 */
export function decodeUdpDatagram(buf: Buffer): Socks5Datagram {
  if (buf.length < 4)
    throw new ProtocolError('ERR_SOCKS_PROTOCOL', 'socks5: UDP datagram shorter than its header');
  const addr = decodeAddress(buf, 3);
  if (addr === undefined)
    throw new ProtocolError('ERR_SOCKS_PROTOCOL', 'socks5: UDP datagram shorter than its header');
  return { frag: buf[2] ?? 0, addr: addr.value, data: buf.subarray(3 + addr.consumed) };
}

/**
 * One UDP-TUN frame: RSV = data length, FRAG 0xFF, the address, the data, as one Buffer (one
 * stream write). `data` must be 1..65535 bytes (checked by the caller, which counts the drop).
 */
export function encodeUdpTunFrame(data: Buffer, host: string, port: number): Buffer {
  return Buffer.concat([header(data.length, UDP_TUN_FRAG, host, port), data]);
}

/**
 * Splits a UDP-TUN byte stream into datagrams, across any chunking. FRAG is not checked (GOST
 * does not either). A frame whose RSV is 0 is taken as an empty datagram: GOST would read the rest
 * of the stream into it, which no sender here produces. Throws ProtocolError on an unknown address
 * type (the stream cannot be resynchronised; its owner closes it).
 */
export class UdpTunDecoder {
  private buf: Buffer = Buffer.alloc(0);

  /** Appends `chunk` and returns every complete datagram now available. */
  push(chunk: Buffer): Socks5Datagram[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Socks5Datagram[] = [];
    let off = 0;
    for (;;) {
      if (this.buf.length - off < 4) break;
      const addr = decodeAddress(this.buf, off + 3);
      if (addr === undefined) break;
      const len = this.buf.readUInt16BE(off);
      const start = off + 3 + addr.consumed;
      if (this.buf.length < start + len) break;
      // Copy: the frame outlives this chunk (queued towards a socket) and must not pin it.
      out.push({
        frag: this.buf[off + 2] ?? 0,
        addr: addr.value,
        data: Buffer.from(this.buf.subarray(start, start + len)),
      });
      off = start + len;
    }
    this.buf = off === 0 ? this.buf : this.buf.subarray(off);
    return out;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.buf.length;
  }
}
