import type { Conn, Handler, HandlerContext } from '../../core/types.js';
import { peek } from '../../common/buffered-reader.js';
import { DEFAULT_AUTO_READ_TIMEOUT_MS } from './metadata.js';

export interface AutoHandlerOptions {
  /**
   * The protocol handlers to dispatch to, normally built from the same options/metadata and the
   * same authenticator (plugins do not import each other; the registry wires them).
   */
  handlers: {
    http: Handler;
    socks4: Handler;
    socks5: Handler;
  };
  /** Bound on waiting for the first byte, ms. Default 15000. */
  readTimeoutMs?: number | undefined;
}

/**
 * GOST's `auto` handler: peeks the first byte (it stays in the stream) and hands the Conn to the
 * socks4 handler for 0x04, socks5 for 0x05, http for anything else. GOST's TLS/SNI branch (0x16) is
 * not implemented: such bytes go to the http handler, which closes on them. Closes the Conn when no
 * byte arrives in time. Never rejects.
 */
export class AutoHandler implements Handler {
  private readonly opts: AutoHandlerOptions;

  constructor(opts: AutoHandlerOptions) {
    this.opts = opts;
  }

  async handle(conn: Conn, ctx: HandlerContext): Promise<void> {
    const onError = (err: Error): void => {
      ctx.log.debug({ err, client: ctx.clientAddr }, 'auto: client connection error');
    };
    conn.on('error', onError);
    let first: number;
    try {
      const b = await peek(conn, 1, {
        signal: ctx.signal,
        timeoutMs: this.opts.readTimeoutMs ?? DEFAULT_AUTO_READ_TIMEOUT_MS,
      });
      first = b[0] ?? 0;
    } catch (err) {
      ctx.log.debug({ err, client: ctx.clientAddr }, 'auto: no data');
      ctx.fail?.('auto: no data');
      conn.destroy();
      return;
    } finally {
      conn.off('error', onError);
    }
    const { handlers } = this.opts;
    const target = first === 0x04 ? handlers.socks4 : first === 0x05 ? handlers.socks5 : handlers.http;
    try {
      await target.handle(conn, ctx);
    } catch (err) {
      ctx.log.warn({ err, client: ctx.clientAddr }, 'auto: handler failed');
      ctx.fail?.('auto: handler failed');
    } finally {
      if (!conn.destroyed) conn.destroy();
    }
  }
}
