import { ProtocolError } from '../../core/errors.js';
import type { Parsed } from '../../common/buffered-reader.js';
import { decodeAddress, encodeAddress, type Socks5Address } from './address.js';
import { SOCKS5_VERSION, USER_PASS_VERSION } from './constants.js';

function checkVersion(buf: Buffer, expected: number, what: string): void {
  const v = buf[0];
  if (v !== expected) {
    throw new ProtocolError(
      'ERR_SOCKS_PROTOCOL',
      `socks5: bad ${what} version 0x${(v ?? 0).toString(16).padStart(2, '0')}, want 0x${expected.toString(16).padStart(2, '0')}`,
    );
  }
}

// ---- method negotiation ------------------------------------------------------------------------

/** `05 N M1..MN`. */
export function encodeGreeting(methods: readonly number[]): Buffer {
  if (methods.length === 0 || methods.length > 255) throw new RangeError('socks5: 1-255 methods');
  return Buffer.from([SOCKS5_VERSION, methods.length, ...methods]);
}

/** Server side: `05 N M1..MN` → the offered methods. */
export function parseGreeting(buf: Buffer): Parsed<{ methods: number[] }> | undefined {
  if (buf.length < 1) return undefined;
  checkVersion(buf, SOCKS5_VERSION, 'greeting');
  if (buf.length < 2) return undefined;
  const n = buf[1] ?? 0;
  if (buf.length < 2 + n) return undefined;
  return { value: { methods: [...buf.subarray(2, 2 + n)] }, consumed: 2 + n };
}

/** `05 M`. */
export function encodeMethodSelection(method: number): Buffer {
  return Buffer.from([SOCKS5_VERSION, method]);
}

/** Client side: `05 M` → the method the server chose. */
export function parseMethodSelection(buf: Buffer): Parsed<{ method: number }> | undefined {
  if (buf.length < 1) return undefined;
  checkVersion(buf, SOCKS5_VERSION, 'method selection');
  if (buf.length < 2) return undefined;
  return { value: { method: buf[1] ?? 0 }, consumed: 2 };
}

// ---- RFC 1929 username/password ----------------------------------------------------------------

export interface UserPass {
  username: string;
  password: string;
}

/** `01 ULEN UNAME PLEN PASSWD` (UTF-8, each 0-255 bytes). */
export function encodeUserPassRequest(username: string, password: string): Buffer {
  const u = Buffer.from(username, 'utf8');
  const p = Buffer.from(password, 'utf8');
  if (u.length > 255 || p.length > 255) {
    throw new ProtocolError('ERR_SOCKS_PROTOCOL', 'socks5: username and password must be at most 255 bytes');
  }
  return Buffer.concat([Buffer.from([USER_PASS_VERSION, u.length]), u, Buffer.from([p.length]), p]);
}

/** Server side: parses `01 ULEN UNAME PLEN PASSWD`. */
export function parseUserPassRequest(buf: Buffer): Parsed<UserPass> | undefined {
  if (buf.length < 1) return undefined;
  checkVersion(buf, USER_PASS_VERSION, 'username/password');
  if (buf.length < 2) return undefined;
  const ulen = buf[1] ?? 0;
  if (buf.length < 2 + ulen + 1) return undefined;
  const plen = buf[2 + ulen] ?? 0;
  const end = 3 + ulen + plen;
  if (buf.length < end) return undefined;
  return {
    value: { username: buf.toString('utf8', 2, 2 + ulen), password: buf.toString('utf8', 3 + ulen, end) },
    consumed: end,
  };
}

/** `01 STATUS` (0 = success). */
export function encodeUserPassReply(status: number): Buffer {
  return Buffer.from([USER_PASS_VERSION, status]);
}

/** Client side: `VER STATUS`. The version byte is not checked (some servers echo 05). */
export function parseUserPassReply(buf: Buffer): Parsed<{ status: number }> | undefined {
  if (buf.length < 2) return undefined;
  return { value: { status: buf[1] ?? 0 }, consumed: 2 };
}

// ---- requests and replies ----------------------------------------------------------------------

export interface Socks5Request {
  cmd: number;
  addr: Socks5Address;
}

/** `05 CMD 00 ATYP ADDR PORT`; see encodeAddress for how `host` picks ATYP. */
export function encodeRequest(cmd: number, host: string, port: number): Buffer {
  return Buffer.concat([Buffer.from([SOCKS5_VERSION, cmd, 0x00]), encodeAddress(host, port)]);
}

/** Server side: parses `05 CMD RSV ATYP ADDR PORT` (RSV is not checked, as gosocks5). */
export function parseRequest(buf: Buffer): Parsed<Socks5Request> | undefined {
  if (buf.length < 1) return undefined;
  checkVersion(buf, SOCKS5_VERSION, 'request');
  if (buf.length < 4) return undefined;
  const addr = decodeAddress(buf, 3);
  if (!addr) return undefined;
  return { value: { cmd: buf[1] ?? 0, addr: addr.value }, consumed: 3 + addr.consumed };
}

export interface Socks5Reply {
  rep: number;
  bind: Socks5Address;
}

/** `05 REP 00 ATYP BND.ADDR BND.PORT`; the bound address defaults to 0.0.0.0:0 (10 bytes in all). */
export function encodeReply(rep: number, bindHost = '0.0.0.0', bindPort = 0): Buffer {
  return Buffer.concat([Buffer.from([SOCKS5_VERSION, rep, 0x00]), encodeAddress(bindHost, bindPort)]);
}

/** Client side: parses `05 REP RSV ATYP BND.ADDR BND.PORT`. */
export function parseReply(buf: Buffer): Parsed<Socks5Reply> | undefined {
  if (buf.length < 1) return undefined;
  checkVersion(buf, SOCKS5_VERSION, 'reply');
  if (buf.length < 4) return undefined;
  const addr = decodeAddress(buf, 3);
  if (!addr) return undefined;
  return { value: { rep: buf[1] ?? 0, bind: addr.value }, consumed: 3 + addr.consumed };
}
