import type { Metadata } from '../../core/metadata.js';
import { parsePingInterval, parseWebSocketMetadata } from '../../transport/websocket/metadata.js';
import type { WebSocketOptions } from '../../transport/websocket/options.js';
import { OPTIONS } from '../../config/keys.js';

export interface WsDialerMetadata {
  ws: WebSocketOptions;
  /** `host`: the Host header (and SNI when the node address has no host). Default: the node address. */
  host: string | undefined;
  /** WebSocket ping interval (ms), 0 = off. */
  pingInterval: number;
}

/** Keys of GOST's `ws`/`wss` dialer: the mws keys (facts §9.1) without `mux.*`. */
export function parseWsDialerMetadata(md: Metadata): WsDialerMetadata {
  return {
    ws: parseWebSocketMetadata(md, 'dialer'),
    host: md.string(OPTIONS['ws.host'].keys) || undefined,
    pingInterval: parsePingInterval(md),
  };
}
