import type { Conn, DialContext, Dialer } from '../../core/types.js';

/** GOST's `tcp` dialer: the route's plain connection to the node, used as is. */
export class TcpDialer implements Dialer {
  dial(addr: string, ctx: DialContext): Promise<Conn> {
    return ctx.connect(addr, { signal: ctx.signal });
  }

  async close(): Promise<void> {}
}
