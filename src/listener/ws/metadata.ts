import type { Metadata } from '../../core/metadata.js';
import { parseWebSocketMetadata } from '../../transport/websocket/metadata.js';
import type { WebSocketOptions } from '../../transport/websocket/options.js';
import { OPTIONS } from '../../config/keys.js';
import { DEFAULT_LIMITS } from '../../common/limits.js';

export interface WsListenerMetadata {
  ws: WebSocketOptions;
  /** GOST's queue of accepted, unhandled connections (128); beyond it new ones are closed. */
  backlog: number;
  /** TCP keepalive on accepted connections (the listener's `keepalive` is TCP's, not WebSocket's). */
  keepAlive: boolean;
  keepAliveIdle: number;
  /** Connections between TCP accept and the 101 (TLS included); 0 = unbounded. */
  maxHandshakes: number;
}

/** Keys of GOST's `ws`/`wss` listener: the mws keys (facts §9.2) without `mux.*`. */
export function parseWsListenerMetadata(md: Metadata): WsListenerMetadata {
  const backlog = md.int(OPTIONS['ws.backlog'].keys, 128);
  return {
    ws: parseWebSocketMetadata(md, 'listener'),
    backlog: backlog > 0 ? backlog : 128,
    keepAlive: md.bool(OPTIONS['listener.keepalive'].keys, false),
    keepAliveIdle: md.duration(OPTIONS['listener.keepalive.idle'].keys, 0),
    maxHandshakes: Math.max(
      0,
      md.int(OPTIONS['limit.maxHandshakes'].keys, DEFAULT_LIMITS.handshakesPerListener),
    ),
  };
}
