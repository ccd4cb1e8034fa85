import type { UdpObserver } from '../../core/types.js';
import type { BindRule } from '../../bind/policy.js';

/** What the socks5 handler's UDP commands need from its options. */
export interface Socks5UdpOptions {
  /** `udp`: UDP ASSOCIATE and UDP-TUN relay allowed (GOST default false: `05 02`). */
  udp: boolean;
  /** `bind`: UDP-TUN bind (rudp's server side) allowed (GOST default false: `05 02`). */
  bind: boolean;
  /** `udp.bufferSize`|`udpBufferSize`: largest datagram relayed, bytes; larger ones are dropped. */
  udpBufferSize: number;
  observer?: UdpObserver | undefined;
  /** `bind.allow`: the addresses a UDP-TUN bind may use (default: any port from 1024, or 0). */
  bindRules?: readonly BindRule[] | undefined;
}
