import { TunnelError } from '../../core/errors.js';
import type { ClientTlsOptions, Conn, DialContext, Dialer } from '../../core/types.js';
import { tlsClientConnect } from '../../common/tls-client.js';
import type { TlsDialerMetadata } from './metadata.js';

export interface TlsDialerOptions extends Partial<TlsDialerMetadata> {
  /** Verification policy, SNI and client certificate (GOST: `secure` off by default). */
  tls: ClientTlsOptions;
}

/**
 * GOST's `tls` dialer: the route's plain connection to the node (`ctx.connect`), then a TLS client
 * handshake with GOST's SNI and verification rules. One TLS connection per dial, nothing pooled.
 * Rejects with ERR_TLS (bad certificate, refused handshake), ERR_DIAL_TIMEOUT (`handshakeTimeout`)
 * or the connect error; nothing is left open on failure.
 */
export class TlsDialer implements Dialer {
  private readonly opts: TlsDialerOptions;

  constructor(opts: TlsDialerOptions) {
    this.opts = opts;
  }

  async dial(addr: string, ctx: DialContext): Promise<Conn> {
    const conn = await ctx.connect(addr, { signal: ctx.signal });
    const limit = this.opts.handshakeTimeout ?? 0;
    const timeout = limit > 0 ? AbortSignal.timeout(limit) : undefined;
    const signal =
      timeout === undefined
        ? ctx.signal
        : ctx.signal === undefined
          ? timeout
          : AbortSignal.any([ctx.signal, timeout]);
    try {
      return await tlsClientConnect(conn, { ...this.opts.tls, addr, signal });
    } catch (err) {
      if (timeout?.aborted && !ctx.signal?.aborted) {
        throw new TunnelError('ERR_DIAL_TIMEOUT', `tls: handshake with ${addr} timed out after ${limit} ms`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  async close(): Promise<void> {}
}
