import type { Conn, Listener, ServerTlsOptions } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { WebSocketHost } from '../../transport/websocket/host.js';
import type { AcceptedWebSocket } from '../../transport/websocket/server.js';
import { headersForLog, negotiatedExtensions } from '../../transport/websocket/upgrade-log.js';
import type { WebSocketDuplex } from '../../transport/websocket/ws-duplex.js';
import type { WsListenerMetadata } from './metadata.js';
import { limitReporter } from '../../common/limits.js';

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
  private readonly host: WebSocketHost;
  private readonly conns = new Set<WebSocketDuplex>();
  private onConn: ((conn: Conn) => void) | undefined;

  constructor(opts: WsListenerOptions) {
    this.opts = opts;
    this.host = new WebSocketHost({
      ...opts,
      ws: { ...opts.ws, maxHandshakes: opts.maxHandshakes, onLimit: limitReporter(opts.log) },
    });
  }

  /** WebSocket upgrades accepted so far (one per dial of a `ws` client). */
  get upgradeCount(): number {
    return this.host.upgradeCount;
  }

  async listen(onConn: (conn: Conn) => void): Promise<void> {
    this.onConn = onConn;
    await this.host.listen((accepted) => this.accept(accepted));
  }

  private accept({ conn, request }: AcceptedWebSocket): void {
    const deliver = this.onConn;
    if (deliver === undefined) {
      conn.destroy(); // not accepting: closed, as a full GOST backlog does
      return;
    }
    this.opts.log.debug(
      {
        remote: `${conn.remoteAddress ?? '?'}:${conn.remotePort ?? 0}`,
        host: request.headers.host,
        path: request.url,
        header: headersForLog(request.headers),
        extensions: negotiatedExtensions(conn.ws),
      },
      'ws: connection accepted',
    );
    this.conns.add(conn);
    conn.once('close', () => this.conns.delete(conn));
    deliver(conn);
  }

  address(): string {
    return this.host.address();
  }

  /** Graceful stop: the port is closed, upgrades under way are refused; open connections go on. */
  stopAccepting(): void {
    this.onConn = undefined;
    this.host.stopAccepting();
  }

  close(): Promise<void> {
    this.onConn = undefined;
    for (const c of this.conns) c.destroy();
    return this.host.close();
  }
}
