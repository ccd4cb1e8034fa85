import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { parseHostPort } from '../../common/addr.js';
import { ReadHeadError, readUntil } from '../../common/buffered-reader.js';
import { ProtocolError, TunnelError } from '../../core/errors.js';
import type { AuthInfo, Conn, ConnectContext, Connector } from '../../core/types.js';
import { connectorHandshake } from '../../common/connector-handshake.js';
import {
  SOCKS4_GRANTED,
  SOCKS4_MAX_REQUEST_BYTES,
  encodeSocks4Request,
  parseSocks4Reply,
  socks4ReplyText,
} from '../../proto/socks4/codec.js';

export interface Socks4ConnectorOptions {
  /** `auth.username` is sent as the USERID (the password is unused by SOCKS4). */
  auth?: AuthInfo | undefined;
  /** Bound on the exchange, ms (metadata `timeout`). Default none. */
  timeoutMs?: number | undefined;
  /**
   * Plain SOCKS4 instead of 4a (metadata `disable4a`): host names are resolved here to IPv4. By
   * default the 4a form is used even for IP literals, as GOST's connector does.
   */
  disable4a?: boolean | undefined;
}

/**
 * GOST's `socks4` connector. Resolves with `conn` positioned after the 8-byte reply; on failure
 * destroys `conn` and rejects (ERR_SOCKS_REPLY for a refusal, ERR_SOCKS_PROTOCOL, ERR_DIAL_TIMEOUT,
 * ERR_ABORTED, ERR_DIAL when a name cannot be resolved with disable4a).
 */
export class Socks4Connector implements Connector {
  private readonly opts: Socks4ConnectorOptions;

  constructor(opts: Socks4ConnectorOptions = {}) {
    this.opts = opts;
  }

  connect(conn: Conn, network: 'tcp' | 'udp', target: string, ctx: ConnectContext): Promise<Conn> {
    const mapFailure = (err: unknown): Error => mapError(err, target);
    return connectorHandshake(
      { conn, network, target, ctx, label: 'socks4 connector', mapError: mapFailure },
      async () => {
        const hp = parseHostPort(target);
        if (!hp)
          throw new TunnelError('ERR_DIAL', `socks4 connector: invalid target ${JSON.stringify(target)}`);
        let host = hp.host;
        const use4a = !this.opts.disable4a;
        if (!use4a && !isIPv4(host)) {
          try {
            host = (await lookup(host, { family: 4 })).address;
          } catch (err) {
            throw new TunnelError('ERR_DIAL', `socks4 connector: cannot resolve ${hp.host} to IPv4`, {
              cause: err,
            });
          }
        }
        conn.write(encodeSocks4Request(host, hp.port, { userId: this.opts.auth?.username ?? '', use4a }));
        const { value: reply } = await readUntil(conn, parseSocks4Reply, {
          maxBytes: SOCKS4_MAX_REQUEST_BYTES,
          errorCode: 'ERR_SOCKS_PROTOCOL',
          signal: ctx.signal,
          timeoutMs: this.opts.timeoutMs,
        });
        if (reply.code !== SOCKS4_GRANTED) {
          throw new TunnelError(
            'ERR_SOCKS_REPLY',
            `socks4: ${socks4ReplyText(reply.code)} (0x${reply.code.toString(16)})`,
          );
        }
      },
    );
  }
}

function mapError(err: unknown, target: string): Error {
  if (err instanceof ReadHeadError) {
    if (err.reason === 'timeout') {
      return new TunnelError('ERR_DIAL_TIMEOUT', `socks4 connector: no reply for ${target} in time`, {
        cause: err,
      });
    }
    if (err.reason === 'aborted') return err;
    return new ProtocolError('ERR_SOCKS_PROTOCOL', `socks4 connector: ${err.message}`, { cause: err });
  }
  return err instanceof Error ? err : new TunnelError('ERR_DIAL', String(err));
}
