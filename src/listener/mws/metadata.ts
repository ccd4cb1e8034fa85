import type { Metadata } from '../../core/metadata.js';
import { parseMuxMetadata } from '../../mux/smux/metadata.js';
import type { SmuxConfig } from '../../mux/smux/config.js';
import { parseWebSocketMetadata } from '../../transport/websocket/metadata.js';
import type { WebSocketOptions } from '../../transport/websocket/options.js';
import { OPTIONS } from '../../config/keys.js';
import { DEFAULT_LIMITS } from '../../common/limits.js';

export interface MwsListenerMetadata {
  ws: WebSocketOptions;
  mux: SmuxConfig;
  /** Accepted streams waiting for the service beyond which new ones get FIN (GOST: 128). */
  backlog: number;
  /** TCP keepalive on accepted connections (the listener's `keepalive` is TCP's, not WebSocket's). */
  keepAlive: boolean;
  keepAliveIdle: number;
  /** Limits (0 = unbounded): see DEFAULT_LIMITS. */
  limits: {
    maxSessions: number;
    maxHandshakes: number;
    maxStreams: number;
    maxPendingStreams: number;
    maxUdpPerSession: number;
  };
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
    limits: {
      maxSessions: nonNegative(md.int(OPTIONS['limit.maxSessions'].keys, DEFAULT_LIMITS.sessionsPerListener)),
      maxHandshakes: nonNegative(
        md.int(OPTIONS['limit.maxHandshakes'].keys, DEFAULT_LIMITS.handshakesPerListener),
      ),
      maxStreams: nonNegative(md.int(OPTIONS['limit.maxStreams'].keys, DEFAULT_LIMITS.streamsPerSession)),
      maxPendingStreams: nonNegative(
        md.int(OPTIONS['limit.maxPendingStreams'].keys, DEFAULT_LIMITS.pendingStreamsPerSession),
      ),
      maxUdpPerSession: nonNegative(
        md.int(OPTIONS['limit.maxUdpPerSession'].keys, DEFAULT_LIMITS.udpPerSession),
      ),
    },
  };
}

/** Limits: a negative value means none, like 0. */
function nonNegative(n: number): number {
  return Math.max(0, n);
}
