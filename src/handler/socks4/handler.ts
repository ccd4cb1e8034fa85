import type { Authenticator, Conn, Handler, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { joinHostPort } from '../../common/addr.js';
import { readUntil } from '../../common/buffered-reader.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { relay } from '../../common/relay.js';
import {
  SOCKS4_CMD_CONNECT,
  SOCKS4_FAILED,
  SOCKS4_GRANTED,
  SOCKS4_MAX_REQUEST_BYTES,
  SOCKS4_REJECTED_USERID,
  encodeSocks4Reply,
  parseSocks4Request,
  type Socks4Request,
} from '../../proto/socks4/codec.js';
import { DEFAULT_SOCKS4_READ_TIMEOUT_MS } from './metadata.js';

export interface Socks4HandlerOptions {
  /** Checks the USERID with an empty password (GOST); failure → 0x5D. */
  authenticator?: Authenticator | undefined;
  /** Bound on reading the request, ms. Default 15000. */
  readTimeoutMs?: number | undefined;
  /** Relay half-close linger, ms. Default 10000. */
  lingerMs?: number | undefined;
}

/**
 * GOST's `socks4`/`socks4a` handler. CONNECT only: `00 5A` + zeros on success, `00 5B` when the dial
 * fails, `00 5D` when the authenticator rejects the USERID. BIND and unknown commands close the
 * connection without a reply, as GOST does. Each reply is its own write; bytes pipelined after the
 * request are relayed. Never rejects.
 */
export class Socks4Handler implements Handler {
  private readonly opts: Socks4HandlerOptions;

  constructor(opts: Socks4HandlerOptions = {}) {
    this.opts = opts;
  }

  async handle(conn: Conn, ctx: HandlerContext): Promise<void> {
    const log = ctx.log;
    const onError = (err: Error): void => {
      log.debug({ err, client: ctx.clientAddr }, 'socks4: client connection error');
    };
    conn.on('error', onError);
    try {
      let req: Socks4Request;
      try {
        req = (
          await readUntil(conn, parseSocks4Request, {
            maxBytes: SOCKS4_MAX_REQUEST_BYTES,
            errorCode: 'ERR_SOCKS_PROTOCOL',
            signal: ctx.signal,
            timeoutMs: this.opts.readTimeoutMs ?? DEFAULT_SOCKS4_READ_TIMEOUT_MS,
          })
        ).value;
      } catch (err) {
        log.debug({ err, client: ctx.clientAddr }, 'socks4: bad request');
        ctx.fail?.('socks4: bad request');
        return;
      }
      const { authenticator } = this.opts;
      if (authenticator && !authenticator.authenticate(req.userId, '')) {
        log.debug({ user: req.userId }, 'socks4: user id rejected');
        ctx.fail?.('socks4: user id rejected');
        await endGracefully(conn, encodeSocks4Reply(SOCKS4_REJECTED_USERID));
        return;
      }
      if (req.cmd !== SOCKS4_CMD_CONNECT) {
        log.debug({ cmd: req.cmd }, 'socks4: unsupported command');
        ctx.fail?.('socks4: unsupported command');
        return;
      }
      await this.connect(conn, joinHostPort(req.host, req.port), ctx, log);
    } catch (err) {
      log.debug({ err: toError(err), client: ctx.clientAddr }, 'socks4: handler failed');
      ctx.fail?.('socks4: handler failed');
    } finally {
      if (!conn.destroyed) conn.destroy();
    }
  }

  private async connect(conn: Conn, target: string, ctx: HandlerContext, log: Logger): Promise<void> {
    log.debug({ dst: target }, 'socks4: CONNECT');
    let upstream: Conn;
    try {
      upstream = await ctx.router.dial('tcp', target, { signal: ctx.signal, log });
    } catch (err) {
      log.info({ err: toError(err), dst: target }, 'socks4: dial failed');
      ctx.fail?.('socks4: dial failed');
      await endGracefully(conn, encodeSocks4Reply(SOCKS4_FAILED));
      return;
    }
    upstream.on('error', (err: Error) => log.debug({ err, dst: target }, 'socks4: upstream error'));
    try {
      await writeAsync(conn, encodeSocks4Reply(SOCKS4_GRANTED));
    } catch (err) {
      log.debug({ err: toError(err) }, 'socks4: client went away before the reply');
      ctx.fail?.('socks4: client went away before the reply');
      upstream.destroy();
      return;
    }
    const res = await relay(conn, upstream, { signal: ctx.signal, lingerMs: this.opts.lingerMs });
    log.debug({ dst: target, up: res.aToB, down: res.bToA, err: res.error }, 'socks4: tunnel closed');
  }
}
