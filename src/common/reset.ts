import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Ends a connection the way a broken one ends: a TCP socket (or TLS over one) is closed with RST,
 * so the application on the other side sees "connection reset" and cannot mistake the break for
 * a finished transfer (a FIN would read as a clean end of stream). Anything else (an smux stream,
 * whose protocol has no reset; a WebSocket byte stream) is destroyed with `err`.
 */
export function resetConn(conn: Duplex, err?: Error): void {
  if (conn.destroyed) return;
  const tcp = tcpUnder(conn);
  // Not after our FIN: libuv refuses a reset on a socket that is shutting down, and Node then
  // marks the handle closing without ever closing it, which spins the process forever at exit.
  // That side already ended cleanly; the reset would only have covered the other direction.
  if (tcp !== undefined && !tcp.destroyed && !tcp.writableEnded) {
    try {
      tcp.resetAndDestroy();
      if (tcp !== conn) conn.destroy(err);
      return;
    } catch {
      // Not a TCP handle after all (a pipe, or a socket wrapped around a JavaScript stream).
    }
  }
  conn.destroy(err);
}

/** The TCP socket carrying `conn`: itself, or the socket under a TLS socket (`_parent`). */
function tcpUnder(conn: Duplex): Socket | undefined {
  if (!(conn instanceof Socket)) return undefined;
  const handle = (conn as Socket & { _handle?: { constructor?: { name?: string } } | null })._handle;
  if (handle?.constructor?.name === 'TCP') return conn;
  const parent = (conn as Socket & { _parent?: unknown })._parent;
  return parent instanceof Socket ? tcpUnder(parent) : undefined;
}
