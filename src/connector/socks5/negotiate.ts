import { ProtocolError, TunnelError } from '../../core/errors.js';
import type { AuthInfo, ClientTlsOptions, Conn } from '../../core/types.js';
import type { HeadParser, Parsed } from '../../common/buffered-reader.js';
import { tlsClientConnect } from '../../common/tls-client.js';
import {
  encodeGreeting,
  encodeUserPassRequest,
  parseMethodSelection,
  parseUserPassReply,
} from '../../proto/socks5/codec.js';
import {
  METHOD_NO_ACCEPTABLE,
  METHOD_NO_AUTH,
  METHOD_TLS,
  METHOD_TLS_AUTH,
  METHOD_USER_PASS,
  USER_PASS_SUCCESS,
} from '../../proto/socks5/constants.js';

export interface NegotiateOptions {
  auth?: AuthInfo | undefined;
  /** `notls`: offer only 0x00/0x02. Otherwise GOST's TLS methods 0x80 (and 0x82 with auth) too. */
  noTLS: boolean;
  /** TLS policy for methods 0x80/0x82; GOST's connector does not verify the server by default. */
  tls?: ClientTlsOptions | undefined;
  /** The node address, for SNI and verification with `secure`. */
  nodeAddr: string;
  signal?: AbortSignal | undefined;
}

type Reader = <T>(conn: Conn, parse: HeadParser<T>) => Promise<Parsed<T>>;

/**
 * The method sub-negotiation as GOST's connector runs it: greeting `05 N 00 [02] [80] [82]`, then
 * for the chosen method TLS (0x80, 0x82) and/or RFC 1929 (0x02, 0x82). Resolves with the Conn to use
 * from then on — a TLS socket over `conn` when a TLS method was chosen.
 */
export async function negotiateMethod(conn: Conn, opts: NegotiateOptions, read: Reader): Promise<Conn> {
  const { auth } = opts;
  const methods = [METHOD_NO_AUTH];
  if (auth) methods.push(METHOD_USER_PASS);
  if (!opts.noTLS) {
    methods.push(METHOD_TLS);
    if (auth) methods.push(METHOD_TLS_AUTH);
  }
  conn.write(encodeGreeting(methods));
  const { method } = (await read(conn, parseMethodSelection)).value;
  if (method === METHOD_NO_ACCEPTABLE)
    throw new TunnelError('ERR_SOCKS_AUTH', 'socks5: no acceptable authentication method');
  if (!methods.includes(method)) {
    if (method === METHOD_USER_PASS || method === METHOD_TLS_AUTH)
      throw new TunnelError('ERR_SOCKS_AUTH', 'socks5: server requires username/password, none configured');
    throw new ProtocolError(
      'ERR_SOCKS_PROTOCOL',
      `socks5: server chose unsupported method 0x${method.toString(16).padStart(2, '0')}`,
    );
  }
  let out = conn;
  if (method === METHOD_TLS || method === METHOD_TLS_AUTH) {
    out = await tlsClientConnect(conn, {
      ...(opts.tls ?? { secure: false }),
      addr: opts.nodeAddr,
      signal: opts.signal,
    });
  }
  if ((method === METHOD_USER_PASS || method === METHOD_TLS_AUTH) && auth) {
    out.write(encodeUserPassRequest(auth.username, auth.password));
    const { status } = (await read(out, parseUserPassReply)).value;
    if (status !== USER_PASS_SUCCESS)
      throw new TunnelError('ERR_SOCKS_AUTH', 'socks5: authentication failed');
  }
  return out;
}
