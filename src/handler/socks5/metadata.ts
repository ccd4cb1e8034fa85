import type { Metadata } from '../../core/metadata.js';

/** What the `socks5` handler reads from its metadata (go-gost/x handler/socks/v5/metadata.go). */
export interface Socks5HandlerMetadata {
  /** `readTimeout`: bound on greeting + auth + request, ms. Default 15000 (also for ≤ 0). */
  readTimeoutMs: number;
  /** `notls`: GOST's TLS methods 0x80/0x82 are never selected by this handler anyway. */
  noTLS: boolean;
  /** `bind`: when false (default) BIND is refused with `05 02` as GOST does; when true `05 07` (not implemented). */
  bind: boolean;
  /** `udp`: when false (default) UDP ASSOCIATE is refused with `05 02` as GOST does; when true `05 07` (not implemented). */
  udp: boolean;
}

export const DEFAULT_SOCKS_READ_TIMEOUT_MS = 15_000;

export function parseSocks5HandlerMetadata(md: Metadata): Socks5HandlerMetadata {
  const readTimeout = md.duration(['readTimeout'], DEFAULT_SOCKS_READ_TIMEOUT_MS);
  return {
    readTimeoutMs: readTimeout > 0 ? readTimeout : DEFAULT_SOCKS_READ_TIMEOUT_MS,
    noTLS: md.bool(['notls'], false),
    bind: md.bool(['bind'], false),
    udp: md.bool(['udp'], false),
  };
}
