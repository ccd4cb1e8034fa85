import { isIPv4 } from 'node:net';
import type { Conn, HandlerContext, PacketConn } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { joinHostPort, parseHostPort } from '../../common/addr.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { SocketPacketConn } from '../../common/udp/socket-packet-conn.js';
import { decodeUdpDatagram, encodeUdpDatagram } from '../../proto/socks5/udp.js';
import { encodeReply } from '../../proto/socks5/codec.js';
import { REP_GENERAL_FAILURE, REP_NOT_ALLOWED } from '../../proto/socks5/constants.js';
import type { Socks5UdpOptions } from './udp-options.js';
import { boundReply } from './udp-tun.js';
import { asUdpAssociation } from '../../common/udp/association-limits.js';

const unmap = (host: string): string =>
  host.startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : host;

/**
 * Standard SOCKS5 UDP ASSOCIATE (RFC 1928 §7, GOST handler/socks/v5/udp.go), needs `udp=true`.
 * A UDP socket is opened on the address the client reached us at and named in the reply; the
 * client's datagrams (standard header, FRAG 0) go to their destinations through this handler's
 * chain — one UDP-TUN stream per association, as GOST — or directly without one; answers come
 * back with their source in the header. Only datagrams from the client's IP are taken (GOST's
 * filter). The association lives as long as the TCP connection.
 */
export async function serveUdpAssociate(
  conn: Conn,
  ctx: HandlerContext,
  opts: Socks5UdpOptions,
  log: Logger,
): Promise<void> {
  if (!opts.udp) {
    log.debug({ cmd: 'udp' }, 'socks5: UDP ASSOCIATE refused (udp=true not set)');
    ctx.fail?.('socks5: UDP ASSOCIATE refused');
    await endGracefully(conn, encodeReply(REP_NOT_ALLOWED));
    return;
  }
  await asUdpAssociation(
    conn,
    ctx,
    log,
    'socks5: UDP ASSOCIATE',
    () => encodeReply(REP_GENERAL_FAILURE),
    () => associate(conn, ctx, opts, log),
  );
}

async function associate(
  conn: Conn,
  ctx: HandlerContext,
  opts: Socks5UdpOptions,
  log: Logger,
): Promise<void> {
  const localHost = unmap(conn.localAddress ?? '');
  const clientIp = unmap(conn.remoteAddress ?? '');
  let client: SocketPacketConn;
  let packets: PacketConn;
  try {
    client = await SocketPacketConn.bind(joinHostPort(localHost, 0));
  } catch (err) {
    log.warn({ err: toError(err).message }, 'socks5: UDP ASSOCIATE: cannot open a UDP socket');
    ctx.fail?.('socks5: UDP ASSOCIATE: cannot open a UDP socket');
    await endGracefully(conn, encodeReply(REP_GENERAL_FAILURE));
    return;
  }
  try {
    if (ctx.router.dialUdp === undefined) throw new Error('this router cannot carry UDP');
    packets = await ctx.router.dialUdp({ signal: ctx.signal, log });
  } catch (err) {
    log.warn({ err: toError(err).message }, 'socks5: UDP ASSOCIATE: no UDP channel');
    ctx.fail?.('socks5: UDP ASSOCIATE: no UDP channel');
    client.close();
    await endGracefully(conn, encodeReply(REP_GENERAL_FAILURE));
    return;
  }
  const port = parseHostPort(client.localAddress() ?? '')?.port ?? 0;
  try {
    await writeAsync(conn, boundReply(joinHostPort(localHost, port)));
  } catch (err) {
    log.debug({ err: toError(err) }, 'socks5: client went away before the reply');
    client.close();
    packets.close();
    return;
  }
  log.debug({ bind: joinHostPort(localHost, port) }, 'socks5: UDP ASSOCIATE established');

  let clientAddr: string | undefined;
  let up = 0;
  let down = 0;
  const drop = opts.observer?.dropped.bind(opts.observer);
  client.onMessage((msg, from) => {
    const hp = parseHostPort(from);
    if (hp === undefined || (clientIp !== '' && hp.host !== clientIp)) return;
    let d;
    try {
      d = decodeUdpDatagram(msg);
    } catch {
      drop?.('bad_datagram');
      return;
    }
    // RFC 1928: an implementation without fragmentation drops every fragment.
    if (d.frag !== 0) return void drop?.('bad_datagram');
    if (d.data.length > opts.udpBufferSize) return void drop?.('too_large');
    clientAddr = from;
    const sent = packets.send(d.data, joinHostPort(d.addr.host, d.addr.port));
    if (sent === true) up += 1;
    else drop?.(sent);
  });
  packets.onMessage((data, from) => {
    if (clientAddr === undefined) return;
    if (data.length > opts.udpBufferSize) return void drop?.('too_large');
    const hp = parseHostPort(from);
    if (hp === undefined) return void drop?.('bad_datagram');
    const sent = client.send(encodeUdpDatagram(data, hp.host, hp.port), clientAddr);
    if (sent === true) down += 1;
    else drop?.(sent);
  });
  // The TCP connection only says how long the association lives; whatever it carries is discarded.
  conn.resume();
  const closed = new Promise<void>((resolve) => {
    conn.once('close', resolve);
    conn.once('end', resolve);
  });
  const onAbort = (): void => void conn.destroy();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([closed, packets.done, client.done]);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    client.close();
    packets.close();
  }
  log.debug({ up, down }, 'socks5: UDP ASSOCIATE closed');
}
