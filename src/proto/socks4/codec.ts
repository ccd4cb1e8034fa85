import { isIPv4 } from 'node:net';
import { ProtocolError } from '../../core/errors.js';
import type { Parsed } from '../../common/buffered-reader.js';
import { bytesToIPv4, ipv4ToBytes } from '../../common/addr.js';

/** SOCKS protocol version 4 / 4a. */
export const SOCKS4_VERSION = 0x04;
export const SOCKS4_CMD_CONNECT = 0x01;
export const SOCKS4_CMD_BIND = 0x02;

/** Reply codes (CD). */
export const SOCKS4_GRANTED = 0x5a;
export const SOCKS4_FAILED = 0x5b;
/** Rejected because the server cannot reach the client's identd. GOST uses it for bypass. */
export const SOCKS4_REJECTED = 0x5c;
export const SOCKS4_REJECTED_USERID = 0x5d;

/** Longest USERID / 4a host name accepted before the NUL, in bytes. */
export const SOCKS4_MAX_FIELD = 255;
/** Largest request: 8 fixed bytes + USERID NUL + HOST NUL. */
export const SOCKS4_MAX_REQUEST_BYTES = 8 + (SOCKS4_MAX_FIELD + 1) * 2;

export interface Socks4Request {
  cmd: number;
  port: number;
  /** DSTIP as sent (`0.0.0.x` with x≠0 marks 4a). */
  ip: string;
  userId: string;
  /** The 4a host name, when the request used the 4a form. */
  hostname?: string;
  /** What to dial: the 4a host name, else `ip`. */
  host: string;
}

function readCString(buf: Buffer, start: number, what: string): Parsed<string> | undefined {
  const nul = buf.indexOf(0x00, start);
  if (nul < 0) {
    if (buf.length - start > SOCKS4_MAX_FIELD) {
      throw new ProtocolError('ERR_SOCKS_PROTOCOL', `socks4: ${what} longer than ${SOCKS4_MAX_FIELD} bytes`);
    }
    return undefined;
  }
  if (nul - start > SOCKS4_MAX_FIELD) {
    throw new ProtocolError('ERR_SOCKS_PROTOCOL', `socks4: ${what} longer than ${SOCKS4_MAX_FIELD} bytes`);
  }
  return { value: buf.toString('utf8', start, nul), consumed: nul + 1 - start };
}

/**
 * Server side: parses `04 CMD PORT(2) IP(4) USERID 00 [HOST 00]` (the HOST part when IP is
 * `0.0.0.x`, x≠0: SOCKS4a). Undefined while incomplete; ProtocolError `ERR_SOCKS_PROTOCOL` for a
 * wrong version, over-long fields or an empty 4a host name.
 */
export function parseSocks4Request(buf: Buffer): Parsed<Socks4Request> | undefined {
  if (buf.length < 1) return undefined;
  if (buf[0] !== SOCKS4_VERSION) {
    throw new ProtocolError(
      'ERR_SOCKS_PROTOCOL',
      `socks4: bad version 0x${(buf[0] ?? 0).toString(16).padStart(2, '0')}`,
    );
  }
  if (buf.length < 8) return undefined;
  const cmd = buf[1] ?? 0;
  const port = buf.readUInt16BE(2);
  const ip = bytesToIPv4(buf.subarray(4, 8));
  const user = readCString(buf, 8, 'user id');
  if (!user) return undefined;
  let consumed = 8 + user.consumed;
  const is4a = buf[4] === 0 && buf[5] === 0 && buf[6] === 0 && buf[7] !== 0;
  if (!is4a) return { value: { cmd, port, ip, userId: user.value, host: ip }, consumed };
  const host = readCString(buf, consumed, 'host name');
  if (!host) return undefined;
  if (host.value === '') throw new ProtocolError('ERR_SOCKS_PROTOCOL', 'socks4a: empty host name');
  consumed += host.consumed;
  return { value: { cmd, port, ip, userId: user.value, hostname: host.value, host: host.value }, consumed };
}

export interface EncodeSocks4RequestOptions {
  cmd?: number;
  userId?: string;
  /**
   * Use the 4a form (IP 0.0.0.1 + host name) even for IPv4 literals, as GOST's connector does. When
   * false, `host` must be an IPv4 literal.
   */
  use4a?: boolean;
}

/** Client side: a SOCKS4 or 4a request. */
export function encodeSocks4Request(
  host: string,
  port: number,
  opts: EncodeSocks4RequestOptions = {},
): Buffer {
  const use4a = opts.use4a ?? true;
  const head = Buffer.alloc(8);
  head[0] = SOCKS4_VERSION;
  head[1] = opts.cmd ?? SOCKS4_CMD_CONNECT;
  head.writeUInt16BE(port & 0xffff, 2);
  const user = Buffer.from(opts.userId ?? '', 'utf8');
  if (user.includes(0) || user.length > SOCKS4_MAX_FIELD)
    throw new ProtocolError('ERR_SOCKS_PROTOCOL', 'socks4: invalid user id');
  if (!use4a) {
    const ip = isIPv4(host) ? ipv4ToBytes(host) : undefined;
    if (!ip) throw new ProtocolError('ERR_SOCKS_PROTOCOL', `socks4: ${host} is not an IPv4 address`);
    ip.copy(head, 4);
    return Buffer.concat([head, user, Buffer.from([0])]);
  }
  const name = Buffer.from(host, 'utf8');
  if (name.length === 0 || name.includes(0) || name.length > SOCKS4_MAX_FIELD) {
    throw new ProtocolError('ERR_SOCKS_PROTOCOL', 'socks4a: invalid host name');
  }
  head[7] = 1; // 0.0.0.1
  return Buffer.concat([head, user, Buffer.from([0]), name, Buffer.from([0])]);
}

export interface Socks4Reply {
  code: number;
  port: number;
  ip: string;
}

/** `00 CD PORT(2) IP(4)`; GOST sends port and IP as zeros. */
export function encodeSocks4Reply(code: number, port = 0, ip = '0.0.0.0'): Buffer {
  const out = Buffer.alloc(8);
  out[1] = code;
  out.writeUInt16BE(port & 0xffff, 2);
  (ipv4ToBytes(ip) ?? Buffer.alloc(4)).copy(out, 4);
  return out;
}

/** Client side: the 8-byte reply. Like GOST, a first byte other than 0 is a protocol error. */
export function parseSocks4Reply(buf: Buffer): Parsed<Socks4Reply> | undefined {
  if (buf.length < 1) return undefined;
  if (buf[0] !== 0x00) {
    throw new ProtocolError(
      'ERR_SOCKS_PROTOCOL',
      `socks4: bad reply version 0x${(buf[0] ?? 0).toString(16).padStart(2, '0')}`,
    );
  }
  if (buf.length < 8) return undefined;
  return {
    value: { code: buf[1] ?? 0, port: buf.readUInt16BE(2), ip: bytesToIPv4(buf.subarray(4, 8)) },
    consumed: 8,
  };
}

/** Text of a reply code, for error messages. */
export function socks4ReplyText(code: number): string {
  switch (code) {
    case SOCKS4_GRANTED:
      return 'request granted';
    case SOCKS4_FAILED:
      return 'request rejected or failed';
    case SOCKS4_REJECTED:
      return 'request rejected: cannot connect to identd';
    case SOCKS4_REJECTED_USERID:
      return 'request rejected: user id mismatch';
    default:
      return `unknown reply 0x${code.toString(16).padStart(2, '0')}`;
  }
}
