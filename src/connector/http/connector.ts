import type { AuthInfo, Conn, ConnectContext, Connector } from '../../core/types.js';
import { connectorHandshake } from '../../common/connector-handshake.js';
import { TunnelError } from '../../core/errors.js';
import { ReadHeadError, readUntil } from '../../common/buffered-reader.js';
import { encodeConnectRequest } from '../../proto/http/connect-request.js';
import { DEFAULT_MAX_HEAD_BYTES } from '../../proto/http/head.js';
import { parseResponseHead } from '../../proto/http/response-head.js';

export interface HttpConnectorOptions {
  /** Sent as `Proxy-Authorization: Basic …`. */
  auth?: AuthInfo | undefined;
  /** Extra request headers (metadata `header`). */
  header?: Record<string, string> | undefined;
  /** Bound on writing the CONNECT and reading the reply head, ms (metadata `timeout`). Default none. */
  timeoutMs?: number | undefined;
}

/** The proxy answered the CONNECT with a status other than 200. */
export class HttpProxyStatusError extends TunnelError {
  /** The status code, e.g. 407. */
  readonly statusCode: number;
  constructor(statusCode: number, status: string) {
    // GOST fails the dial with exactly resp.Status, e.g. "407 Proxy Authentication Required".
    super('ERR_HTTP_PROXY_STATUS', status);
    this.name = 'HttpProxyStatusError';
    this.statusCode = statusCode;
  }
}

/**
 * GOST's `http` connector: asks the HTTP proxy at the other end of `conn` to CONNECT to `target`.
 * The request goes out in one write (one smux PSH frame) with GOST's exact bytes; only status 200
 * succeeds (reason phrase ignored). The resolved Conn is `conn` itself, positioned right after the
 * reply head: bytes the proxy sent after the head are still readable from it. On any failure `conn`
 * is destroyed and the promise rejects (ERR_HTTP_PROXY_STATUS with the status line for a non-200,
 * ERR_DIAL_TIMEOUT, ERR_ABORTED, ...).
 */
export class HttpConnector implements Connector {
  private readonly opts: HttpConnectorOptions;

  constructor(opts: HttpConnectorOptions = {}) {
    this.opts = opts;
  }

  connect(conn: Conn, network: 'tcp' | 'udp', target: string, ctx: ConnectContext): Promise<Conn> {
    const mapFailure = (err: unknown): Error => mapError(err, target);
    return connectorHandshake(
      { conn, network, target, ctx, label: 'http connector', mapError: mapFailure },
      async () => {
        const req = encodeConnectRequest(target, { auth: this.opts.auth, header: this.opts.header });
        ctx.log.debug({ target }, 'http connector: CONNECT');
        conn.write(req);
        const { value: head } = await readUntil(conn, (buf, prev) => parseResponseHead(buf, {}, prev), {
          maxBytes: DEFAULT_MAX_HEAD_BYTES,
          errorCode: 'ERR_HTTP_PROXY_STATUS',
          signal: ctx.signal,
          timeoutMs: this.opts.timeoutMs,
        });
        if (head.statusCode !== 200) throw new HttpProxyStatusError(head.statusCode, head.status);
      },
    );
  }
}

function mapError(err: unknown, target: string): Error {
  if (err instanceof ReadHeadError) {
    if (err.reason === 'timeout') {
      return new TunnelError('ERR_DIAL_TIMEOUT', `http connector: no reply to CONNECT ${target} in time`, {
        cause: err,
      });
    }
    if (err.reason === 'aborted') return err;
    return new TunnelError('ERR_HTTP_PROXY_STATUS', `http connector: CONNECT ${target}: ${err.message}`, {
      cause: err,
    });
  }
  return err instanceof Error ? err : new TunnelError('ERR_DIAL', String(err));
}
