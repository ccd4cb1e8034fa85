import type { Metadata } from '../../core/metadata.js';
import { parseDuration } from '../../core/duration.js';
import { DEFAULT_WS_PATH, type WebSocketOptions } from './options.js';
import { ConfigError } from '../../core/errors.js';
import { WS_OPTIONS as OPTIONS, type WsOptionId as OptionId } from './option-keys.js';

/** GOST's default ping interval when `keepalive=true` without `ttl`. */
export const DEFAULT_PING_INTERVAL = 15_000;

/**
 * WebSocket settings of a dialer or a listener (`ws.` prefixed keys first, then bare ones). Only
 * the keys the option table (`./option-keys.ts`) gives to `side` are read: the others stay unread,
 * so the builder warns that they mean nothing there (`readHeaderTimeout` on a dialer).
 */
export function parseWebSocketMetadata(
  md: Metadata,
  side: 'dialer' | 'listener' = 'listener',
): WebSocketOptions {
  const on = (id: OptionId): boolean => (OPTIONS[id].where as readonly string[]).includes(side);
  const path = md.string(OPTIONS['ws.path'].keys, DEFAULT_WS_PATH) || DEFAULT_WS_PATH;
  return {
    path: path.startsWith('/') ? path : `/${path}`,
    header: md.stringMap(OPTIONS['ws.header'].keys),
    handshakeTimeout: md.duration(OPTIONS['ws.handshakeTimeout'].keys, 0),
    readHeaderTimeout: on('ws.readHeaderTimeout') ? md.duration(OPTIONS['ws.readHeaderTimeout'].keys, 0) : 0,
    readBufferSize: Math.max(0, md.int(OPTIONS['ws.readBufferSize'].keys, 0)),
    writeBufferSize: on('ws.writeBufferSize')
      ? Math.max(0, md.int(OPTIONS['ws.writeBufferSize'].keys, 0))
      : 0,
    enableCompression: md.bool(OPTIONS['ws.enableCompression'].keys, false),
  };
}

/**
 * The dialer's ping interval in ms (0 = off). GOST reads `keepalive` as a bool plus `ttl`; the
 * original documentation's `keepAlive=30s` (same key, case-insensitively) is a duration, which
 * current GOST would silently read as false. We honour both: a bool enables pings every `ttl`
 * (default 15 s), a duration enables them at that interval.
 */
export function parsePingInterval(md: Metadata): number {
  const raw = md.raw(...OPTIONS['ws.keepalive'].keys);
  const ttl = md.duration(OPTIONS['ws.ttl'].keys, DEFAULT_PING_INTERVAL);
  if (raw === undefined || raw === null || raw === '') return 0;
  const negative = (): never => {
    const key = md.presentKey(...OPTIONS['ws.keepalive'].keys) ?? 'keepalive';
    throw new ConfigError(
      `${md.path}.${key}`,
      `expected a duration of 0 or more, got ${JSON.stringify(raw)}`,
    );
  };
  if (typeof raw === 'number') return raw >= 0 ? raw * 1000 : negative();
  if (typeof raw === 'string') {
    const interval = parseDuration(raw);
    if (interval !== undefined && !/^[01]$/.test(raw.trim())) {
      return interval >= 0 ? interval : negative();
    }
  }
  // Anything else must be a boolean (strict metadata rejects other values with the key's name).
  return md.bool(OPTIONS['ws.keepalive'].keys, false) ? ttl : 0;
}
