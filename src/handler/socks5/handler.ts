import { isIP } from 'node:net';
import type { Authenticator, Conn, Handler, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { joinHostPort } from '../../common/addr.js';
import { readUntil, type HeadParser, type Parsed } from '../../common/buffered-reader.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { relay } from '../../common/relay.js';
import {
  encodeMethodSelection,
  encodeReply,
  encodeUserPassReply,
  parseGreeting,
  parseRequest,
  parseUserPassRequest,
} from '../../proto/socks5/codec.js';
import {
  CMD_BIND,
  CMD_CONNECT,
  CMD_UDP_ASSOCIATE,
  MAX_GREETING_BYTES,
  MAX_REQUEST_BYTES,
  MAX_USER_PASS_BYTES,
  METHOD_NO_ACCEPTABLE,
  METHOD_NO_AUTH,
  METHOD_USER_PASS,
  REP_COMMAND_NOT_SUPPORTED,
  REP_NETWORK_UNREACHABLE,
  REP_NOT_ALLOWED,
  REP_SUCCEEDED,
  USER_PASS_FAILURE,
  USER_PASS_SUCCESS,
} from '../../proto/socks5/constants.js';
import { DEFAULT_SOCKS_READ_TIMEOUT_MS } from './metadata.js';

export interface Socks5HandlerOptions {
  /** With one, method 0x02 (RFC 1929) is mandatory; without, 0x00. */
  authenticator?: Authenticator | undefined;
  /** Bound on greeting + auth + request, ms. Default 15000. */
  readTimeoutMs?: number | undefined;
  /** BIND enabled (metadata `bind`): not implemented, answered `05 07`; disabled (default): `05 02`. */
  bind?: boolean | undefined;
  /** UDP ASSOCIATE enabled (metadata `udp`): not implemented, answered `05 07`; disabled (default): `05 02`. */
  udp?: boolean | undefined;
  /** Relay half-close linger, ms. Default 10000. */
  lingerMs?: number | undefined;
}

/**
 * GOST's `socks5` handler (RFC 1928/1929) for CONNECT. Method choice: with an authenticator 0x02 if
 * offered, without one 0x00 if offered, else `05 FF` and close (GOST's TLS methods 0x80/0x82 are never
 * chosen; GOST clients also offer 0x00/0x02). Replies: success `05 00 00` + BND = the local address
 * of the outbound Conn when it is an IP, else 0.0.0.0:0; dial failure `05 03 00 01 0…0`; BIND/UDP
 * `05 02` (disabled) or `05 07`; other commands `05 07`. Each reply is its own write; bytes pipelined
 * after the request are relayed. Garbage closes the connection without a reply. Never rejects.
 */
export class Socks5Handler implements Handler {
  private readonly opts: Socks5HandlerOptions;

  constructor(opts: Socks5HandlerOptions = {}) {
    this.opts = opts;
  }

  async handle(conn: Conn, ctx: HandlerContext): Promise<void> {
    const log = ctx.log;
    const onError = (err: Error): void => {
      log.debug({ err, client: ctx.clientAddr }, 'socks5: client connection error');
    };
    conn.on('error', onError);
    const deadline = Date.now() + (this.opts.readTimeoutMs ?? DEFAULT_SOCKS_READ_TIMEOUT_MS);
    const read = <T>(parse: HeadParser<T>, maxBytes: number): Promise<Parsed<T>> =>
      readUntil(conn, parse, {
        maxBytes,
        errorCode: 'ERR_SOCKS_PROTOCOL',
        signal: ctx.signal,
        timeoutMs: Math.max(1, deadline - Date.now()),
      });
    try {
      let methods: number[];
      try {
        methods = (await read(parseGreeting, MAX_GREETING_BYTES)).value.methods;
      } catch (err) {
        log.debug({ err, client: ctx.clientAddr }, 'socks5: bad greeting');
        return;
      }
      const { authenticator } = this.opts;
      const wanted = authenticator ? METHOD_USER_PASS : METHOD_NO_AUTH;
      if (!methods.includes(wanted)) {
        log.debug({ methods }, 'socks5: no acceptable method');
        await endGracefully(conn, encodeMethodSelection(METHOD_NO_ACCEPTABLE));
        return;
      }
      await writeAsync(conn, encodeMethodSelection(wanted));

      if (authenticator) {
        let creds: { username: string; password: string };
        try {
          creds = (await read(parseUserPassRequest, MAX_USER_PASS_BYTES)).value;
        } catch (err) {
          log.debug({ err }, 'socks5: bad username/password request');
          return;
        }
        if (!authenticator.authenticate(creds.username, creds.password)) {
          log.debug({ user: creds.username }, 'socks5: authentication failed');
          await endGracefully(conn, encodeUserPassReply(USER_PASS_FAILURE));
          return;
        }
        await writeAsync(conn, encodeUserPassReply(USER_PASS_SUCCESS));
      }

      let req: { cmd: number; addr: { host: string; port: number } };
      try {
        req = (await read(parseRequest, MAX_REQUEST_BYTES)).value;
      } catch (err) {
        log.debug({ err }, 'socks5: bad request');
        return;
      }
      const target = joinHostPort(req.addr.host, req.addr.port);
      switch (req.cmd) {
        case CMD_CONNECT:
          await this.connect(conn, target, ctx, log);
          return;
        case CMD_BIND:
          log.debug({ target }, 'socks5: BIND refused');
          await endGracefully(
            conn,
            encodeReply(this.opts.bind ? REP_COMMAND_NOT_SUPPORTED : REP_NOT_ALLOWED),
          );
          return;
        case CMD_UDP_ASSOCIATE:
          log.debug({ target }, 'socks5: UDP ASSOCIATE refused');
          await endGracefully(conn, encodeReply(this.opts.udp ? REP_COMMAND_NOT_SUPPORTED : REP_NOT_ALLOWED));
          return;
        default:
          log.debug({ cmd: req.cmd }, 'socks5: unsupported command');
          await endGracefully(conn, encodeReply(REP_COMMAND_NOT_SUPPORTED));
          return;
      }
    } catch (err) {
      log.debug({ err: toError(err), client: ctx.clientAddr }, 'socks5: handler failed');
    } finally {
      if (!conn.destroyed) conn.destroy();
    }
  }

  private async connect(conn: Conn, target: string, ctx: HandlerContext, log: Logger): Promise<void> {
    log.debug({ dst: target }, 'socks5: CONNECT');
    let upstream: Conn;
    try {
      upstream = await ctx.router.dial('tcp', target, { signal: ctx.signal, log });
    } catch (err) {
      log.info({ err: toError(err), dst: target }, 'socks5: dial failed');
      await endGracefully(conn, encodeReply(REP_NETWORK_UNREACHABLE));
      return;
    }
    upstream.on('error', (err: Error) => log.debug({ err, dst: target }, 'socks5: upstream error'));
    const bindHost = upstream.localAddress && isIP(upstream.localAddress) ? upstream.localAddress : '0.0.0.0';
    const bindPort = bindHost === '0.0.0.0' ? 0 : (upstream.localPort ?? 0);
    try {
      await writeAsync(conn, encodeReply(REP_SUCCEEDED, bindHost, bindPort));
    } catch (err) {
      log.debug({ err: toError(err) }, 'socks5: client went away before the reply');
      upstream.destroy();
      return;
    }
    const res = await relay(conn, upstream, { signal: ctx.signal, lingerMs: this.opts.lingerMs });
    log.debug({ dst: target, up: res.aToB, down: res.bToA, err: res.error }, 'socks5: tunnel closed');
  }
}
