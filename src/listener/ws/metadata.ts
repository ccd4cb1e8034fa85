import type { Metadata } from '../../core/metadata.js';
import { parseWebSocketMetadata } from '../../transport/websocket/metadata.js';
import type { WebSocketOptions } from '../../transport/websocket/options.js';

export interface WsListenerMetadata {
  ws: WebSocketOptions;
  /** GOST's queue of accepted, unhandled connections (128); beyond it new ones are closed. */
  backlog: number;
  /** TCP keepalive on accepted connections (the listener's `keepalive` is TCP's, not WebSocket's). */
  keepAlive: boolean;
  keepAliveIdle: number;
}

/** Keys of GOST's `ws`/`wss` listener: the mws keys (facts §9.2) without `mux.*`. */
export function parseWsListenerMetadata(md: Metadata): WsListenerMetadata {
  const backlog = md.int(['ws.backlog', 'backlog'], 128);
  return {
    ws: parseWebSocketMetadata(md),
    backlog: backlog > 0 ? backlog : 128,
    keepAlive: md.bool(['keepalive'], false),
    keepAliveIdle: md.duration(['keepalive.idle'], 0),
  };
}
