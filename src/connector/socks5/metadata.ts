import type { Metadata } from '../../core/metadata.js';

/** What the `socks5` connector reads from its metadata (go-gost/x connector/socks/v5/metadata.go). */
export interface Socks5ConnectorMetadata {
  /** `timeout`: bound on the whole handshake, ms. Absent/0 = none. */
  timeoutMs?: number;
  /**
   * `notls`. GOST offers its TLS methods 0x80/0x82 unless set; this connector never does (it always
   * behaves as `notls=true`), the key is read for compatibility only.
   */
  noTLS: boolean;
}

export function parseSocks5ConnectorMetadata(md: Metadata): Socks5ConnectorMetadata {
  const out: Socks5ConnectorMetadata = { noTLS: md.bool(['notls'], false) };
  const timeout = md.duration(['timeout'], 0);
  if (timeout > 0) out.timeoutMs = timeout;
  return out;
}
