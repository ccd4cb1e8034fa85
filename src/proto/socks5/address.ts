import { isIPv4, isIPv6 } from 'node:net';
import { ProtocolError } from '../../core/errors.js';
import type { Parsed } from '../../common/buffered-reader.js';
import { bytesToIPv4, bytesToIPv6, ipv4ToBytes, ipv6ToBytes } from '../../common/addr.js';
import { ATYP_DOMAIN, ATYP_IPV4, ATYP_IPV6, type AddrType } from './constants.js';

/** A SOCKS5 address: ATYP, host text (no brackets) and port. */
export interface Socks5Address {
  type: AddrType;
  host: string;
  port: number;
}

/**
 * Encodes `ATYP ADDR PORT`. IPv4/IPv6 literals become ATYP 1/4 (an IPv4-mapped IPv6 address is sent
 * as IPv4, like Go's `ip.To4() != nil`); anything else is a domain name (ATYP 3, never resolved).
 * Throws ProtocolError `ERR_SOCKS_PROTOCOL` for an empty or over-long (> 255 bytes) name.
 */
export function encodeAddress(host: string, port: number): Buffer {
  const portBuf = Buffer.alloc(2);
  portBuf.writeUInt16BE(port & 0xffff);
  if (isIPv4(host)) {
    return Buffer.concat([Buffer.from([ATYP_IPV4]), ipv4ToBytes(host) ?? Buffer.alloc(4), portBuf]);
  }
  if (isIPv6(host)) {
    const v6 = ipv6ToBytes(host);
    if (v6) {
      const mapped = v6.subarray(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff;
      if (mapped) return Buffer.concat([Buffer.from([ATYP_IPV4]), v6.subarray(12, 16), portBuf]);
      return Buffer.concat([Buffer.from([ATYP_IPV6]), v6, portBuf]);
    }
  }
  const name = Buffer.from(host, 'utf8');
  if (name.length === 0 || name.length > 255) {
    throw new ProtocolError(
      'ERR_SOCKS_PROTOCOL',
      `socks5: host name must be 1-255 bytes, got ${name.length}`,
    );
  }
  return Buffer.concat([Buffer.from([ATYP_DOMAIN, name.length]), name, portBuf]);
}

/**
 * Decodes `ATYP ADDR PORT` at `offset`: undefined when more bytes are needed; ProtocolError
 * `ERR_SOCKS_PROTOCOL` for an unknown ATYP or an empty domain name.
 */
export function decodeAddress(buf: Buffer, offset: number): Parsed<Socks5Address> | undefined {
  if (buf.length < offset + 1) return undefined;
  const atyp = buf[offset] ?? 0;
  switch (atyp) {
    case ATYP_IPV4: {
      if (buf.length < offset + 7) return undefined;
      const host = bytesToIPv4(buf.subarray(offset + 1, offset + 5));
      return { value: { type: ATYP_IPV4, host, port: buf.readUInt16BE(offset + 5) }, consumed: 7 };
    }
    case ATYP_IPV6: {
      if (buf.length < offset + 19) return undefined;
      const host = bytesToIPv6(buf.subarray(offset + 1, offset + 17), true);
      return { value: { type: ATYP_IPV6, host, port: buf.readUInt16BE(offset + 17) }, consumed: 19 };
    }
    case ATYP_DOMAIN: {
      if (buf.length < offset + 2) return undefined;
      const len = buf[offset + 1] ?? 0;
      if (len === 0) throw new ProtocolError('ERR_SOCKS_PROTOCOL', 'socks5: empty domain name');
      if (buf.length < offset + 2 + len + 2) return undefined;
      const host = buf.toString('utf8', offset + 2, offset + 2 + len);
      return {
        value: { type: ATYP_DOMAIN, host, port: buf.readUInt16BE(offset + 2 + len) },
        consumed: 2 + len + 2,
      };
    }
    default:
      throw new ProtocolError('ERR_SOCKS_PROTOCOL', `socks5: unknown address type 0x${atyp.toString(16)}`);
  }
}
