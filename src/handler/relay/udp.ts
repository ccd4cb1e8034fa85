import type { Conn, HandlerContext, PacketConn, UdpObserver } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { isIP } from 'node:net';
import { toError } from '../../core/errors.js';
import { parseHostPort } from '../../common/addr.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { RelayPacketConn } from '../../common/udp/relay-packet-conn.js';
import { pump } from '../../common/udp/pump.js';
import { encodeRelayResponse } from '../../proto/relay/codec.js';
import { MAX_DATAGRAM_BYTES } from '../../proto/relay/datagram.js';
import { STATUS_BAD_REQUEST, STATUS_OK, STATUS_SERVICE_UNAVAILABLE } from '../../proto/relay/constants.js';
import { asUdpAssociation } from '../../common/udp/association-limits.js';

/** What a refused UDP CONNECT answers, and where its datagrams are counted. */
interface UdpConnectOptions {
  failStatus: number;
  observer?: UdpObserver | undefined;
}

/**
 * Relay UDP CONNECT (GOST's handleConnect with network udp; no `udp=true` gate, as GOST): a UDP
 * channel to `target` (a local socket, or through this handler's chain), then datagrams framed
 * `LEN(2, BE) data` on the stream go to `target` and what comes back goes down the stream. The OK
 * response goes out at once (GOST holds it back until the first datagram back unless `nodelay`; the
 * bytes are the same). No target: `01`; the channel cannot be opened: `failStatus`; a UDP
 * association limit reached (beyond GOST): `05`.
 */
export async function connectUdpAndRelay(
  conn: Conn,
  target: string,
  ctx: HandlerContext,
  log: Logger,
  opts: UdpConnectOptions,
): Promise<void> {
  if (target === '') {
    log.info('relay: UDP CONNECT without a target address');
    ctx.fail?.('relay: UDP CONNECT without a target address');
    await endGracefully(conn, encodeRelayResponse(STATUS_BAD_REQUEST));
    return;
  }
  const unavailable = (): Buffer => encodeRelayResponse(STATUS_SERVICE_UNAVAILABLE);
  await asUdpAssociation(conn, ctx, log, 'relay: UDP CONNECT', unavailable, () =>
    relayUdp(conn, target, ctx, log, opts),
  );
}

async function relayUdp(
  conn: Conn,
  target: string,
  ctx: HandlerContext,
  log: Logger,
  opts: UdpConnectOptions,
): Promise<void> {
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
  const counts = await pump(tun, onlyFrom(packets, target, opts.observer), ctx, {
    udpBufferSize: MAX_DATAGRAM_BYTES,
    observer: opts.observer,
  });
  log.debug({ dst: target, up: counts.up, down: counts.down }, 'relay: UDP closed');
}

/** An IP literal in one spelling (IPv6 compressed, lower case), so two forms of an address compare equal. */
function canonicalIp(host: string): string {
  return isIP(host) === 6 ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host;
}

/**
 * GOST dials the target with a connected UDP socket, so only the target's datagrams come back;
 * this keeps that: replies from any other source are dropped ('bad_datagram'). A host name target
 * is checked by port only (the socket resolves it per datagram).
 */
function onlyFrom(packets: PacketConn, target: string, observer: UdpObserver | undefined): PacketConn {
  const want = parseHostPort(target);
  const wantHost = want !== undefined && isIP(want.host) !== 0 ? canonicalIp(want.host) : undefined;
  const accepts = (from: string): boolean => {
    const got = parseHostPort(from);
    if (want === undefined || got === undefined || got.port !== want.port) return false;
    return wantHost === undefined || canonicalIp(got.host) === wantHost;
  };
  return {
    send: (data, addr) => packets.send(data, addr),
    onMessage: (receiver) =>
      packets.onMessage((data, from) => {
        if (accepts(from)) receiver(data, from);
        else observer?.dropped('bad_datagram');
      }),
    close: () => packets.close(),
    done: packets.done,
    localAddress: () => packets.localAddress(),
  };
}
