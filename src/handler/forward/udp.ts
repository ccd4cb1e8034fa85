import type { HandlerContext, PacketConn, UdpObserver } from '../../core/types.js';
import { TunnelError } from '../../core/errors.js';
import type { UdpPeerConn } from '../../common/udp/peer-sessions.js';

/**
 * The UDP half of GOST's forward handler (`udp`, `rudp`): one peer session's datagrams go to
 * `target` through a UDP channel of the chain (one UDP-TUN stream per session, as GOST), and what
 * comes back goes to the peer. Ends when the session ends (idle, answered without keepalive) or
 * the tunnel closes. Throws when the channel cannot be opened (the caller marks the target).
 */
export async function forwardUdp(
  session: UdpPeerConn,
  target: string,
  ctx: HandlerContext,
  observer: UdpObserver | undefined,
): Promise<{ up: number; down: number }> {
  if (ctx.router.dialUdp === undefined) throw new TunnelError('ERR_DIAL', 'this router cannot carry UDP');
  const packets: PacketConn = await ctx.router.dialUdp({ signal: ctx.signal, log: ctx.log, target });
  let up = 0;
  let down = 0;
  packets.onMessage((data) => {
    if (session.destroyed || session.writableEnded) return;
    down += 1;
    session.write(data);
  });
  session.on('data', (data: Buffer) => {
    const sent = packets.send(data, target);
    if (sent === true) up += 1;
    else {
      observer?.dropped(sent);
      ctx.log.debug({ target, reason: sent, bytes: data.length }, 'udp: datagram dropped');
    }
  });
  const onAbort = (): void => void session.destroy();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        if (session.destroyed) resolve();
        else session.once('close', () => resolve());
      }),
      packets.done,
    ]);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    packets.close();
    session.destroy();
  }
  return { up, down };
}
