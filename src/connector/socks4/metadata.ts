import type { Metadata } from '../../core/metadata.js';

/** What the `socks4` connector reads from its metadata (go-gost/x connector/socks/v4/metadata.go). */
export interface Socks4ConnectorMetadata {
  /** `timeout`: bound on the request/reply exchange, ms. Absent/0 = none. */
  timeoutMs?: number;
  /** `disable4a`: send plain SOCKS4 (host names resolved locally to IPv4). */
  disable4a: boolean;
}

export function parseSocks4ConnectorMetadata(md: Metadata): Socks4ConnectorMetadata {
  const out: Socks4ConnectorMetadata = { disable4a: md.bool(['disable4a'], false) };
  const timeout = md.duration(['timeout'], 0);
  if (timeout > 0) out.timeoutMs = timeout;
  return out;
}
