import type { Conn, Listener, ServerTlsOptions } from '../../core/types.js';
import { ProtocolError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { SmuxSession } from '../../mux/smux/session.js';
import type { SmuxStream } from '../../mux/smux/stream.js';
import { WebSocketHost } from '../../transport/websocket/host.js';
import type { AcceptedWebSocket } from '../../transport/websocket/server.js';
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
 * service is not taking connections (stopping); such a stream gets FIN at once, as in GOST.
 */
export class MwsListener implements Listener {
  private readonly opts: MwsListenerOptions;
  private readonly host: WebSocketHost;
  private readonly sessions = new Set<SmuxSession>();
  private onConn: ((conn: Conn) => void) | undefined;

  constructor(opts: MwsListenerOptions) {
    this.opts = opts;
    this.host = new WebSocketHost(opts);
  }

  /** WebSocket upgrades accepted so far (each one is an smux session). */
  get upgradeCount(): number {
    return this.host.upgradeCount;
  }

  /** Live smux sessions. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  async listen(onConn: (conn: Conn) => void): Promise<void> {
    this.onConn = onConn;
    await this.host.listen((accepted) => this.startSession(accepted));
  }

  private startSession({ conn, request }: AcceptedWebSocket): void {
    const log = this.opts.log;
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
      // A peer that breaks the protocol (e.g. a mux.version mismatch) is worth an operator's eye.
      if (err instanceof ProtocolError)
        log.warn({ remote, err: err.message }, 'mws: session closed on a protocol error');
      else log.debug({ remote, err: err?.message }, 'mws: session closed');
    });
  }

  private accept(stream: SmuxStream): void {
    if (this.onConn === undefined) {
      stream.destroy(); // not accepting: refused with FIN, as a full GOST backlog does
      return;
    }
    this.onConn(stream);
  }

  address(): string {
    return this.host.address();
  }

  close(): Promise<void> {
    this.onConn = undefined;
    for (const s of this.sessions) s.close();
    return this.host.close();
  }
}
