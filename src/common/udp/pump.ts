import type { HandlerContext, PacketConn, UdpObserver } from '../../core/types.js';

/** GOST's relay buffer when `udp.bufferSize` is unset (x/internal/net/udp defaultBufferSize). */
export const DEFAULT_UDP_BUFFER_SIZE = 4096;

export interface PumpOptions {
  /** Largest datagram relayed either way, bytes (`udp.bufferSize`); larger ones are dropped. */
  udpBufferSize: number;
  observer?: UdpObserver | undefined;
}

/**
 * Moves datagrams both ways between a tunnel stream and a UDP side until either closes (or the
 * handler is aborted). Oversized datagrams and ones the other side refuses are dropped and counted.
 */
export async function pump(
  tun: PacketConn,
  packets: PacketConn,
  ctx: Pick<HandlerContext, 'signal'>,
  opts: PumpOptions,
): Promise<{ up: number; down: number }> {
  let up = 0;
  let down = 0;
  const forward = (to: PacketConn, data: Buffer, addr: string): boolean => {
    if (data.length > opts.udpBufferSize) {
      opts.observer?.dropped('too_large');
      return false;
    }
    const sent = to.send(data, addr);
    if (sent !== true) opts.observer?.dropped(sent);
    return sent === true;
  };
  tun.onMessage((data, addr) => void (forward(packets, data, addr) && (up += 1)));
  packets.onMessage((data, from) => void (forward(tun, data, from) && (down += 1)));
  const onAbort = (): void => tun.close();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([tun.done, packets.done]);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    tun.close();
    packets.close();
  }
  return { up, down };
}
