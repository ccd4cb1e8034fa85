import type { Authenticator, Conn, Handler, HandlerContext, ServerTlsOptions } from '../../core/types.js';
import { toError } from '../../core/errors.js';
import { joinHostPort } from '../../common/addr.js';
import { readUntil, type HeadParser, type Parsed } from '../../common/buffered-reader.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import type { BindRule } from '../../bind/policy.js';
import { DEFAULT_BIND_RULES } from '../../bind/policy.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
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
  CMD_GOST_MUX_BIND,
  CMD_GOST_UDP_TUN,
  CMD_UDP_ASSOCIATE,
  MAX_GREETING_BYTES,
  MAX_REQUEST_BYTES,
  MAX_USER_PASS_BYTES,
  METHOD_NO_ACCEPTABLE,
  METHOD_TLS_AUTH,
  METHOD_USER_PASS,
  REP_COMMAND_NOT_SUPPORTED,
  REP_NOT_ALLOWED,
  USER_PASS_FAILURE,
  USER_PASS_SUCCESS,
} from '../../proto/socks5/constants.js';
import { DEFAULT_SOCKS_READ_TIMEOUT_MS } from './metadata.js';
import { isTlsMethod, selectMethod, startServerTls } from './tls-method.js';
import { handleConnect } from './connect.js';
import { handleMuxBind } from './mbind.js';
import type { UdpObserver } from '../../core/types.js';
import { DEFAULT_UDP_BUFFER_SIZE } from '../../common/udp/pump.js';
import { serveUdpTun } from './udp-tun.js';
import { serveUdpAssociate } from './udp-associate.js';

export interface Socks5HandlerOptions {
  /** With one, method 0x02 (or 0x82 inside TLS) is mandatory; without, 0x00 (or 0x80). */
  authenticator?: Authenticator | undefined;
  /** Bound on greeting + auth + request, ms. Default 15000. */
  readTimeoutMs?: number | undefined;
  /** `notls`: never choose GOST's TLS methods 0x80/0x82. */
  noTLS?: boolean | undefined;
  /** The service's certificate for methods 0x80/0x82, loaded on first use. Without it they are never chosen. */
  serverTls?: (() => Promise<ServerTlsOptions>) | undefined;
  /** `bind`: MUX BIND (0xF2) allowed; off by default, as GOST (`05 02`). Classic BIND (0x02) is not served. */
  bind?: boolean | undefined;
  /** `bind.allow`: addresses a client may bind (default: any port ≥ 1024, or 0). */
  bindRules?: readonly BindRule[] | undefined;
  /** `publicAddr`: the host a bind reply reports. */
  publicAddr?: string | undefined;
  /** `comp`: no peer reply on inner bind streams (GOST v2 clients). */
  compat?: boolean | undefined;
  /** `mux.*`: the inner smux session of a bind. */
  mux?: Partial<SmuxConfig> | undefined;
  /** UDP ASSOCIATE and UDP-TUN relay enabled (metadata `udp`); disabled (default): `05 02`. */
  udp?: boolean | undefined;
  /** Largest datagram relayed (metadata `udp.bufferSize`), bytes. Default 4096. */
  udpBufferSize?: number | undefined;
  /** Where UDP drops are counted. */
  udpObserver?: UdpObserver | undefined;
  /** Relay half-close linger, ms. Default 10000. */
  lingerMs?: number | undefined;
}

/**
 * GOST's `socks5` handler (RFC 1928/1929 plus GOST's extensions). Method choice as GOST's
 * (tls-method.ts): TLS 0x80/0x82 when offered unless `notls`, else 0x00/0x02; a plain method not
 * offered gets `05 FF`. Commands live in their own modules: CONNECT (connect.ts), MUX BIND 0xF2
 * (mbind.ts). Classic BIND and UDP ASSOCIATE are refused `05 02` (disabled) or `05 07`; other
 * commands `05 07`. Garbage closes the connection without a reply. Never rejects.
 */
export class Socks5Handler implements Handler {
  private readonly opts: Socks5HandlerOptions;

  constructor(opts: Socks5HandlerOptions = {}) {
    this.opts = opts;
  }

  async handle(accepted: Conn, ctx: HandlerContext): Promise<void> {
    const log = ctx.log;
    const onError = (err: Error): void => {
      log.debug({ err, client: ctx.clientAddr }, 'socks5: client connection error');
    };
    accepted.on('error', onError);
    let conn = accepted;
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
        ctx.fail?.('socks5: bad greeting');
        return;
      }
      const { authenticator } = this.opts;
      const method = selectMethod(methods, {
        auth: authenticator !== undefined,
        tls: !this.opts.noTLS && this.opts.serverTls !== undefined,
      });
      if (method === undefined) {
        log.debug({ methods }, 'socks5: no acceptable method');
        ctx.fail?.('socks5: no acceptable method');
        await endGracefully(conn, encodeMethodSelection(METHOD_NO_ACCEPTABLE));
        return;
      }
      await writeAsync(conn, encodeMethodSelection(method));
      if (isTlsMethod(method) && this.opts.serverTls !== undefined) {
        const material = await this.opts.serverTls();
        conn = await startServerTls(conn, material, ctx.signal, Math.max(1, deadline - Date.now()));
        conn.on('error', onError);
      }

      if (authenticator && (method === METHOD_USER_PASS || method === METHOD_TLS_AUTH)) {
        let creds: { username: string; password: string };
        try {
          creds = (await read(parseUserPassRequest, MAX_USER_PASS_BYTES)).value;
        } catch (err) {
          log.debug({ err }, 'socks5: bad username/password request');
          ctx.fail?.('socks5: bad username/password request');
          return;
        }
        if (!authenticator.authenticate(creds.username, creds.password)) {
          log.info({ user: creds.username }, 'socks5: authentication failed');
          ctx.fail?.('socks5: authentication failed');
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
        ctx.fail?.('socks5: bad request');
        return;
      }
      const target = joinHostPort(req.addr.host, req.addr.port);
      switch (req.cmd) {
        case CMD_CONNECT:
          await handleConnect(conn, target, ctx, log, this.opts.lingerMs);
          return;
        case CMD_GOST_MUX_BIND:
          await handleMuxBind(conn, target, ctx, log, {
            enabled: this.opts.bind ?? false,
            rules: this.opts.bindRules ?? DEFAULT_BIND_RULES,
            publicAddr: this.opts.publicAddr,
            compat: this.opts.compat ?? false,
            mux: this.opts.mux ?? {},
            lingerMs: this.opts.lingerMs,
          });
          return;
        case CMD_BIND:
          log.info({ target }, 'socks5: classic BIND refused (only GOST MUX BIND 0xF2 is served)');
          ctx.fail?.('socks5: classic BIND refused');
          await endGracefully(
            conn,
            encodeReply(this.opts.bind ? REP_COMMAND_NOT_SUPPORTED : REP_NOT_ALLOWED),
          );
          return;
        case CMD_UDP_ASSOCIATE:
          await serveUdpAssociate(conn, ctx, this.udpOptions(), log);
          return;
        case CMD_GOST_UDP_TUN:
          await serveUdpTun(conn, req.addr, ctx, this.udpOptions(), log);
          return;
        default:
          log.debug({ cmd: req.cmd }, 'socks5: unsupported command');
          ctx.fail?.('socks5: unsupported command');
          await endGracefully(conn, encodeReply(REP_COMMAND_NOT_SUPPORTED));
          return;
      }
    } catch (err) {
      log.debug({ err: toError(err), client: ctx.clientAddr }, 'socks5: handler failed');
      ctx.fail?.('socks5: handler failed');
    } finally {
      if (!conn.destroyed) conn.destroy();
      if (!accepted.destroyed) accepted.destroy();
    }
  }

  private udpOptions(): Parameters<typeof serveUdpTun>[3] {
    return {
      udp: this.opts.udp ?? false,
      bind: this.opts.bind ?? false,
      udpBufferSize: this.opts.udpBufferSize ?? DEFAULT_UDP_BUFFER_SIZE,
      observer: this.opts.udpObserver,
      bindRules: this.opts.bindRules,
    };
  }
}
