import { TunnelError } from '../core/errors.js';
import type { ConnectContext, Conn } from '../core/types.js';

export interface HandshakeOptions {
  conn: Conn;
  network: 'tcp' | 'udp';
  target: string;
  ctx: ConnectContext;
  /** Names the connector in logs and errors, e.g. `socks5 connector`. */
  label: string;
  /** Turns what the steps threw into the connector's error. */
  mapError: (err: unknown) => Error;
}

/**
 * The frame every connector's handshake runs in: TCP only; connection errors are logged (the
 * steps see them as failed reads); on failure `conn` is destroyed — the connector owns it until it
 * resolves — and the mapped error is thrown. Resolves with `conn` (or the Conn the steps returned,
 * e.g. a TLS layer on it), positioned after the reply.
 */
export async function connectorHandshake(
  opts: HandshakeOptions,
  steps: () => Promise<Conn | void>,
): Promise<Conn> {
  const { conn, ctx, label, target } = opts;
  const onError = (err: Error): void => {
    ctx.log.debug({ err, target }, `${label}: connection error`);
  };
  conn.on('error', onError);
  try {
    if (opts.network !== 'tcp') {
      throw new TunnelError('ERR_DIAL', `${label}: network ${opts.network} is not supported`);
    }
    // A step may replace the carrier (a TLS layer started inside the handshake).
    return (await steps()) ?? conn;
  } catch (err) {
    conn.destroy();
    throw opts.mapError(err);
  } finally {
    conn.off('error', onError);
  }
}
