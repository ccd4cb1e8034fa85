import type { Metadata } from '../../core/metadata.js';
import { DEFAULT_UDP_MAX_SESSIONS, type PeerSessionOptions } from '../../common/udp/peer-sessions.js';
import { OPTIONS } from '../../config/keys.js';

/**
 * What the `udp` listener reads (go-gost/x listener/udp/metadata.go): `keepalive` (false: a
 * session ends after its first reply), `ttl`|`keepalive.ttl` (5 s), `readBufferSize`|
 * `udp.bufferSize` (4096), `readQueueSize`|`recvQueueSize` (128), `backlog` (accepted for
 * compatibility, warned: sessions are handed to the handler at once). gost-ts adds `maxSessions` (4096).
 * Values ≤ 0 take the default, as in GOST.
 */
export function parseUdpListenerMetadata(md: Metadata): PeerSessionOptions {
  return {
    keepalive: md.bool(OPTIONS['udp.keepalive'].keys, false),
    ttlMs: positive(md.duration(OPTIONS['udp.ttl'].keys, 5000), 5000),
    readBufferSize: positive(md.int(OPTIONS['udp.readBufferSize'].keys, 4096), 4096),
    readQueueSize: positive(md.int(OPTIONS['udp.readQueueSize'].keys, 128), 128),
    maxSessions: maxSessions(md),
  };
}

/**
 * What the `rudp` listener reads (go-gost/x listener/rudp/metadata.go): `ttl` (5 s),
 * `readBufferSize` (8192), `readQueueSize` (1024), `backlog` (accepted, warned); sessions always stay open
 * until idle (GOST's rudp keeps them alive). gost-ts adds `maxSessions` (4096).
 */
export function parseRudpListenerMetadata(md: Metadata): PeerSessionOptions {
  return {
    keepalive: true,
    ttlMs: positive(md.duration(OPTIONS['rudp.ttl'].keys, 5000), 5000),
    readBufferSize: positive(md.int(OPTIONS['rudp.readBufferSize'].keys, 8192), 8192),
    readQueueSize: positive(md.int(OPTIONS['rudp.readQueueSize'].keys, 1024), 1024),
    maxSessions: maxSessions(md),
  };
}

const positive = (v: number, def: number): number => (v > 0 ? v : def);

const maxSessions = (md: Metadata): number =>
  positive(md.int(OPTIONS['udp.maxSessions'].keys, DEFAULT_UDP_MAX_SESSIONS), DEFAULT_UDP_MAX_SESSIONS);
