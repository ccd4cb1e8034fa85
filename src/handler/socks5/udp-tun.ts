import type { Conn, HandlerContext, PacketConn } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { joinHostPort, parseHostPort } from '../../common/addr.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { SocketPacketConn } from '../../common/udp/socket-packet-conn.js';
import { UdpTunPacketConn } from '../../common/udp/tun-packet-conn.js';
import { encodeReply } from '../../proto/socks5/codec.js';

import { REP_GENERAL_FAILURE, REP_NOT_ALLOWED, REP_SUCCEEDED } from '../../proto/socks5/constants.js';
import type { Socks5UdpOptions } from './udp-options.js';
import { DEFAULT_BIND_RULES, checkBindAllowed } from '../../bind/policy.js';

/** The success reply naming `local` (`host:port`), or 0.0.0.0:0 when there is none. */
export function boundReply(local: string | undefined): Buffer {
  const hp = local === undefined ? undefined : parseHostPort(local);
  if (hp === undefined) return encodeReply(REP_SUCCEEDED);
  // An unknown local host (a stream without socket addresses) is named as 0.0.0.0, as gosocks5 does.
  return encodeReply(REP_SUCCEEDED, hp.host === '' ? '0.0.0.0' : hp.host, hp.port);
}

/**
 * GOST's UDP-TUN command (0xF3, handler/socks/v5/udp_tun.go). Port 0 asks for a relay (needs
 * `udp=true`): datagrams from the stream go out of a UDP socket (or through this handler's chain)
 * to the address each names. Any other port asks this server to receive UDP there for the client
 * (rudp; needs `bind=true`): every peer's datagrams come down the stream with the peer's address,
 * and what the client sends back goes to that peer. Refusals are GOST's: `05 02` disabled, `05 01`
 * the port cannot be bound; then the stream is closed.
 */
export async function serveUdpTun(
  conn: Conn,
  addr: { host: string; port: number },
  ctx: HandlerContext,
  opts: Socks5UdpOptions,
  log: Logger,
): Promise<void> {
  const relayMode = addr.port === 0;
  if (relayMode ? !opts.udp : !opts.bind) {
    log.debug(
      { cmd: 'udp-tun', bind: !relayMode },
      `socks5: UDP-TUN refused (${relayMode ? 'udp' : 'bind'}=true not set)`,
    );
    ctx.fail?.('socks5: UDP-TUN refused');
    await endGracefully(conn, encodeReply(REP_NOT_ALLOWED));
    return;
  }
  const bindHost = addr.host === '0.0.0.0' || addr.host === '::' ? '' : addr.host;
  const refused = relayMode
    ? undefined
    : checkBindAllowed(opts.bindRules ?? DEFAULT_BIND_RULES, bindHost, addr.port);
  if (refused !== undefined) {
    log.warn({ cmd: 'udp-tun', reason: refused }, 'socks5: UDP-TUN bind refused');
    ctx.fail?.('socks5: UDP-TUN bind refused');
    await endGracefully(conn, encodeReply(REP_NOT_ALLOWED));
    return;
  }
  let packets: PacketConn;
  try {
    if (relayMode) {
      if (ctx.router.dialUdp === undefined) throw new Error('this router cannot carry UDP');
      packets = await ctx.router.dialUdp({ signal: ctx.signal, log });
    } else {
      packets = await SocketPacketConn.bind(joinHostPort(bindHost, addr.port));
    }
  } catch (err) {
    log.warn(
      { err: toError(err).message, port: addr.port },
      `socks5: UDP-TUN ${relayMode ? 'relay' : 'bind'} failed`,
    );
    await endGracefully(conn, encodeReply(REP_GENERAL_FAILURE));
    return;
  }
  try {
    await writeAsync(conn, boundReply(packets.localAddress()));
  } catch (err) {
    log.debug({ err: toError(err) }, 'socks5: client went away before the reply');
    packets.close();
    return;
  }
  log.debug(
    { bind: packets.localAddress(), mode: relayMode ? 'relay' : 'bind' },
    'socks5: UDP-TUN established',
  );
  const tun = new UdpTunPacketConn(conn, log);
  const counts = await pump(tun, packets, ctx, opts);
  log.debug({ up: counts.up, down: counts.down }, 'socks5: UDP-TUN closed');
}

/**
 * Moves datagrams both ways between a tunnel stream and a UDP side until either closes (or the
 * handler is aborted). Oversized datagrams and ones the other side refuses are dropped and counted.
 */
export async function pump(
  tun: PacketConn,
  packets: PacketConn,
  ctx: HandlerContext,
  opts: Socks5UdpOptions,
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
