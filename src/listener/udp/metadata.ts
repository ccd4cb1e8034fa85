import type { Metadata } from '../../core/metadata.js';
import type { PeerSessionOptions } from '../../common/udp/peer-sessions.js';

/** Default cap on concurrent UDP sessions per listener (GOST has none). */
export const DEFAULT_UDP_MAX_SESSIONS = 4096;

/**
 * What the `udp` listener reads (go-gost/x listener/udp/metadata.go): `keepalive` (false: a
 * session ends after its first reply), `ttl`|`keepalive.ttl` (5 s), `readBufferSize`|
 * `udp.bufferSize` (4096), `readQueueSize`|`recvQueueSize` (128), `backlog` (accepted for
 * compatibility: sessions are handed to the handler at once). gost-ts adds `maxSessions` (4096).
 * Values ≤ 0 take the default, as in GOST.
 */
export function parseUdpListenerMetadata(md: Metadata): PeerSessionOptions {
  const positive = (v: number, def: number): number => (v > 0 ? v : def);
  md.int(['backlog'], 128);
  return {
    keepalive: md.bool(['keepalive'], false),
    ttlMs: positive(md.duration(['ttl', 'keepalive.ttl'], 5000), 5000),
    readBufferSize: positive(md.int(['readBufferSize', 'udp.bufferSize'], 4096), 4096),
    readQueueSize: positive(md.int(['readQueueSize', 'recvQueueSize'], 128), 128),
    maxSessions: positive(md.int(['maxSessions'], DEFAULT_UDP_MAX_SESSIONS), DEFAULT_UDP_MAX_SESSIONS),
  };
}

/**
 * What the `rudp` listener reads (go-gost/x listener/rudp/metadata.go): `ttl` (5 s),
 * `readBufferSize` (8192), `readQueueSize` (1024), `backlog` (accepted); sessions always stay open
 * until idle (GOST's rudp keeps them alive). gost-ts adds `maxSessions` (4096).
 */
export function parseRudpListenerMetadata(md: Metadata): PeerSessionOptions {
  const positive = (v: number, def: number): number => (v > 0 ? v : def);
  md.int(['backlog'], 128);
  return {
    keepalive: true,
    ttlMs: positive(md.duration(['ttl'], 5000), 5000),
    readBufferSize: positive(md.int(['readBufferSize'], 8192), 8192),
    readQueueSize: positive(md.int(['readQueueSize'], 1024), 1024),
    maxSessions: positive(md.int(['maxSessions'], DEFAULT_UDP_MAX_SESSIONS), DEFAULT_UDP_MAX_SESSIONS),
  };
}
