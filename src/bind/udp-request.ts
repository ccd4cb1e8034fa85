import type { Conn, HandlerContext, PacketConn, UdpObserver } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { writeAsync } from '../common/conn-io.js';
import { joinHostPort, parseHostPort, splitHostPort } from '../common/addr.js';
import { SocketPacketConn } from '../common/udp/socket-packet-conn.js';
import { UdpTunPacketConn } from '../common/udp/tun-packet-conn.js';
import { pump } from '../common/udp/pump.js';
import { asUdpAssociation } from '../common/udp/association-limits.js';
import { checkBindAllowed, type BindRule } from './policy.js';
import { bindRefuser } from './request.js';
import { describeListenError } from './server.js';

/** What a UDP BIND needs from the protocol that carries it (SOCKS5 UDP-TUN, relay BIND|UDP). */
export interface UdpBindProtocol {
  /** Log and failure prefix: `socks5: UDP-TUN`, `relay: UDP BIND`. */
  name: string;
  /** Reply when bind is off or the address is outside `bind.allow`. */
  forbidden: () => Buffer;
  /** Reply when the UDP port cannot be bound (port in use, privileged) or a UDP limit is reached. */
  listenFailed: () => Buffer;
  /** Reply naming the bound address. */
  ok: (host: string, port: number) => Buffer;
}

export interface UdpBindPolicy {
  enabled: boolean;
  rules: readonly BindRule[];
  /** The host the reply reports instead of the socket's own. */
  publicAddr?: string | undefined;
  /** Largest datagram relayed either way, bytes; larger ones are dropped ('too_large'). */
  udpBufferSize: number;
  /** Counts the bind as a UDP session and every dropped datagram. */
  observer?: UdpObserver | undefined;
}

/**
 * Serves one UDP BIND (GOST's rudp server side and its UDP association): checks `bind` and
 * `bind.allow`, binds a UDP socket strictly at `address`, replies with the bound address (or
 * `publicAddr`), then relays datagrams in GOST's UDP-TUN framing on this stream: every datagram a
 * peer sends to the socket comes down the stream naming the peer, and every datagram the client
 * sends up goes out of the socket to the address it names. Each refusal is a reply, a log line
 * naming the cause and a handler failure. `:port` binds every interface (IPv4 and IPv6). Each
 * bind counts as a UDP association (common/udp/association-limits.ts).
 */
export async function serveUdpBindRequest(
  conn: Conn,
  address: string,
  ctx: HandlerContext,
  blog: Logger,
  policy: UdpBindPolicy,
  proto: UdpBindProtocol,
): Promise<void> {
  const refuse = bindRefuser(conn, ctx, blog, proto.name);
  if (!policy.enabled) return refuse('is disabled (set bind=true to allow it)', proto.forbidden());
  const { host, port } = splitHostPort(address);
  const refused = checkBindAllowed(policy.rules, host, port);
  if (refused !== undefined) return refuse('refused', proto.forbidden(), { reason: refused });
  return asUdpAssociation(conn, ctx, blog, proto.name, proto.listenFailed, () =>
    bindAndRelay(conn, host, port, ctx, blog, policy, proto),
  );
}

async function bindAndRelay(
  conn: Conn,
  host: string,
  port: number,
  ctx: HandlerContext,
  blog: Logger,
  policy: UdpBindPolicy,
  proto: UdpBindProtocol,
): Promise<void> {
  const address = joinHostPort(host, port);
  const refuse = bindRefuser(conn, ctx, blog, proto.name);
  let packets: PacketConn;
  try {
    packets = await SocketPacketConn.bind(address);
  } catch (err) {
    const reason = describeListenError(err as Error, address);
    return refuse('failed', proto.listenFailed(), { reason });
  }
  const bound = parseHostPort(packets.localAddress() ?? '') ?? { host: '0.0.0.0', port: 0 };
  const replyHost = policy.publicAddr || bound.host;
  try {
    await writeAsync(conn, proto.ok(replyHost, bound.port));
  } catch {
    packets.close();
    return;
  }
  blog.info({ port: bound.port, reply: joinHostPort(replyHost, bound.port) }, `${proto.name} OK`);
  policy.observer?.sessionOpened();
  try {
    const tun = new UdpTunPacketConn(conn, blog);
    const counts = await pump(tun, packets, ctx, policy);
    blog.info({ port: bound.port, up: counts.up, down: counts.down }, `${proto.name} closed, port released`);
  } finally {
    policy.observer?.sessionClosed();
  }
}
