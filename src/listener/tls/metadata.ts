import type { Metadata } from '../../core/metadata.js';
import { OPTIONS } from '../../config/keys.js';
import { DEFAULT_LIMITS } from '../../common/limits.js';

export interface TlsListenerMetadata {
  /** Bound on a client's TLS handshake, ms; 0 = the listener's default (60 s). */
  handshakeTimeout: number;
  /** TCP keepalive on accepted connections (GOST `keepalive`), with its idle time in ms. */
  keepAlive: boolean;
  keepAliveIdle: number;
  /** TLS handshakes in progress; one more connection is closed at once. 0 = unbounded. */
  maxHandshakes: number;
}

/**
 * Keys of GOST's `tls` listener: TCP `keepalive`/`keepalive.idle`, plus `handshakeTimeout`, which
 * GOST's Go listener lacks (Go never times out a stalled handshake); here it caps what a silent
 * client can hold.
 */
export function parseTlsListenerMetadata(md: Metadata): TlsListenerMetadata {
  return {
    handshakeTimeout: md.duration(OPTIONS['tls.handshakeTimeout'].keys, 0),
    keepAlive: md.bool(OPTIONS['listener.keepalive'].keys, false),
    keepAliveIdle: md.duration(OPTIONS['listener.keepalive.idle'].keys, 0),
    maxHandshakes: Math.max(
      0,
      md.int(OPTIONS['limit.maxHandshakes'].keys, DEFAULT_LIMITS.handshakesPerListener),
    ),
  };
}
