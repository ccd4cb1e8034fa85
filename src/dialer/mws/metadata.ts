import type { Metadata } from '../../core/metadata.js';
import { parseMuxMetadata } from '../../mux/smux/metadata.js';
import type { SmuxConfig } from '../../mux/smux/config.js';
import { parsePingInterval, parseWebSocketMetadata } from '../../transport/websocket/metadata.js';
import type { WebSocketOptions } from '../../transport/websocket/options.js';
import { OPTIONS } from '../../config/keys.js';

export interface MwsDialerMetadata {
  ws: WebSocketOptions;
  /** `host`: the Host header (and SNI when the node address has no host). Default: the node address. */
  host: string | undefined;
  /** WebSocket ping interval (ms), 0 = off. */
  pingInterval: number;
  mux: SmuxConfig;
}

/** Keys of GOST's mws dialer (facts §9.1), aliases included. */
export function parseMwsDialerMetadata(md: Metadata): MwsDialerMetadata {
  return {
    ws: parseWebSocketMetadata(md, 'dialer'),
    host: md.string(OPTIONS['ws.host'].keys) || undefined,
    pingInterval: parsePingInterval(md),
    mux: parseMuxMetadata(md),
  };
}
