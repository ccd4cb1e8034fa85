import type { Conn, HandlerContext, PacketConn, UdpObserver } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { RelayPacketConn } from '../../common/udp/relay-packet-conn.js';
import { pump } from '../socks5/udp-tun.js';
import { encodeRelayResponse } from '../../proto/relay/codec.js';
import { MAX_DATAGRAM_BYTES } from '../../proto/relay/datagram.js';
import { STATUS_BAD_REQUEST, STATUS_OK } from '../../proto/relay/constants.js';

/**
 * Relay UDP CONNECT (GOST's handleConnect with network udp; no `udp=true` gate, as GOST): a UDP
 * channel to `target` (a local socket, or through this handler's chain), then datagrams framed
 * `LEN(2, BE) data` on the stream go to `target` and what comes back goes down the stream. The OK
 * response goes out at once (GOST holds it back until the first datagram back unless `nodelay`; the
 * bytes are the same). No target: `01`; the channel cannot be opened: `failStatus`.
 */
export async function connectUdpAndRelay(
  conn: Conn,
  target: string,
  ctx: HandlerContext,
  log: Logger,
  opts: { failStatus: number; observer?: UdpObserver | undefined },
): Promise<void> {
  if (target === '') {
    log.info('relay: UDP CONNECT without a target address');
    ctx.fail?.('relay: UDP CONNECT without a target address');
    await endGracefully(conn, encodeRelayResponse(STATUS_BAD_REQUEST));
    return;
  }
  let packets: PacketConn;
  try {
    if (ctx.router.dialUdp === undefined) throw new Error('this router cannot carry UDP');
    packets = await ctx.router.dialUdp({ signal: ctx.signal, log, target });
  } catch (err) {
    log.info({ err: toError(err).message, dst: target }, 'relay: UDP dial failed');
    ctx.fail?.('relay: UDP dial failed');
    await endGracefully(conn, encodeRelayResponse(opts.failStatus));
    return;
  }
  try {
    await writeAsync(conn, encodeRelayResponse(STATUS_OK));
  } catch {
    packets.close();
    return;
  }
  log.debug({ dst: target }, 'relay: UDP established');
  const tun = new RelayPacketConn(conn, { peer: target, expectResponse: false, log });
  // The stream's framing carries up to 65535 bytes; the UDP side takes what a datagram can hold.
  const counts = await pump(tun, packets, ctx, {
    udp: true,
    bind: false,
    udpBufferSize: MAX_DATAGRAM_BYTES,
    observer: opts.observer,
  });
  log.debug({ dst: target, up: counts.up, down: counts.down }, 'relay: UDP closed');
}
