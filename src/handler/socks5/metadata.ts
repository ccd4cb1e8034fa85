import type { Metadata } from '../../core/metadata.js';
import { parseBindRules, type BindRule } from '../../bind/policy.js';
import { parseMuxMetadata } from '../../mux/smux/metadata.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import { DEFAULT_UDP_BUFFER_SIZE } from '../../common/udp/pump.js';
import { OPTIONS } from '../../config/keys.js';

/** What the `socks5` handler reads from its metadata (go-gost/x handler/socks/v5/metadata.go). */
export interface Socks5HandlerMetadata {
  /** `readTimeout`: bound on greeting + auth + request, ms. Default 15000 (also for ≤ 0). */
  readTimeoutMs: number;
  /** `notls`: never choose GOST's TLS methods 0x80/0x82. */
  noTLS: boolean;
  /** `bind`: MUX BIND allowed; when false (default) refused with `05 02` as GOST does. */
  bind: boolean;
  /** `bind.allow` (beyond GOST): addresses a client may bind. */
  bindRules: readonly BindRule[];
  /** `publicAddr` | `socks.publicAddr`: the host reported in a bind reply. */
  publicAddr?: string;
  /** `comp`: no peer reply on inner bind streams (GOST v2 clients). */
  compat: boolean;
  /** `mux.*`: the inner smux session of a bind. */
  mux: SmuxConfig;
  /** `udp`: UDP ASSOCIATE and UDP-TUN relay; when false (default) refused with `05 02` as GOST does. */
  udp: boolean;
  /** `udp.bufferSize`|`udpBufferSize`: largest datagram relayed, bytes (GOST's relay buffer, 4096). */
  udpBufferSize: number;
}

export const DEFAULT_SOCKS_READ_TIMEOUT_MS = 15_000;

export function parseSocks5HandlerMetadata(md: Metadata): Socks5HandlerMetadata {
  const readTimeout = md.duration(OPTIONS['handler.readTimeout'].keys, DEFAULT_SOCKS_READ_TIMEOUT_MS);
  const publicAddr = md.string(OPTIONS['socks5.publicAddr'].keys);
  return {
    readTimeoutMs: readTimeout > 0 ? readTimeout : DEFAULT_SOCKS_READ_TIMEOUT_MS,
    noTLS: md.bool(OPTIONS['socks5.notls'].keys, false),
    bind: md.bool(OPTIONS['socks5.bind'].keys, false),
    bindRules: parseBindRules(md),
    ...(publicAddr ? { publicAddr } : {}),
    compat: md.bool(OPTIONS['socks5.comp'].keys, false),
    mux: parseMuxMetadata(md),
    udp: md.bool(OPTIONS['handler.udp'].keys, false),
    udpBufferSize: Math.max(0, md.int(OPTIONS['handler.udp.bufferSize'].keys, 0)) || DEFAULT_UDP_BUFFER_SIZE,
  };
}
