import type { Conn, HandlerContext, PacketConn } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { joinHostPort, parseHostPort } from '../../common/addr.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { UdpTunPacketConn } from '../../common/udp/tun-packet-conn.js';
import { encodeReply } from '../../proto/socks5/codec.js';

import { REP_GENERAL_FAILURE, REP_NOT_ALLOWED, REP_SUCCEEDED } from '../../proto/socks5/constants.js';
import type { Socks5UdpOptions } from './udp-options.js';
import { DEFAULT_BIND_RULES } from '../../bind/policy.js';
import { serveUdpBindRequest } from '../../bind/udp-request.js';
import { pump } from '../../common/udp/pump.js';
import { asUdpAssociation } from '../../common/udp/association-limits.js';

/** The success reply naming `local` (`host:port`), or 0.0.0.0:0 when there is none. */
export function boundReply(local: string | undefined): Buffer {
  const hp = local === undefined ? undefined : parseHostPort(local);
  if (hp === undefined) return encodeReply(REP_SUCCEEDED);
  // An unknown local host (a stream without socket addresses) is named as 0.0.0.0, as gosocks5 does.
  return encodeReply(REP_SUCCEEDED, hp.host === '' ? '0.0.0.0' : hp.host, hp.port);
}

/**
 * GOST's UDP-TUN command (0xF3, handler/socks/v5/udp_tun.go). Port 0 asks for a relay (needs
 * `udp=true`): datagrams from the stream go out through this handler's chain (or a local UDP
 * socket) to the address each names. Any other port asks this server to receive UDP there for the
 * client (rudp; needs `bind=true`, served by bind/udp-request.ts). Refusals are GOST's: `05 02`
 * disabled (and, beyond GOST, outside `bind.allow`), `05 01` the port cannot be bound; then the
 * stream is closed.
 */
export async function serveUdpTun(
  conn: Conn,
  addr: { host: string; port: number },
  ctx: HandlerContext,
  opts: Socks5UdpOptions,
  log: Logger,
): Promise<void> {
  if (addr.port !== 0) {
    // GOST's connector sends `:5353` as 0.0.0.0:5353: bind every interface, as it means.
    const host = addr.host === '0.0.0.0' || addr.host === '::' ? '' : addr.host;
    await serveUdpBindRequest(
      conn,
      joinHostPort(host, addr.port),
      ctx,
      log.child({ cmd: 'udp-tun', bind: joinHostPort(host, addr.port) }),
      {
        enabled: opts.bind,
        rules: opts.bindRules ?? DEFAULT_BIND_RULES,
        udpBufferSize: opts.udpBufferSize,
        observer: opts.observer,
      },
      {
        name: 'socks5: UDP-TUN bind',
        forbidden: () => encodeReply(REP_NOT_ALLOWED),
        listenFailed: () => encodeReply(REP_GENERAL_FAILURE),
        ok: (host, port) => boundReply(joinHostPort(host, port)),
      },
    );
    return;
  }
  if (!opts.udp) {
    log.debug({ cmd: 'udp-tun' }, 'socks5: UDP-TUN refused (udp=true not set)');
    ctx.fail?.('socks5: UDP-TUN refused');
    await endGracefully(conn, encodeReply(REP_NOT_ALLOWED));
    return;
  }
  await asUdpAssociation(
    conn,
    ctx,
    log,
    'socks5: UDP-TUN',
    () => encodeReply(REP_GENERAL_FAILURE),
    () => relayUdpTun(conn, ctx, opts, log),
  );
}

/** UDP-TUN port 0: datagrams from the stream go out through the chain (or a local socket). */
async function relayUdpTun(
  conn: Conn,
  ctx: HandlerContext,
  opts: Socks5UdpOptions,
  log: Logger,
): Promise<void> {
  let packets: PacketConn;
  try {
    if (ctx.router.dialUdp === undefined) throw new Error('this router cannot carry UDP');
    packets = await ctx.router.dialUdp({ signal: ctx.signal, log });
  } catch (err) {
    log.warn({ err: toError(err).message }, 'socks5: UDP-TUN relay failed');
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
  log.debug({ bind: packets.localAddress(), mode: 'relay' }, 'socks5: UDP-TUN established');
  const tun = new UdpTunPacketConn(conn, log);
  const counts = await pump(tun, packets, ctx, opts);
  log.debug({ up: counts.up, down: counts.down }, 'socks5: UDP-TUN closed');
}
