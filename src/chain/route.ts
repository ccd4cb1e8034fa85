import type { AbortOptions, BoundTunnel, Conn, PacketConn, TunnelBacklog } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { TunnelError } from '../core/errors.js';
import { tcpConnect } from '../common/tcp-connect.js';
import type { ChainNode } from './node.js';

export interface RouteOptions extends AbortOptions {
  log: Logger;
  /** For bindRoute: passed to the connector's bind (see ConnectContext). */
  backlog?: TunnelBacklog | undefined;
}

/**
 * Opens `network` to `target` through `nodes` (one per hop, already selected), like GOST's
 * route.connect(): node 0 is dialed over TCP; each later node is reached through the connector of
 * the one before it; the last node's connector asks for the target.
 *
 * A node that cannot be dialed or handshaken, or that the previous node cannot reach, is marked
 * failed; a node that worked is marked healthy. On failure everything opened so far is destroyed.
 */
export async function dialRoute(
  nodes: readonly ChainNode[],
  network: 'tcp' | 'udp',
  target: string,
  opts: RouteOptions,
): Promise<Conn> {
  if (nodes.length === 0) return tcpConnect(target, opts);
  return through(nodes, nodes.length - 1, network, target, opts);
}

/**
 * Asks the LAST node of `nodes` to listen on `address` for us (GOST's chainRoute.Bind): the earlier
 * nodes are passed through as for a dial, then the last node's connector binds. Rejects with
 * ERR_BIND when that connector cannot bind (http, socks4).
 */
export async function bindRoute(
  nodes: readonly ChainNode[],
  network: 'tcp' | 'udp',
  address: string,
  opts: RouteOptions,
): Promise<BoundTunnel> {
  const last = nodes[nodes.length - 1];
  if (last === undefined)
    throw new TunnelError('ERR_BIND', `bind ${address}: a reverse tunnel needs a chain (-F)`);
  const { connector } = last;
  if (connector.bind === undefined)
    throw new TunnelError(
      'ERR_BIND',
      `bind ${address}: node ${last.name}'s connector cannot bind (use socks5 or relay)`,
    );
  const conn = await dialNode(nodes, nodes.length - 1, opts);
  return connector.bind(conn, network, address, {
    signal: opts.signal,
    log: opts.log,
    backlog: opts.backlog,
  });
}

/** A connection from node `i`'s connector to `target`. */
async function through(
  nodes: readonly ChainNode[],
  i: number,
  network: 'tcp' | 'udp',
  target: string,
  opts: RouteOptions,
): Promise<Conn> {
  const node = nodes[i] as ChainNode;
  const conn = await dialNode(nodes, i, opts);
  return node.connector.connect(conn, network, target, { signal: opts.signal, log: opts.log });
}

/** A connection to node `i` through its dialer (and the nodes before it). */
async function dialNode(nodes: readonly ChainNode[], i: number, opts: RouteOptions): Promise<Conn> {
  const node = nodes[i] as ChainNode;
  let conn: Conn;
  try {
    conn = await node.dialer.dial(node.addr, {
      signal: opts.signal,
      log: opts.log,
      connect: (addr, o) =>
        i === 0 ? tcpConnect(addr, o) : through(nodes, i - 1, 'tcp', addr, { ...opts, ...o }),
    });
  } catch (err) {
    node.markFailed();
    throw err instanceof TunnelError
      ? err
      : new TunnelError('ERR_DIAL', `dial ${node.addr}: ${(err as Error).message}`, { cause: err });
  }
  node.markHealthy();
  return conn;
}

/**
 * A UDP channel through `nodes`: the earlier hops are crossed over TCP as usual, and the last
 * node's connector opens the UDP tunnel (SOCKS5 UDP-TUN, or relay UDP to `target`).
 */
export async function dialUdpRoute(
  nodes: readonly ChainNode[],
  opts: RouteOptions,
  target?: string,
): Promise<PacketConn> {
  const last = nodes.length - 1;
  const node = nodes[last] as ChainNode;
  if (node.connector.connectUdp === undefined)
    throw new TunnelError(
      'ERR_DIAL',
      `node ${node.name}: its connector cannot carry UDP (use socks5 or relay)`,
    );
  const conn = await dialNode(nodes, last, opts);
  return node.connector.connectUdp(conn, { signal: opts.signal, log: opts.log }, target);
}

/** Has the last of `nodes` receive UDP on `addr` for us (rudp). */
export async function bindUdpRoute(
  nodes: readonly ChainNode[],
  addr: string,
  opts: RouteOptions,
): Promise<{ bound: string; packets: PacketConn }> {
  const last = nodes.length - 1;
  const node = nodes[last] as ChainNode;
  if (node.connector.bindUdp === undefined)
    throw new TunnelError(
      'ERR_DIAL',
      `node ${node.name}: its connector cannot bind UDP (use socks5 or relay)`,
    );
  const conn = await dialNode(nodes, last, opts);
  return node.connector.bindUdp(conn, addr, { signal: opts.signal, log: opts.log });
}
