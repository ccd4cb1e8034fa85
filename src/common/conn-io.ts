import type { Writable } from 'node:stream';
import type { Conn } from '../core/types.js';
import { TunnelError } from '../core/errors.js';

/**
 * Writes `data` as one `write()` call and resolves when the stream accepted it (the write callback:
 * flushed to the socket, or taken by the smux session queue). Used to send a protocol reply as its
 * own write, before any payload: a GOST client reading a CONNECT/SOCKS reply from an smux stream
 * loses payload that shares the reply's frame (facts §3.4).
 */
export function writeAsync(conn: Writable, data: Uint8Array | string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (conn.destroyed || conn.writableEnded) {
      reject(new TunnelError('ERR_ABORTED', 'write on a closed connection'));
      return;
    }
    conn.write(data, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

/** How long {@link endGracefully} waits for the peer to close before destroying. */
export const DEFAULT_CLOSE_WAIT_MS = 2000;

/**
 * Sends `data` (if any) and FIN, discards whatever the peer still sends, and resolves once `conn` is
 * closed: when the peer closes too, or after `waitMs` by destroying it. Reading the leftovers avoids
 * the TCP RST that closing with unread data would cause, which could make the peer lose the reply.
 * Never rejects.
 */
export function endGracefully(
  conn: Conn,
  data?: Uint8Array | string,
  waitMs = DEFAULT_CLOSE_WAIT_MS,
): Promise<void> {
  return new Promise<void>((resolve) => {
    if (conn.closed) {
      resolve();
      return;
    }
    const timer = setTimeout(() => conn.destroy(), waitMs);
    const onError = (): void => {
      conn.destroy();
    };
    conn.on('error', onError);
    conn.once('close', () => {
      clearTimeout(timer);
      conn.off('error', onError);
      resolve();
    });
    if (conn.destroyed) return;
    // Once both sides are done the stream closes on its own (autoDestroy); destroy after our FIN is
    // flushed if the peer had already ended.
    conn.once('finish', () => {
      if (conn.readableEnded) conn.destroy();
    });
    conn.once('end', () => {
      if (conn.writableFinished) conn.destroy();
    });
    if (!conn.writableEnded) {
      if (data !== undefined && data.length > 0) conn.end(data);
      else conn.end();
    }
    conn.resume();
  });
}
