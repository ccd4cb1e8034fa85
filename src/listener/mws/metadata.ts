import type { Metadata } from '../../core/metadata.js';
import { parseMuxMetadata } from '../../mux/smux/metadata.js';
import type { SmuxConfig } from '../../mux/smux/config.js';
import { parseWebSocketMetadata } from '../../transport/websocket/metadata.js';
import type { WebSocketOptions } from '../../transport/websocket/options.js';
import { OPTIONS } from '../../config/keys.js';

export interface MwsListenerMetadata {
  ws: WebSocketOptions;
  mux: SmuxConfig;
  /** Accepted streams waiting for the service beyond which new ones get FIN (GOST: 128). */
  backlog: number;
  /** TCP keepalive on accepted connections (the listener's `keepalive` is TCP's, not WebSocket's). */
  keepAlive: boolean;
  keepAliveIdle: number;
}

/** Keys of GOST's mws listener (facts §9.2), aliases included. */
export function parseMwsListenerMetadata(md: Metadata): MwsListenerMetadata {
  const backlog = md.int(OPTIONS['ws.backlog'].keys, 128);
  return {
    ws: parseWebSocketMetadata(md, 'listener'),
    mux: parseMuxMetadata(md),
    backlog: backlog > 0 ? backlog : 128,
    keepAlive: md.bool(OPTIONS['listener.keepalive'].keys, false),
    keepAliveIdle: md.duration(OPTIONS['listener.keepalive.idle'].keys, 0),
  };
}
