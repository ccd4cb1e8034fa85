import type { Metadata } from '../../core/metadata.js';
import { parseBindRules, type BindRule } from '../../bind/policy.js';
import { parseMuxMetadata } from '../../mux/smux/metadata.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import { OPTIONS } from '../../config/keys.js';
import { DEFAULT_UDP_BUFFER_SIZE } from '../../common/udp/pump.js';

/** What the `relay` handler reads from its metadata (go-gost/x handler/relay/metadata.go). */
export interface RelayHandlerMetadata {
  /** `readTimeout`: bound on reading the request, ms. Default 15000 (also for ≤ 0). */
  readTimeoutMs: number;
  /** `bind`: BIND allowed; off by default, as GOST (refused `01 03`). */
  bind: boolean;
  /** `bind.allow` (beyond GOST): addresses a client may bind. */
  bindRules: readonly BindRule[];
  /** `publicAddr` | `relay.publicAddr` (beyond GOST's relay): the host a bind response reports. */
  publicAddr?: string;
  /** `mux.*`: the inner smux session of a bind. */
  mux: SmuxConfig;
  /** `udp.bufferSize`|`udpBufferSize`: largest datagram a UDP BIND relays, bytes (GOST's 4096). */
  udpBufferSize: number;
}

export const DEFAULT_RELAY_READ_TIMEOUT_MS = 15_000;

export function parseRelayHandlerMetadata(md: Metadata): RelayHandlerMetadata {
  const readTimeout = md.duration(OPTIONS['handler.readTimeout'].keys, DEFAULT_RELAY_READ_TIMEOUT_MS);
  const publicAddr = md.string(OPTIONS['relay.publicAddr'].keys);
  // GOST's relay handler reads `nodelay` (send the response at once rather than with the first
  // bytes from the target); this handler always answers at once, so the key is accepted and unused.
  md.bool(OPTIONS['relay.nodelay'].keys, false);
  return {
    readTimeoutMs: readTimeout > 0 ? readTimeout : DEFAULT_RELAY_READ_TIMEOUT_MS,
    bind: md.bool(OPTIONS['socks5.bind'].keys, false),
    bindRules: parseBindRules(md),
    ...(publicAddr ? { publicAddr } : {}),
    mux: parseMuxMetadata(md),
    udpBufferSize: Math.max(0, md.int(OPTIONS['handler.udp.bufferSize'].keys, 0)) || DEFAULT_UDP_BUFFER_SIZE,
  };
}
