import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Conn, Listener, ServerTlsOptions } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { SmuxSession } from '../../mux/smux/session.js';
import type { SmuxStream } from '../../mux/smux/stream.js';
import { attachWebSocketAcceptor } from '../../transport/websocket/server.js';
import { boundAddress, listenOn } from '../../common/listen.js';
import type { MwsListenerMetadata } from './metadata.js';

export interface MwsListenerOptions extends MwsListenerMetadata {
  addr: string;
  /** Set for `mwss`: TLS terminated before the HTTP server (HTTP/1.1 only, no ALPN). */
  tls?: ServerTlsOptions | undefined;
  log: Logger;
}

/**
 * GOST's `mws`/`mwss` listener: an HTTP/1.1 server that upgrades only `path`, runs an smux server
 * session on each WebSocket, and hands every stream the client opens to the service as a connection.
 *
 * Streams are handed over as they arrive, so GOST's bounded queue (`backlog`) only fills while the
 * service is not taking connections (stopping); beyond it a stream gets FIN at once, as in GOST.
 */
export class MwsListener implements Listener {
  private readonly opts: MwsListenerOptions;
  private readonly server: http.Server;
  private readonly sessions = new Set<SmuxSession>();
  private readonly sockets = new Set<Socket>();
  private onConn: ((conn: Conn) => void) | undefined;
  private upgrades = 0;

  constructor(opts: MwsListenerOptions) {
    this.opts = opts;
    this.server =
      opts.tls !== undefined
        ? https.createServer({
            cert: opts.tls.cert,
            key: opts.tls.key,
            ...(opts.tls.ca !== undefined
              ? { ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true }
              : {}),
            handshakeTimeout: opts.ws.handshakeTimeout > 0 ? opts.ws.handshakeTimeout : 60_000,
          })
        : http.createServer();
    // Upgraded connections live for hours; nothing here should time them out but smux keepalive.
    this.server.keepAliveTimeout = 5_000;
  }

  /** WebSocket upgrades accepted so far (each one is an smux session). */
  get upgradeCount(): number {
    return this.upgrades;
  }

  /** Live smux sessions. */
  get sessionCount(): number {
    return this.sessions.size;
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
    // Node reports a failed or timed-out TLS handshake but leaves the socket open.
    this.server.on('tlsClientError', (err: Error, socket: Socket) => {
      log.debug({ err: err.message }, 'mwss: TLS handshake failed');
      socket.destroy();
    });
    this.server.on('clientError', (err: Error, socket: Socket) => {
      log.debug({ err: err.message }, 'mws: malformed HTTP request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    attachWebSocketAcceptor(this.server, this.opts.ws, ({ conn, request }) => {
      this.upgrades += 1;
      conn.on('error', (err: Error) => log.debug({ err: err.message }, 'mws: websocket error'));
      let session: SmuxSession;
      try {
        session = new SmuxSession(conn, {
          ...this.opts.mux,
          client: false,
          remoteAddress: conn.remoteAddress,
          remotePort: conn.remotePort,
          localAddress: conn.localAddress,
          localPort: conn.localPort,
        });
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'mws: cannot start session');
        conn.destroy();
        return;
      }
      const remote = `${conn.remoteAddress ?? '?'}:${conn.remotePort ?? 0}`;
      log.debug({ remote, host: request.headers.host, path: request.url }, 'mws: session accepted');
      this.sessions.add(session);
      session.on('stream', (stream: SmuxStream) => this.accept(stream));
      session.once('close', (err) => {
        this.sessions.delete(session);
        log.debug({ remote, err: err?.message }, 'mws: session closed');
      });
    });
    await listenOn(this.server, this.opts.addr);
  }

  private accept(stream: SmuxStream): void {
    if (this.onConn === undefined) {
      stream.destroy(); // not accepting: refused with FIN, as a full GOST backlog does
      return;
    }
    this.onConn(stream);
  }

  address(): string {
    return boundAddress(this.server);
  }

  close(): Promise<void> {
    this.onConn = undefined;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sessions) s.close();
      for (const s of this.sockets) s.destroy();
    });
  }
}
