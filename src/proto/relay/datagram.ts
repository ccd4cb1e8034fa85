import { ProtocolError } from '../../core/errors.js';
import type { Parsed } from '../../common/buffered-reader.js';

/**
 * UDP over a relay stream (CONNECT with the UDP flag or the udp network feature): each datagram is
 * `LEN(2, BE) data`, as GOST's relay udpConn reads and writes them (x/connector/relay/conn.go).
 */
export const MAX_DATAGRAM_BYTES = 0xffff;

export function encodeRelayDatagram(data: Uint8Array): Buffer {
  if (data.length > MAX_DATAGRAM_BYTES)
    throw new ProtocolError('ERR_RELAY_PROTOCOL', `relay: datagram of ${data.length} bytes exceeds 65535`);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(data.length);
  return Buffer.concat([head, data]);
}

/** One datagram off the front of `buf`, or undefined while incomplete. */
export function parseRelayDatagram(buf: Buffer): Parsed<Buffer> | undefined {
  if (buf.length < 2) return undefined;
  const len = buf.readUInt16BE(0);
  if (buf.length < 2 + len) return undefined;
  return { value: buf.subarray(2, 2 + len), consumed: 2 + len };
}
