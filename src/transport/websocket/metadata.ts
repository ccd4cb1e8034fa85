import type { Metadata } from '../../core/metadata.js';
import { parseDuration } from '../../core/duration.js';
import { DEFAULT_WS_PATH, type WebSocketOptions } from './options.js';

/** GOST's default ping interval when `keepalive=true` without `ttl`. */
export const DEFAULT_PING_INTERVAL = 15_000;

/** WebSocket settings common to dialer and listener (`ws.` prefixed keys first, then bare ones). */
export function parseWebSocketMetadata(md: Metadata): WebSocketOptions {
  const path = md.string(['ws.path', 'path'], DEFAULT_WS_PATH) || DEFAULT_WS_PATH;
  return {
    path: path.startsWith('/') ? path : `/${path}`,
    header: md.stringMap(['ws.header', 'header']),
    handshakeTimeout: md.duration(['ws.handshakeTimeout', 'handshakeTimeout'], 0),
    readHeaderTimeout: md.duration(['ws.readHeaderTimeout', 'readHeaderTimeout'], 0),
    readBufferSize: Math.max(0, md.int(['ws.readBufferSize', 'readBufferSize'], 0)),
    writeBufferSize: Math.max(0, md.int(['ws.writeBufferSize', 'writeBufferSize'], 0)),
    enableCompression: md.bool(['ws.enableCompression', 'enableCompression'], false),
  };
}

/**
 * The dialer's ping interval in ms (0 = off). GOST reads `keepalive` as a bool plus `ttl`; the
 * original documentation's `keepAlive=30s` (same key, case-insensitively) is a duration, which
 * current GOST would silently read as false. We honour both: a bool enables pings every `ttl`
 * (default 15 s), a duration enables them at that interval.
 */
export function parsePingInterval(md: Metadata): number {
  const raw = md.raw('ws.keepalive', 'keepalive');
  const ttl = md.duration(['ttl', 'keepalive.interval', 'ws.keepalive.interval'], DEFAULT_PING_INTERVAL);
  if (raw === undefined || raw === null || raw === '') return 0;
  if (typeof raw === 'number') return raw > 0 ? raw * 1000 : 0;
  if (typeof raw === 'string') {
    const interval = parseDuration(raw);
    if (interval !== undefined && !/^[01]$/.test(raw.trim())) return Math.max(0, interval);
  }
  // Anything else must be a boolean (strict metadata rejects other values with the key's name).
  return md.bool(['ws.keepalive', 'keepalive'], false) ? ttl : 0;
}
