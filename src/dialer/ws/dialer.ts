import type { Duplex } from 'node:stream';
import type { ClientTlsOptions, Conn, DialContext, Dialer } from '../../core/types.js';
import { tlsClientConnect } from '../../common/tls-client.js';
import { websocketConnect } from '../../transport/websocket/client.js';
import type { WsDialerMetadata } from './metadata.js';

export interface WsDialerOptions extends WsDialerMetadata {
  /** Set for `wss`: TLS under the WebSocket. */
  tls?: ClientTlsOptions | undefined;
}

/**
 * GOST's NON-multiplexed `ws`/`wss` dialer: every dial is its own connection, `ctx.connect` → TLS
 * (wss) → WebSocket upgrade, and the WebSocket byte stream is the Conn (each write one binary
 * message, as GOST's `internal/util/ws`). Nothing is pooled, so `close()` has nothing to do; the
 * caller owns and ends each Conn. Rejects with ERR_TLS, ERR_WS_HANDSHAKE, ERR_DIAL_TIMEOUT
 * (`handshakeTimeout`) or ERR_ABORTED; nothing is left open on failure.
 */
export class WsDialer implements Dialer {
  private readonly opts: WsDialerOptions;

  constructor(opts: WsDialerOptions) {
    this.opts = opts;
  }

  async dial(addr: string, ctx: DialContext): Promise<Conn> {
    const signal = ctx.signal;
    let carrier: Duplex = await ctx.connect(addr, { signal });
    if (this.opts.tls !== undefined) {
      carrier = await tlsClientConnect(carrier, {
        ...this.opts.tls,
        addr,
        hostSetting: this.opts.host,
        signal,
      });
    }
    return websocketConnect(carrier, {
      ...this.opts.ws,
      host: this.opts.host ?? addr,
      pingInterval: this.opts.pingInterval,
      signal,
      log: ctx.log,
    });
  }

  async close(): Promise<void> {}
}
