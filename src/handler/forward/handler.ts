import type { Conn, Handler, HandlerContext, UdpObserver } from '../../core/types.js';
import { relay } from '../../common/relay.js';
import { isUdpPeerConn } from '../../common/udp/peer-sessions.js';
import { forwardUdp } from './udp.js';

export interface ForwardHandlerOptions {
  /** `host:port` targets; several are used in turn, a failing one skipped for `failTimeout`. */
  targets: readonly string[];
  /** Skip a target after it failed this many times in a row (GOST maxFails, default 1). */
  maxFails?: number | undefined;
  /** For this long (ms, default 10 s). */
  failTimeout?: number | undefined;
  lingerMs?: number | undefined;
  /** UDP drops are reported here (sessions come from `udp`/`rudp` listeners). */
  udpObserver?: UdpObserver | undefined;
}

/**
 * GOST's `tcp` (and `forward`) handler: every accepted connection is sent to a fixed target through
 * the chain (`-L tcp://:2222/127.0.0.1:22 -F http+mws://server:8443`), as a CONNECT over the tunnel.
 */
export class ForwardHandler implements Handler {
  private readonly opts: ForwardHandlerOptions;
  private next = 0;
  private readonly failures = new Map<string, { count: number; at: number }>();

  constructor(opts: ForwardHandlerOptions) {
    if (opts.targets.length === 0) throw new Error('forward handler: no target');
    this.opts = opts;
  }

  private pick(): string {
    const { targets } = this.opts;
    const maxFails = this.opts.maxFails ?? 1;
    const failTimeout = this.opts.failTimeout ?? 10_000;
    const now = Date.now();
    for (let i = 0; i < targets.length; i++) {
      const t = targets[(this.next + i) % targets.length] as string;
      const f = this.failures.get(t);
      if (targets.length === 1 || f === undefined || f.count < maxFails || now - f.at >= failTimeout) {
        this.next = (this.next + i + 1) % targets.length;
        return t;
      }
    }
    return targets[this.next++ % targets.length] as string;
  }

  async handle(conn: Conn, ctx: HandlerContext): Promise<void> {
    const target = this.pick();
    if (isUdpPeerConn(conn)) return this.handleUdp(conn, target, ctx);
    let upstream: Conn;
    try {
      upstream = await ctx.router.dial('tcp', target, { signal: ctx.signal, log: ctx.log });
    } catch (err) {
      this.markFailed(target);
      ctx.log.warn({ target, err: (err as Error).message }, 'forward: dial failed');
      ctx.fail?.('forward: dial failed');
      conn.destroy();
      return;
    }
    this.failures.delete(target);
    ctx.log.debug({ target }, 'forward: connected');
    const r = await relay(conn, upstream, { signal: ctx.signal, lingerMs: this.opts.lingerMs });
    ctx.log.debug({ target, up: r.aToB, down: r.bToA }, 'forward: closed');
  }

  private markFailed(target: string): void {
    const f = this.failures.get(target) ?? { count: 0, at: 0 };
    this.failures.set(target, { count: f.count + 1, at: Date.now() });
  }

  /** A datagram session (`udp`/`rudp` listener): GOST picks the network from the connection. */
  private async handleUdp(
    conn: Parameters<typeof forwardUdp>[0],
    target: string,
    ctx: HandlerContext,
  ): Promise<void> {
    ctx.log.debug({ target }, 'forward: udp session');
    try {
      const r = await forwardUdp(conn, target, ctx, this.opts.udpObserver);
      this.failures.delete(target);
      ctx.log.debug({ target, up: r.up, down: r.down }, 'forward: udp session closed');
    } catch (err) {
      this.markFailed(target);
      ctx.log.warn({ target, err: (err as Error).message }, 'forward: udp dial failed');
      conn.destroy();
    }
  }
}
