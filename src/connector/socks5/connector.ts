import { parseHostPort } from '../../common/addr.js';
import { ReadHeadError, readUntil, type HeadParser, type Parsed } from '../../common/buffered-reader.js';
import { ProtocolError, TunnelError } from '../../core/errors.js';
import type { AuthInfo, Conn, ConnectContext, Connector } from '../../core/types.js';
import { connectorHandshake } from '../../common/connector-handshake.js';
import {
  encodeGreeting,
  encodeRequest,
  encodeUserPassRequest,
  parseMethodSelection,
  parseReply,
  parseUserPassReply,
} from '../../proto/socks5/codec.js';
import {
  CMD_CONNECT,
  MAX_REQUEST_BYTES,
  METHOD_NO_ACCEPTABLE,
  METHOD_NO_AUTH,
  METHOD_USER_PASS,
  REP_SUCCEEDED,
  USER_PASS_SUCCESS,
  replyText,
} from '../../proto/socks5/constants.js';

export interface Socks5ConnectorOptions {
  /** Username/password (RFC 1929). With it the greeting is `05 02 00 02`, else `05 01 00`. */
  auth?: AuthInfo | undefined;
  /** Bound on the whole handshake, ms (metadata `timeout`). Default none. */
  timeoutMs?: number | undefined;
}

/**
 * GOST's `socks5` connector with `notls=true` semantics (GOST's TLS methods 0x80/0x82 are not
 * offered). Host names are sent as ATYP 3, never resolved locally. Each step waits for the server's
 * answer before the next write, so nothing is coalesced. Resolves with `conn` positioned after the
 * reply; on failure destroys `conn` and rejects (ERR_SOCKS_AUTH, ERR_SOCKS_REPLY, ERR_SOCKS_PROTOCOL,
 * ERR_DIAL_TIMEOUT, ERR_ABORTED).
 */
export class Socks5Connector implements Connector {
  private readonly opts: Socks5ConnectorOptions;

  constructor(opts: Socks5ConnectorOptions = {}) {
    this.opts = opts;
  }

  connect(conn: Conn, network: 'tcp' | 'udp', target: string, ctx: ConnectContext): Promise<Conn> {
    const deadline =
      this.opts.timeoutMs !== undefined && this.opts.timeoutMs > 0
        ? Date.now() + this.opts.timeoutMs
        : undefined;
    const read = <T>(parse: HeadParser<T>): Promise<Parsed<T>> =>
      readUntil(conn, parse, {
        maxBytes: MAX_REQUEST_BYTES,
        errorCode: 'ERR_SOCKS_PROTOCOL',
        signal: ctx.signal,
        timeoutMs: deadline === undefined ? undefined : Math.max(1, deadline - Date.now()),
      });
    const mapFailure = (err: unknown): Error => mapError(err, target);
    return connectorHandshake(
      { conn, network, target, ctx, label: 'socks5 connector', mapError: mapFailure },
      async () => {
        const hp = parseHostPort(target);
        if (!hp)
          throw new TunnelError('ERR_DIAL', `socks5 connector: invalid target ${JSON.stringify(target)}`);
        const request = encodeRequest(CMD_CONNECT, hp.host, hp.port);
        const { auth } = this.opts;

        conn.write(encodeGreeting(auth ? [METHOD_NO_AUTH, METHOD_USER_PASS] : [METHOD_NO_AUTH]));
        const { method } = (await read(parseMethodSelection)).value;
        if (method === METHOD_USER_PASS && auth) {
          conn.write(encodeUserPassRequest(auth.username, auth.password));
          const { status } = (await read(parseUserPassReply)).value;
          if (status !== USER_PASS_SUCCESS)
            throw new TunnelError('ERR_SOCKS_AUTH', 'socks5: authentication failed');
        } else if (method === METHOD_USER_PASS) {
          throw new TunnelError(
            'ERR_SOCKS_AUTH',
            'socks5: server requires username/password, none configured',
          );
        } else if (method === METHOD_NO_ACCEPTABLE) {
          throw new TunnelError('ERR_SOCKS_AUTH', 'socks5: no acceptable authentication method');
        } else if (method !== METHOD_NO_AUTH) {
          throw new ProtocolError(
            'ERR_SOCKS_PROTOCOL',
            `socks5: server chose unsupported method 0x${method.toString(16)}`,
          );
        }

        conn.write(request);
        const reply = (await read(parseReply)).value;
        if (reply.rep !== REP_SUCCEEDED) {
          throw new TunnelError(
            'ERR_SOCKS_REPLY',
            `socks5: ${replyText(reply.rep)} (0x${reply.rep.toString(16).padStart(2, '0')})`,
          );
        }
      },
    );
  }
}

function mapError(err: unknown, target: string): Error {
  if (err instanceof ReadHeadError) {
    if (err.reason === 'timeout') {
      return new TunnelError('ERR_DIAL_TIMEOUT', `socks5 connector: handshake for ${target} timed out`, {
        cause: err,
      });
    }
    if (err.reason === 'aborted') return err;
    return new ProtocolError('ERR_SOCKS_PROTOCOL', `socks5 connector: ${err.message}`, { cause: err });
  }
  return err instanceof Error ? err : new TunnelError('ERR_DIAL', String(err));
}
