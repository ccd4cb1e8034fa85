import type { Metadata } from '../../core/metadata.js';
import { OPTIONS } from '../../config/keys.js';

/** What the `http` connector reads from its metadata (go-gost/x connector/http/metadata.go). */
export interface HttpConnectorMetadata {
  /** `header`: extra CONNECT request headers (map; names canonicalised). */
  header?: Record<string, string>;
  /** `timeout`: bound on writing the CONNECT and reading the reply, ms. Absent/0 = none. */
  timeoutMs?: number;
}

export function parseHttpConnectorMetadata(md: Metadata): HttpConnectorMetadata {
  const out: HttpConnectorMetadata = {};
  const header = md.stringMap(OPTIONS['connector.header'].keys);
  if (header && Object.keys(header).length > 0) out.header = header;
  const timeout = md.duration(OPTIONS['connector.timeout'].keys, 0);
  if (timeout > 0) out.timeoutMs = timeout;
  return out;
}
