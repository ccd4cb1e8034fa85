import type { Metadata } from '../../core/metadata.js';
import { OPTIONS } from '../../config/keys.js';

export interface TlsDialerMetadata {
  /** Bound on the TLS handshake, ms; 0 = only the route's deadline. */
  handshakeTimeout: number;
}

/** Keys of GOST's `tls` dialer (`dialer/tls/metadata.go`). TLS policy itself comes from `tls:`. */
export function parseTlsDialerMetadata(md: Metadata): TlsDialerMetadata {
  return { handshakeTimeout: md.duration(OPTIONS['tls.handshakeTimeout'].keys, 0) };
}
