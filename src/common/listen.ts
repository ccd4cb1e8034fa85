import { resetConn } from './reset.js';
import type { Server, Socket } from 'node:net';
import { splitHostPort, joinHostPort } from './addr.js';

/**
 * Binds a server to a GOST address: `:8080` listens on every interface (IPv4 and IPv6, as Go does),
 * `127.0.0.1:8080` or `[::1]:8080` on that one. Resolves when bound; rejects with the OS error
 * (EADDRINUSE, EACCES, ...) otherwise.
 */
export function listenOn(server: Server, addr: string, backlog?: number): Promise<void> {
  const { host, port } = splitHostPort(addr);
  return new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(
      { port, ...(host !== '' ? { host } : {}), ...(backlog !== undefined ? { backlog } : {}) },
      () => {
        server.off('error', onError);
        resolve();
      },
    );
  });
}

/** The bound `host:port` of a listening server. */
export function boundAddress(server: Server): string {
  const a = server.address();
  if (a === null || typeof a === 'string') return a ?? '';
  return joinHostPort(a.address, a.port);
}

/**
 * Tracks the sockets a server accepts so that closing it also ends them (server.close() alone waits
 * for every open connection).
 */
export function trackSockets(server: Server): { close(): Promise<void>; stopAccepting(): void } {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    // Stops listening; connections already accepted go on until close().
    stopAccepting: () => {
      if (server.listening) server.close();
    },
    // Connections still open when the server closes are cut, so they are reset (see resetConn).
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) resetConn(s);
      }),
  };
}
