import type { Metadata } from '../../core/metadata.js';
import { OPTIONS } from '../../config/keys.js';
import { DEFAULT_LIMITS } from '../../common/limits.js';

export interface RtcpListenerMetadata {
  /** Peer connections the tunnel holds before the service takes them; 0 = unbounded. */
  backlog: number;
}

/**
 * Keys of the `rtcp` listener. GOST's has none (its inner smux session holds at most 1024 streams
 * waiting to be accepted, fixed); `backlog` makes that bound an option.
 */
export function parseRtcpListenerMetadata(md: Metadata): RtcpListenerMetadata {
  return { backlog: Math.max(0, md.int(OPTIONS['rtcp.backlog'].keys, DEFAULT_LIMITS.bindBacklog)) };
}
