import type {
  AbortOptions,
  Binder,
  BoundTunnel,
  Conn,
  PacketConn,
  Router,
  TunnelBacklog,
} from '../core/types.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { TunnelError, hasCode } from '../core/errors.js';
import type { Hop } from './hop.js';
import type { ChainNode } from './node.js';
import { bindRoute, bindUdpRoute, dialRoute, dialUdpRoute } from './route.js';
import { SocketPacketConn } from '../common/udp/socket-packet-conn.js';

export interface ChainRouterOptions {
  /** The chain's hops; none means direct connections. */
  hops: readonly Hop[];
  /** Extra attempts after a failed one (GOST handler `retries`, default 0). */
  retries?: number | undefined;
  /** Bound on one attempt (ms); GOST's router uses 15 s. */
  timeout?: number | undefined;
  log?: Logger | undefined;
}

/**
 * Dials targets through a chain (or directly). Each attempt selects a node per hop and is bounded by
 * `timeout`. Beyond GOST: when an attempt fails because a pooled session died under it (the server
 * restarted, say), one more attempt is made at once on a fresh session, so the user's connection does
 * not pay for the stale one.
 */
export class ChainRouter implements Router, Binder {
  private readonly hops: readonly Hop[];
  private readonly retries: number;
  private readonly timeout: number;
  private readonly log: Logger;

  constructor(opts: ChainRouterOptions) {
    this.hops = opts.hops;
    this.retries = Math.max(0, opts.retries ?? 0);
    this.timeout = opts.timeout ?? 15_000;
    this.log = opts.log ?? silentLogger;
  }

  dial(network: 'tcp' | 'udp', target: string, opts: AbortOptions & { log?: Logger } = {}): Promise<Conn> {
    return this.attempt(target, opts, (nodes, o) => dialRoute(nodes, network, target, o));
  }

  /** A UDP channel: a UDP-TUN stream through the chain, or a local UDP socket without one. */
  dialUdp(opts: AbortOptions & { log?: Logger; target?: string } = {}): Promise<PacketConn> {
    if (this.hops.length === 0) return SocketPacketConn.bind(':0');
    return this.attempt('udp', opts, (nodes, o) => dialUdpRoute(nodes, o, opts.target));
  }

  /**
   * The chain's last node receives UDP on `addr` for us (rudp); without a chain, a local socket.
   * One attempt, bounded by `timeout`; the rudp listener retries with its own backoff.
   */
  async bindUdp(
    addr: string,
    opts: AbortOptions & { log?: Logger } = {},
  ): Promise<{ bound: string; packets: PacketConn }> {
    if (this.hops.length === 0) {
      const packets = await SocketPacketConn.bind(addr);
      return { bound: packets.localAddress() ?? addr, packets };
    }
    const deadline = attemptSignal(opts.signal, this.timeout);
    try {
      return await bindUdpRoute(this.selectNodes(addr), addr, {
        signal: deadline.signal,
        log: opts.log ?? this.log,
      });
    } catch (err) {
      if (deadline.timedOut())
        throw new TunnelError('ERR_DIAL_TIMEOUT', `bind ${addr}: timed out after ${this.timeout} ms`, {
          cause: err,
        });
      throw err;
    } finally {
      deadline.done();
    }
  }

  /** Runs `once` over freshly selected nodes, with the timeout, retries and stale-session retry. */
  private async attempt<T>(
    target: string,
    opts: AbortOptions & { log?: Logger },
    once: (nodes: ChainNode[], o: { signal: AbortSignal; log: Logger }) => Promise<T>,
  ): Promise<T> {
    const log = opts.log ?? this.log;
    let lastErr: unknown;
    let staleRetryUsed = false;
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      const nodes = this.selectNodes(target);
      const deadline = attemptSignal(opts.signal, this.timeout);
      try {
        return await once(nodes, { signal: deadline.signal, log });
      } catch (err) {
        lastErr = deadline.timedOut()
          ? new TunnelError('ERR_DIAL_TIMEOUT', `dial ${target}: timed out after ${this.timeout} ms`, {
              cause: err,
            })
          : err;
        if (opts.signal?.aborted) break;
        log.debug({ target, attempt, err: (err as Error).message }, 'route: attempt failed');
        if (!staleRetryUsed && isStaleSession(err)) {
          staleRetryUsed = true;
          attempt -= 1;
        }
      } finally {
        deadline.done();
      }
    }
    if (lastErr instanceof TunnelError && lastErr.code !== 'ERR_ABORTED') throw lastErr;
    if (opts.signal?.aborted)
      throw new TunnelError('ERR_ABORTED', `dial ${target}: aborted`, { cause: lastErr });
    throw lastErr instanceof Error ? lastErr : new TunnelError('ERR_DIAL', `dial ${target} failed`);
  }

  /**
   * Asks the chain's last node to listen on `address` for us (the rtcp listener). One attempt,
   * bounded by `timeout` until the bind reply; the caller retries with its own backoff.
   */
  async bind(
    network: 'tcp' | 'udp',
    address: string,
    opts: AbortOptions & { log?: Logger; backlog?: TunnelBacklog | undefined } = {},
  ): Promise<BoundTunnel> {
    const log = opts.log ?? this.log;
    const deadline = attemptSignal(opts.signal, this.timeout);
    try {
      return await bindRoute(this.selectNodes(address), network, address, {
        signal: deadline.signal,
        log,
        backlog: opts.backlog,
      });
    } catch (err) {
      if (deadline.timedOut())
        throw new TunnelError('ERR_DIAL_TIMEOUT', `bind ${address}: timed out after ${this.timeout} ms`, {
          cause: err,
        });
      throw err;
    } finally {
      deadline.done();
    }
  }

  private selectNodes(target: string): ChainNode[] {
    return this.hops.map((hop) => {
      const node = hop.select(target);
      if (node === undefined) throw new TunnelError('ERR_NO_NODE', `hop ${hop.name}: no available node`);
      return node;
    });
  }

  async close(): Promise<void> {
    const dialers = new Set(this.hops.flatMap((h) => h.nodes.map((n) => n.dialer)));
    await Promise.allSettled([...dialers].map((d) => d.close()));
  }
}

/**
 * The signal of one dial attempt: aborted by the caller's signal or after `ms`. Cheaper than
 * AbortSignal.any + AbortSignal.timeout on this per-connection path, and released (`done`) as soon
 * as the attempt settles instead of holding a timer for the whole timeout.
 */
function attemptSignal(
  parent: AbortSignal | undefined,
  ms: number,
): { signal: AbortSignal; timedOut(): boolean; done(): void } {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new TunnelError('ERR_DIAL_TIMEOUT', `timed out after ${ms} ms`));
  }, ms);
  const onAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) onAbort();
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => expired,
    done: () => {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onAbort);
    },
  };
}

function isStaleSession(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e instanceof Error && depth < 5; depth++) {
    if (hasCode(e, 'ERR_SMUX_SESSION_CLOSED') || hasCode(e, 'ERR_SMUX_STREAM_CLOSED')) return true;
    e = e.cause;
  }
  return false;
}
