import tls from 'node:tls';
import { TunnelError } from '../../core/errors.js';
import type { Conn, ServerTlsOptions } from '../../core/types.js';
import { serverTlsContextOptions } from '../../common/tls-server.js';
import {
  METHOD_NO_AUTH,
  METHOD_TLS,
  METHOD_TLS_AUTH,
  METHOD_USER_PASS,
} from '../../proto/socks5/constants.js';

/**
 * GOST's server method choice (x/handler/socks/v5/selector.go): TLS (0x80) when the client offers it
 * and `notls` is off, else no auth; with an authenticator 0x80 becomes 0x82 and 0x00 becomes 0x02.
 * Unlike GOST, a plain method the client did not offer is answered `05 FF` (undefined here).
 */
export function selectMethod(
  offered: readonly number[],
  opts: { auth: boolean; tls: boolean },
): number | undefined {
  if (opts.tls && offered.includes(METHOD_TLS)) return opts.auth ? METHOD_TLS_AUTH : METHOD_TLS;
  const plain = opts.auth ? METHOD_USER_PASS : METHOD_NO_AUTH;
  return offered.includes(plain) ? plain : undefined;
}

export function isTlsMethod(method: number): boolean {
  return method === METHOD_TLS || method === METHOD_TLS_AUTH;
}

const contexts = new WeakMap<ServerTlsOptions, tls.SecureContext>();

/**
 * Starts the server side of TLS on `conn` (methods 0x80/0x82) with the service's certificate and
 * resolves with the TLS socket once the handshake is done, within `timeoutMs`. Rejects ERR_TLS;
 * `conn` is destroyed then.
 */
export function startServerTls(
  conn: Conn,
  material: ServerTlsOptions,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Conn> {
  let ctx = contexts.get(material);
  if (ctx === undefined) {
    ctx = tls.createSecureContext(serverTlsContextOptions(material));
    contexts.set(material, ctx);
  }
  const socket = new tls.TLSSocket(conn, { isServer: true, secureContext: ctx });
  return new Promise<Conn>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no handshake within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      conn.destroy();
      reject(new TunnelError('ERR_TLS', `socks5: TLS handshake failed: ${err.message}`, { cause: err }));
    };
    const onAbort = (): void => fail(new Error('aborted'));
    socket.once('error', fail);
    socket.once('secure', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      signal.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
