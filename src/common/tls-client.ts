import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { TunnelError } from '../core/errors.js';
import type { ClientTlsOptions } from '../core/types.js';

function hostOf(addr: string): string {
  const m = /^\[([^\]]*)\](?::\d*)?$/.exec(addr);
  if (m) return m[1] ?? '';
  const i = addr.lastIndexOf(':');
  return i >= 0 ? addr.slice(0, i) : addr;
}

/**
 * GOST's SNI choice: `serverName` if set, else the node address host, else (for `:8443`) the host of
 * the `host` setting; IP literals are never sent.
 */
export function sniFor(opts: ClientTlsOptions, addr: string, hostSetting?: string): string | undefined {
  const candidate =
    opts.serverName || hostOf(addr) || (hostSetting ? hostOf(hostSetting) || hostSetting : '');
  return candidate && net.isIP(candidate) === 0 ? candidate : undefined;
}

/**
 * Starts TLS on `conn` as GOST's client does: certificate checks only with `secure` (GOST's default is
 * off); with a CA and `secure=false` the chain is checked but not the host name.
 */
export function tlsClientConnect(
  conn: Duplex,
  opts: ClientTlsOptions & {
    addr: string;
    hostSetting?: string | undefined;
    signal?: AbortSignal | undefined;
  },
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const servername = sniFor(opts, opts.addr, opts.hostSetting);
    const verifyChain = opts.secure || opts.ca !== undefined;
    const socket = tls.connect({
      socket: conn,
      ...(servername !== undefined ? { servername } : {}),
      rejectUnauthorized: verifyChain,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
      ...(opts.key !== undefined ? { key: opts.key } : {}),
      ...(opts.secure ? {} : { checkServerIdentity: () => undefined }),
    });
    const onAbort = (): void => fail(new TunnelError('ERR_ABORTED', 'tls: handshake aborted'));
    const fail = (err: Error): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      conn.destroy();
      reject(
        err instanceof TunnelError ? err : new TunnelError('ERR_TLS', `tls: ${err.message}`, { cause: err }),
      );
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.off('error', fail);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
