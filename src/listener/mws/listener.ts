import type { Conn, Listener, ServerTlsOptions } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { WebSocketHost } from '../../transport/websocket/host.js';
import type { MwsListenerMetadata } from './metadata.js';
import { MwsSessions } from './sessions.js';

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
  private readonly host: WebSocketHost;
  private readonly sessions: MwsSessions;

  constructor(opts: MwsListenerOptions) {
    this.host = new WebSocketHost(opts);
    this.sessions = new MwsSessions({ mux: opts.mux, log: opts.log });
  }

  /** WebSocket upgrades accepted so far (each one is an smux session). */
  get upgradeCount(): number {
    return this.host.upgradeCount;
  }

  /** Live smux sessions. */
  get sessionCount(): number {
    return this.sessions.count;
  }

  async listen(onConn: (conn: Conn) => void): Promise<void> {
    this.sessions.accept(onConn);
    await this.host.listen((accepted) => this.sessions.start(accepted));
  }

  address(): string {
    return this.host.address();
  }

  close(): Promise<void> {
    this.sessions.close();
    return this.host.close();
  }
}
