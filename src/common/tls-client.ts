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
 * The name the server certificate must match when `secure` is on: as Go's ServerName, `serverName`,
 * else the node address host (an IP literal is matched against the IP SANs), else the `host` setting's.
 */
export function verifyNameFor(
  opts: ClientTlsOptions,
  addr: string,
  hostSetting?: string,
): string | undefined {
  const name = opts.serverName || hostOf(addr) || (hostSetting ? hostOf(hostSetting) || hostSetting : '');
  return name === '' ? undefined : name;
}

/** OpenSSL's certificate verification failures as Node reports them (`err.code`). */
const VERIFY_CODE = /^(UNABLE_TO_|CERT_|SELF_SIGNED_|DEPTH_ZERO_|INVALID_CA|PATH_LENGTH_|INVALID_PURPOSE)/;

/** A message that says what was wrong with the server's certificate, when that was the problem. */
function describeTlsError(err: Error & { code?: unknown }): string {
  const code = typeof err.code === 'string' ? err.code : '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `server certificate does not match the server name: ${err.message}`;
  }
  if (VERIFY_CODE.test(code)) return `server certificate rejected: ${err.message} (${code})`;
  return err.message;
}

/**
 * Starts TLS on `conn` as GOST's client does: certificate checks only with `secure` (GOST's default is
 * off); with a CA and `secure=false` the chain is checked but not the host name. With `secure` the
 * host name is checked against {@link verifyNameFor}, not against whatever the carrier connected to,
 * because under a chain the carrier is a tunnel stream with no host of its own.
 * Rejects with ERR_TLS (the message names the certificate problem) or ERR_ABORTED; `conn` is
 * destroyed on failure.
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
    const verifyName = verifyNameFor(opts, opts.addr, opts.hostSetting);
    if (opts.secure && verifyName === undefined) {
      conn.destroy();
      reject(new TunnelError('ERR_TLS', 'tls: secure=true needs a server name: set serverName'));
      return;
    }
    const verifyChain = opts.secure || opts.ca !== undefined;
    const socket = tls.connect({
      socket: conn,
      ...(servername !== undefined ? { servername } : {}),
      rejectUnauthorized: verifyChain,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
      ...(opts.key !== undefined ? { key: opts.key } : {}),
      checkServerIdentity: opts.secure
        ? (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(verifyName ?? '', cert)
        : () => undefined,
    });
    const onAbort = (): void => fail(new TunnelError('ERR_ABORTED', 'tls: handshake aborted'));
    const fail = (err: Error): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      conn.destroy();
      reject(
        err instanceof TunnelError
          ? err
          : new TunnelError('ERR_TLS', `tls: ${describeTlsError(err)}`, { cause: err }),
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
