import type { Metadata } from '../../core/metadata.js';
import { parseMuxMetadata } from '../../mux/smux/metadata.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import { OPTIONS } from '../../config/keys.js';

/** What the `socks5` connector reads from its metadata (go-gost/x connector/socks/v5/metadata.go). */
export interface Socks5ConnectorMetadata {
  /** `timeout`: bound on the whole handshake, ms. Absent/0 = none. */
  timeoutMs?: number;
  /** `notls`: do not offer GOST's TLS methods 0x80/0x82 (offered by default, as GOST). */
  noTLS: boolean;
  /** `mux.*`: the inner smux session of a multiplexed bind (rtcp). */
  mux: SmuxConfig;
}

export function parseSocks5ConnectorMetadata(md: Metadata): Socks5ConnectorMetadata {
  const out: Socks5ConnectorMetadata = {
    noTLS: md.bool(OPTIONS['socks5.notls'].keys, false),
    mux: parseMuxMetadata(md),
  };
  const timeout = md.duration(OPTIONS['connector.timeout'].keys, 0);
  if (timeout > 0) out.timeoutMs = timeout;
  return out;
}
