import type { Metadata } from '../../core/metadata.js';
import { OPTIONS } from '../../config/keys.js';

/** What the `socks4` connector reads from its metadata (go-gost/x connector/socks/v4/metadata.go). */
export interface Socks4ConnectorMetadata {
  /** `timeout`: bound on the request/reply exchange, ms. Absent/0 = none. */
  timeoutMs?: number;
  /** `disable4a`: send plain SOCKS4 (host names resolved locally to IPv4). */
  disable4a: boolean;
}

export function parseSocks4ConnectorMetadata(md: Metadata): Socks4ConnectorMetadata {
  const out: Socks4ConnectorMetadata = { disable4a: md.bool(OPTIONS['socks4.disable4a'].keys, false) };
  const timeout = md.duration(OPTIONS['connector.timeout'].keys, 0);
  if (timeout > 0) out.timeoutMs = timeout;
  return out;
}
