import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Conn, Listener, ServerTlsOptions } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { attachWebSocketAcceptor } from '../../transport/websocket/server.js';
import type { WebSocketDuplex } from '../../transport/websocket/ws-duplex.js';
import { boundAddress, listenOn } from '../../common/listen.js';
import { serverTlsContextOptions } from '../../common/tls-server.js';
import type { WsListenerMetadata } from './metadata.js';

export interface WsListenerOptions extends WsListenerMetadata {
  addr: string;
  /** Set for `wss`: TLS terminated before the HTTP server (HTTP/1.1 only, no ALPN). */
  tls?: ServerTlsOptions | undefined;
  log: Logger;
}

/**
 * GOST's NON-multiplexed `ws`/`wss` listener: an HTTP/1.1 server that upgrades only `path`, with
 * the same replies as mws for everything else, and hands each WebSocket to the service as one Conn
 * (a byte stream; message boundaries mean nothing).
 *
 * Connections are handed over as they are upgraded, so GOST's bounded queue (`backlog`) only fills
 * while the service is not taking connections (stopping): such a connection is closed at once.
 */
export class WsListener implements Listener {
  private readonly opts: WsListenerOptions;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly conns = new Set<WebSocketDuplex>();
  private onConn: ((conn: Conn) => void) | undefined;
  private upgrades = 0;

  constructor(opts: WsListenerOptions) {
    this.opts = opts;
    this.server =
      opts.tls !== undefined
        ? https.createServer({
            ...serverTlsContextOptions(opts.tls),
            handshakeTimeout: opts.ws.handshakeTimeout > 0 ? opts.ws.handshakeTimeout : 60_000,
          })
        : http.createServer();
    this.server.keepAliveTimeout = 5_000;
  }

  /** WebSocket upgrades accepted so far (one per dial of a `ws` client). */
  get upgradeCount(): number {
    return this.upgrades;
  }

  async listen(onConn: (conn: Conn) => void): Promise<void> {
    this.onConn = onConn;
    const log = this.opts.log;
    this.server.on('connection', (socket: Socket) => {
      if (this.opts.keepAlive) socket.setKeepAlive(true, this.opts.keepAliveIdle);
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('tlsClientError', (err: Error, socket: Socket) => {
      log.debug({ err: err.message }, 'wss: TLS handshake failed');
      // Node reports a handshake timeout here without closing the socket.
      socket.destroy();
    });
    this.server.on('clientError', (err: Error, socket: Socket) => {
      log.debug({ err: err.message }, 'ws: malformed HTTP request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    attachWebSocketAcceptor(this.server, this.opts.ws, ({ conn, request }) => {
      this.upgrades += 1;
      const deliver = this.onConn;
      if (deliver === undefined) {
        conn.destroy(); // not accepting: closed, as a full GOST backlog does
        return;
      }
      log.debug(
        { remote: `${conn.remoteAddress ?? '?'}:${conn.remotePort ?? 0}`, host: request.headers.host },
        'ws: connection accepted',
      );
      this.conns.add(conn);
      conn.once('close', () => this.conns.delete(conn));
      deliver(conn);
    });
    await listenOn(this.server, this.opts.addr);
  }

  address(): string {
    return boundAddress(this.server);
  }

  close(): Promise<void> {
    this.onConn = undefined;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const c of this.conns) c.destroy();
      for (const s of this.sockets) s.destroy();
    });
  }
}
