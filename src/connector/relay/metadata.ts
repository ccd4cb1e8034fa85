import type { Metadata } from '../../core/metadata.js';
import { parseMuxMetadata } from '../../mux/smux/metadata.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import { OPTIONS } from '../../config/keys.js';

/** What the `relay` connector reads from its metadata (go-gost/x connector/relay/metadata.go). */
export interface RelayConnectorMetadata {
  /** `connectTimeout`: bound on a handshake that waits for a response (BIND, `nodelay`), ms. */
  timeoutMs?: number;
  /** `nodelay`: wait for the CONNECT response before handing the stream over. */
  noDelay: boolean;
  /** `mux.*`: the inner smux session of a bind (rtcp). */
  mux: SmuxConfig;
}

export function parseRelayConnectorMetadata(md: Metadata): RelayConnectorMetadata {
  const out: RelayConnectorMetadata = {
    noDelay: md.bool(OPTIONS['relay.nodelay'].keys, false),
    mux: parseMuxMetadata(md),
  };
  const timeout = md.duration(OPTIONS['relay.connectTimeout'].keys, 0);
  if (timeout > 0) out.timeoutMs = timeout;
  return out;
}
