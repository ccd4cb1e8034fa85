import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from '../../core/logger.js';
import type { ServerTlsOptions } from '../../core/types.js';
import { boundAddress, listenOn, trackSockets } from '../../common/listen.js';
import { serverTlsContextOptions } from '../../common/tls-server.js';
import { attachWebSocketAcceptor, type AcceptedWebSocket, type WebSocketAcceptOptions } from './server.js';

export interface WebSocketHostOptions {
  addr: string;
  ws: WebSocketAcceptOptions;
  /** TLS terminated before HTTP (`wss`, `mwss`): HTTP/1.1 only, no ALPN. */
  tls?: ServerTlsOptions | undefined;
  /** TCP keepalive on accepted connections, with its idle time in ms. */
  keepAlive: boolean;
  keepAliveIdle: number;
  log: Logger;
}

/**
 * The HTTP(S) server under GOST's WebSocket listeners (`ws`, `wss`, `mws`, `mwss`): upgrades only the
 * configured path (Go's replies for anything else), closes clients that fail TLS or send a
 * malformed request, and tracks every socket so close() ends them all.
 */
export class WebSocketHost {
  private readonly opts: WebSocketHostOptions;
  private readonly server: http.Server;
  private readonly tracked: { close(): Promise<void>; stopAccepting(): void };
  private upgrades = 0;

  constructor(opts: WebSocketHostOptions) {
    this.opts = opts;
    const handshakeTimeout = opts.ws.handshakeTimeout > 0 ? opts.ws.handshakeTimeout : 60_000;
    this.server =
      opts.tls !== undefined
        ? https.createServer({ ...serverTlsContextOptions(opts.tls), handshakeTimeout })
        : http.createServer();
    // Only requests that are not upgraded use HTTP keep-alive; upgraded connections are timed by
    // their own keepalive, never by the HTTP server.
    this.server.keepAliveTimeout = 5_000;
    this.tracked = trackSockets(this.server);
  }

  /** WebSocket upgrades accepted so far. */
  get upgradeCount(): number {
    return this.upgrades;
  }

  /** Starts listening; each accepted WebSocket goes to `onAccept`. Rejects when the address is unusable. */
  async listen(onAccept: (accepted: AcceptedWebSocket) => void): Promise<void> {
    const log = this.opts.log;
    this.server.on('connection', (socket: Socket) => {
      if (this.opts.keepAlive) socket.setKeepAlive(true, this.opts.keepAliveIdle);
      socket.setNoDelay(true);
    });
    this.server.on('tlsClientError', (err: Error, socket: Socket) => {
      log.debug({ err: err.message }, 'websocket: TLS handshake failed');
      // Node reports a failed or timed-out handshake here but leaves the socket open.
      socket.destroy();
    });
    this.server.on('clientError', (err: Error, socket: Socket) => {
      log.debug({ err: err.message }, 'websocket: malformed HTTP request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    attachWebSocketAcceptor(this.server, this.opts.ws, (accepted) => {
      this.upgrades += 1;
      accepted.conn.on('error', (err: Error) => log.debug({ err: err.message }, 'websocket: error'));
      onAccept(accepted);
    });
    await listenOn(this.server, this.opts.addr);
  }

  address(): string {
    return boundAddress(this.server);
  }

  /** Stops listening; upgraded connections go on until close(). */
  stopAccepting(): void {
    this.tracked.stopAccepting();
  }

  /** Stops listening and destroys every connection. */
  close(): Promise<void> {
    return this.tracked.close();
  }
}
