import type { Conn, Listener, ServerTlsOptions } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { WebSocketHost } from '../../transport/websocket/host.js';
import type { MwsListenerMetadata } from './metadata.js';
import { MwsSessions } from './sessions.js';
import { limitReporter } from '../../common/limits.js';

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
    const onLimit = limitReporter(opts.log);
    const { maxSessions, maxHandshakes, maxStreams, maxPendingStreams, maxUdpPerSession } = opts.limits;
    this.host = new WebSocketHost({
      ...opts,
      ws: {
        ...opts.ws,
        maxHandshakes,
        onLimit,
        admit: () => {
          if (maxSessions <= 0 || this.sessions.count < maxSessions) return true;
          onLimit('sessions_per_listener', maxSessions);
          return false;
        },
      },
    });
    this.sessions = new MwsSessions({
      mux: opts.mux,
      log: opts.log,
      maxStreams,
      maxPendingStreams,
      maxUdpPerSession,
      onLimit,
    });
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

  /** Graceful stop: no new sessions, and new streams on open sessions are refused with FIN. */
  stopAccepting(): void {
    this.sessions.stopAccepting();
    this.host.stopAccepting();
  }

  close(): Promise<void> {
    this.sessions.close();
    return this.host.close();
  }
}
