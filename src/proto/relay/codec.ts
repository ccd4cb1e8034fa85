import { isIPv4, isIPv6 } from 'node:net';
import { ProtocolError } from '../../core/errors.js';
import type { Parsed } from '../../common/buffered-reader.js';
import { bytesToIPv4, bytesToIPv6, ipv4ToBytes, ipv6ToBytes } from '../../common/addr.js';
import {
  ATYP_DOMAIN,
  ATYP_IPV4,
  ATYP_IPV6,
  CMD_MASK,
  FEATURE_ADDR,
  FEATURE_NETWORK,
  FEATURE_TUNNEL,
  FEATURE_USER_AUTH,
  FLAG_UDP,
  NETWORK_TCP,
  NETWORK_UDP,
  RELAY_VERSION,
} from './constants.js';

/**
 * The relay protocol's messages (go-gost/relay v0.5.0):
 *
 *   request  = VER(01) CMD/FLAGS FEALEN(2, BE) features
 *   response = VER(01) STATUS    FEALEN(2, BE) features
 *   feature  = TYPE LEN(2, BE) data
 *
 * Parsers are sans-IO HeadParsers for `readUntil`; encoders return one Buffer. A message with an
 * unknown feature type is rejected, as GOST's reader does.
 */

/** `host:port` as the address feature carries it. `host` is '' for an empty domain (`:2222`). */
export interface RelayAddress {
  type: typeof ATYP_IPV4 | typeof ATYP_DOMAIN | typeof ATYP_IPV6;
  host: string;
  port: number;
}

export type RelayFeature =
  | { type: typeof FEATURE_USER_AUTH; username: string; password: string }
  | ({ type: typeof FEATURE_ADDR } & { addr: RelayAddress })
  | { type: typeof FEATURE_TUNNEL; id: Buffer }
  | { type: typeof FEATURE_NETWORK; network: number };

export interface RelayRequest {
  /** The command (low 4 bits): CMD_CONNECT, CMD_BIND, CMD_ASSOCIATE, or 0 (GOST treats 0 as CONNECT). */
  cmd: number;
  /** The UDP flag (0x80) of the CMD/FLAGS byte. */
  udp: boolean;
  features: RelayFeature[];
}

export interface RelayResponse {
  status: number;
  features: RelayFeature[];
}

function protocolError(message: string): ProtocolError {
  return new ProtocolError('ERR_RELAY_PROTOCOL', `relay: ${message}`);
}

// ---- addresses -----------------------------------------------------------------------------------

/**
 * The address feature for `host:port` as relay's AddrFeature.ParseFrom: an IP literal becomes IPv4
 * or IPv6 (an IPv4-mapped IPv6 address is sent as IPv4), anything else a domain — including the empty
 * host of `:2222`, which v0.5.0 sends as a zero-length domain.
 */
export function relayAddress(host: string, port: number): RelayAddress {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv4(h)) return { type: ATYP_IPV4, host: h, port };
  if (isIPv6(h)) {
    const v6 = ipv6ToBytes(h);
    const mapped =
      v6 !== undefined && v6.subarray(0, 10).every((x) => x === 0) && v6[10] === 0xff && v6[11] === 0xff;
    if (mapped && v6 !== undefined) return { type: ATYP_IPV4, host: bytesToIPv4(v6.subarray(12, 16)), port };
    return { type: ATYP_IPV6, host: h, port };
  }
  return { type: ATYP_DOMAIN, host: h, port };
}

function encodeAddr(a: RelayAddress): Buffer {
  const port = Buffer.alloc(2);
  port.writeUInt16BE(a.port & 0xffff);
  if (a.type === ATYP_IPV4)
    return Buffer.concat([Buffer.of(ATYP_IPV4), ipv4ToBytes(a.host) ?? Buffer.alloc(4), port]);
  if (a.type === ATYP_IPV6)
    return Buffer.concat([Buffer.of(ATYP_IPV6), ipv6ToBytes(a.host) ?? Buffer.alloc(16), port]);
  const name = Buffer.from(a.host, 'utf8');
  if (name.length > 255) throw protocolError(`host name longer than 255 bytes`);
  return Buffer.concat([Buffer.of(ATYP_DOMAIN, name.length), name, port]);
}

function decodeAddr(b: Buffer): RelayAddress {
  if (b.length < 4) throw protocolError('address feature too short');
  const atyp = b[0] ?? 0;
  switch (atyp) {
    case ATYP_IPV4:
      if (b.length < 7) throw protocolError('address feature too short');
      return { type: ATYP_IPV4, host: bytesToIPv4(b.subarray(1, 5)), port: b.readUInt16BE(5) };
    case ATYP_IPV6:
      if (b.length < 19) throw protocolError('address feature too short');
      return { type: ATYP_IPV6, host: bytesToIPv6(b.subarray(1, 17), true), port: b.readUInt16BE(17) };
    case ATYP_DOMAIN: {
      const len = b[1] ?? 0;
      if (b.length < 4 + len) throw protocolError('address feature too short');
      return { type: ATYP_DOMAIN, host: b.toString('utf8', 2, 2 + len), port: b.readUInt16BE(2 + len) };
    }
    default:
      throw protocolError(`unknown address type 0x${atyp.toString(16)}`);
  }
}

// ---- features ------------------------------------------------------------------------------------

function encodeFeatureData(f: RelayFeature): Buffer {
  switch (f.type) {
    case FEATURE_USER_AUTH: {
      const u = Buffer.from(f.username, 'utf8');
      const p = Buffer.from(f.password, 'utf8');
      if (u.length > 255 || p.length > 255)
        throw protocolError('username and password must be at most 255 bytes');
      return Buffer.concat([Buffer.of(u.length), u, Buffer.of(p.length), p]);
    }
    case FEATURE_ADDR:
      return encodeAddr(f.addr);
    case FEATURE_TUNNEL:
      return Buffer.from(f.id);
    case FEATURE_NETWORK: {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(f.network & 0xffff);
      return b;
    }
  }
}

function encodeFeatures(features: readonly RelayFeature[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of features) {
    const data = encodeFeatureData(f);
    const head = Buffer.alloc(3);
    head[0] = f.type;
    head.writeUInt16BE(data.length, 1);
    parts.push(head, data);
  }
  const out = Buffer.concat(parts);
  if (out.length > 0xffff) throw protocolError('features longer than 65535 bytes');
  return out;
}

function decodeFeature(type: number, data: Buffer): RelayFeature {
  switch (type) {
    case FEATURE_USER_AUTH: {
      if (data.length < 2) throw protocolError('user auth feature too short');
      const ulen = data[0] ?? 0;
      if (data.length < 1 + ulen + 1) throw protocolError('user auth feature too short');
      const plen = data[1 + ulen] ?? 0;
      if (data.length < 2 + ulen + plen) throw protocolError('user auth feature too short');
      return {
        type,
        username: data.toString('utf8', 1, 1 + ulen),
        password: data.toString('utf8', 2 + ulen, 2 + ulen + plen),
      };
    }
    case FEATURE_ADDR:
      return { type, addr: decodeAddr(data) };
    case FEATURE_TUNNEL:
      if (data.length < 16) throw protocolError('tunnel feature too short');
      return { type, id: Buffer.from(data) };
    case FEATURE_NETWORK:
      if (data.length < 2) throw protocolError('network feature too short');
      return { type, network: data.readUInt16BE(0) };
    default:
      throw protocolError(`unknown feature type 0x${type.toString(16).padStart(2, '0')}`);
  }
}

function decodeFeatures(b: Buffer): RelayFeature[] {
  const out: RelayFeature[] = [];
  let pos = 0;
  while (pos < b.length) {
    if (b.length - pos < 3) throw protocolError('truncated feature header');
    const type = b[pos] ?? 0;
    const len = b.readUInt16BE(pos + 1);
    if (b.length - pos - 3 < len) throw protocolError('truncated feature');
    out.push(decodeFeature(type, b.subarray(pos + 3, pos + 3 + len)));
    pos += 3 + len;
  }
  return out;
}

/** Header + features, or undefined while incomplete. */
function parseMessage(
  buf: Buffer,
  what: string,
): { second: number; features: RelayFeature[]; consumed: number } | undefined {
  if (buf.length < 1) return undefined;
  if (buf[0] !== RELAY_VERSION)
    throw protocolError(`bad ${what} version 0x${(buf[0] ?? 0).toString(16).padStart(2, '0')}, want 0x01`);
  if (buf.length < 4) return undefined;
  const flen = buf.readUInt16BE(2);
  if (buf.length < 4 + flen) return undefined;
  return { second: buf[1] ?? 0, features: decodeFeatures(buf.subarray(4, 4 + flen)), consumed: 4 + flen };
}

function encodeMessage(second: number, features: readonly RelayFeature[]): Buffer {
  const body = encodeFeatures(features);
  const head = Buffer.alloc(4);
  head[0] = RELAY_VERSION;
  head[1] = second;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

// ---- requests and responses ---------------------------------------------------------------------

export function encodeRelayRequest(req: RelayRequest): Buffer {
  return encodeMessage((req.cmd & CMD_MASK) | (req.udp ? FLAG_UDP : 0), req.features);
}

/** Server side. Throws ProtocolError ERR_RELAY_PROTOCOL for a bad version or a malformed feature. */
export function parseRelayRequest(buf: Buffer): Parsed<RelayRequest> | undefined {
  const m = parseMessage(buf, 'request');
  if (m === undefined) return undefined;
  return {
    value: { cmd: m.second & CMD_MASK, udp: (m.second & FLAG_UDP) !== 0, features: m.features },
    consumed: m.consumed,
  };
}

export function encodeRelayResponse(status: number, features: readonly RelayFeature[] = []): Buffer {
  return encodeMessage(status, features);
}

/** Client side. Throws ProtocolError ERR_RELAY_PROTOCOL for a bad version or a malformed feature. */
export function parseRelayResponse(buf: Buffer): Parsed<RelayResponse> | undefined {
  const m = parseMessage(buf, 'response');
  if (m === undefined) return undefined;
  return { value: { status: m.second, features: m.features }, consumed: m.consumed };
}

// ---- feature helpers -----------------------------------------------------------------------------

export function userAuthFeature(username: string, password: string): RelayFeature {
  return { type: FEATURE_USER_AUTH, username, password };
}

export function addrFeature(host: string, port: number): RelayFeature {
  return { type: FEATURE_ADDR, addr: relayAddress(host, port) };
}

export function networkFeature(network: 'tcp' | 'udp'): RelayFeature {
  return { type: FEATURE_NETWORK, network: network === 'udp' ? NETWORK_UDP : NETWORK_TCP };
}

/** The facts a handler needs from a request's features (the last of each kind wins, as in GOST). */
export interface RequestFacts {
  username: string;
  password: string;
  /** `host:port` joined as Go's net.JoinHostPort (`:2222` for an empty host); '' when absent. */
  address: string;
  /** Every address feature, in order (a response may carry the peer and then a target host). */
  addresses: RelayAddress[];
  /** Network id of the network feature; NETWORK_TCP when absent. */
  network: number;
}

export function featureFacts(features: readonly RelayFeature[]): RequestFacts {
  const facts: RequestFacts = {
    username: '',
    password: '',
    address: '',
    addresses: [],
    network: NETWORK_TCP,
  };
  for (const f of features) {
    if (f.type === FEATURE_USER_AUTH) {
      facts.username = f.username;
      facts.password = f.password;
    } else if (f.type === FEATURE_ADDR) {
      facts.addresses.push(f.addr);
      facts.address = joinAddress(f.addr);
    } else if (f.type === FEATURE_NETWORK) {
      facts.network = f.network;
    }
  }
  return facts;
}

/** `host:port`, brackets around IPv6, `:port` for an empty host (Go's JoinHostPort). */
export function joinAddress(a: RelayAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
