import type { Metadata } from '../../core/metadata.js';

export interface TlsListenerMetadata {
  /** Bound on a client's TLS handshake, ms; 0 = the listener's default (60 s). */
  handshakeTimeout: number;
  /** TCP keepalive on accepted connections (GOST `keepalive`), with its idle time in ms. */
  keepAlive: boolean;
  keepAliveIdle: number;
}

/**
 * Keys of GOST's `tls` listener: TCP `keepalive`/`keepalive.idle`, plus `handshakeTimeout`, which
 * GOST's Go listener lacks (Go never times out a stalled handshake); here it caps what a silent
 * client can hold.
 */
export function parseTlsListenerMetadata(md: Metadata): TlsListenerMetadata {
  return {
    handshakeTimeout: md.duration(['handshakeTimeout', 'tls.handshakeTimeout'], 0),
    keepAlive: md.bool(['keepalive'], false),
    keepAliveIdle: md.duration(['keepalive.idle'], 0),
  };
}
