import { isIPv4, isIPv6 } from 'node:net';
import { TunnelError } from '../core/errors.js';

/** A parsed `host:port`. `host` never carries IPv6 brackets; it is `''` for `:8080`. */
export interface HostPort {
  host: string;
  port: number;
}

/** Well-known default ports by scheme / protocol name. */
export const DEFAULT_PORTS = {
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  socks4: 1080,
  socks5: 1080,
} as const;

const PORT_RE = /^\d{1,5}$/;

function parsePort(text: string): number | undefined {
  if (!PORT_RE.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/**
 * Parses `host:port`, `[v6]:port` or `:port` like Go's net.SplitHostPort, but with a numeric port.
 * When the text has no port (`example.com`, `[::1]`, bare `::1`) `defaultPort` is used if given.
 * Returns undefined when the text is not an address.
 */
export function parseHostPort(addr: string, defaultPort?: number): HostPort | undefined {
  if (addr.startsWith('[')) {
    const close = addr.indexOf(']');
    if (close < 0) return undefined;
    const host = addr.slice(1, close);
    if (host.includes('[') || host.includes(']')) return undefined;
    const rest = addr.slice(close + 1);
    if (rest === '' || rest === ':') {
      return defaultPort === undefined ? undefined : { host, port: defaultPort };
    }
    if (!rest.startsWith(':')) return undefined;
    const port = parsePort(rest.slice(1));
    return port === undefined ? undefined : { host, port };
  }
  const colon = addr.lastIndexOf(':');
  if (colon < 0) {
    if (addr.includes(']')) return undefined;
    return defaultPort === undefined ? undefined : { host: addr, port: defaultPort };
  }
  if (addr.indexOf(':') !== colon) {
    // Several colons without brackets: only a bare IPv6 literal (no port) makes sense.
    if (defaultPort !== undefined && isIPv6(addr)) return { host: addr, port: defaultPort };
    return undefined;
  }
  const host = addr.slice(0, colon);
  if (host.includes('[') || host.includes(']')) return undefined;
  const portText = addr.slice(colon + 1);
  if (portText === '') return defaultPort === undefined ? undefined : { host, port: defaultPort };
  const port = parsePort(portText);
  return port === undefined ? undefined : { host, port };
}

/**
 * Like {@link parseHostPort} but throws a TunnelError (`ERR_CONFIG_INVALID`) naming the bad text.
 * Callers that answer on the wire should prefer parseHostPort and map the failure themselves.
 */
export function splitHostPort(addr: string, defaultPort?: number): HostPort {
  const hp = parseHostPort(addr, defaultPort);
  if (!hp) throw new TunnelError('ERR_CONFIG_INVALID', `invalid address ${JSON.stringify(addr)}`);
  return hp;
}

/** `host:port`, bracketing hosts that contain a colon (IPv6), like Go's net.JoinHostPort. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Adds `port` when `addr` has none (GOST: `net.JoinHostPort(strings.Trim(addr, "[]"), "80")`).
 * `example.com` → `example.com:80`, `[::1]` / `::1` → `[::1]:80`; an address with a port is returned as is.
 */
export function ensurePort(addr: string, port: number): string {
  const hp = parseHostPort(addr);
  if (hp) return addr;
  const withDefault = parseHostPort(addr, port);
  if (withDefault) return joinHostPort(withDefault.host, withDefault.port);
  return joinHostPort(addr.replace(/^\[|\]$/g, ''), port);
}

/** 4 bytes of a dotted IPv4 literal, or undefined. */
export function ipv4ToBytes(ip: string): Buffer | undefined {
  if (!isIPv4(ip)) return undefined;
  return Buffer.from(ip.split('.').map(Number));
}

/** 16 bytes of an IPv6 literal (no brackets, no zone), or undefined. Accepts an embedded IPv4 tail. */
export function ipv6ToBytes(ip: string): Buffer | undefined {
  if (!isIPv6(ip) || ip.includes('%')) return undefined;
  let text = ip;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = ipv4ToBytes(last);
    if (!v4) return undefined;
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    text = `${text.slice(0, lastColon + 1)}0`; // placeholder group, removed below
  }
  const parseGroups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  let groups: number[];
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    const head = parseGroups(text.slice(0, dbl));
    const rest = parseGroups(text.slice(dbl + 2));
    if (tail.length) rest.pop();
    const fill = 8 - tail.length - head.length - rest.length;
    if (fill < 0) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    groups = parseGroups(text);
    if (tail.length) groups.pop();
    groups.push(...tail);
  }
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff))
    return undefined;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** Dotted text of 4 bytes. */
export function bytesToIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/**
 * RFC 5952 text of 16 bytes (longest zero run of ≥2 groups compressed, lower-case hex).
 * With `unmapV4` an IPv4-mapped address (`::ffff:a.b.c.d`) is returned as plain dotted IPv4, as Go's
 * net.IP.String() does.
 */
export function bytesToIPv6(b: Uint8Array, unmapV4 = false): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  if (unmapV4 && groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return bytesToIPv4(b.subarray(12, 16));
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
