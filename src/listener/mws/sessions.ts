import type { Conn } from '../../core/types.js';
import { ProtocolError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SmuxConfig } from '../../mux/smux/config.js';
import { SmuxSession } from '../../mux/smux/session.js';
import type { SmuxStream } from '../../mux/smux/stream.js';
import type { AcceptedWebSocket } from '../../transport/websocket/server.js';
import { headersForLog, negotiatedExtensions } from '../../transport/websocket/upgrade-log.js';
import { DEFAULT_LIMITS, Limit, type LimitReporter } from '../../common/limits.js';
import { UDP_PER_SESSION, attachSessionUdpLimit } from '../../common/udp/association-limits.js';

export interface MwsSessionsOptions {
  mux: SmuxConfig;
  log: Logger;
  /** Per-session stream limits (SmuxSessionOptions; unset = smux's defaults). */
  maxStreams?: number | undefined;
  maxPendingStreams?: number | undefined;
  /** UDP associations open at once over one session (0: no bound; default DEFAULT_LIMITS.udpPerSession). */
  maxUdpPerSession?: number | undefined;
  onLimit?: LimitReporter | undefined;
}

/**
 * The server half of mws on accepted WebSockets, whoever accepted them (the listener's own HTTP
 * server or an application's): one smux server session per WebSocket, every stream the client
 * opens handed to `onConn`, or refused with FIN while nobody takes connections.
 */
export class MwsSessions {
  private readonly opts: MwsSessionsOptions;
  private readonly sessions = new Set<SmuxSession>();
  private onConn: ((conn: Conn) => void) | undefined;

  constructor(opts: MwsSessionsOptions) {
    this.opts = opts;
  }

  /** Live smux sessions. */
  get count(): number {
    return this.sessions.size;
  }

  /** Starts handing streams to `onConn` (until close()). */
  accept(onConn: (conn: Conn) => void): void {
    this.onConn = onConn;
  }

  /** Runs an smux server session on an accepted WebSocket. */
  start({ conn, request }: AcceptedWebSocket): void {
    const log = this.opts.log;
    let session: SmuxSession;
    try {
      session = new SmuxSession(conn, {
        ...this.opts.mux,
        client: false,
        maxStreams: this.opts.maxStreams,
        maxPendingStreams: this.opts.maxPendingStreams,
        // A stream is pending until its request is read, not just until its first byte: a flood
        // of streams that each send one byte is then held to maxPendingStreams too.
        pendingUntil: 'request',
        onLimit: this.opts.onLimit,
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
    log.debug(
      {
        remote,
        host: request.headers.host,
        path: request.url,
        header: headersForLog(request.headers),
        extensions: negotiatedExtensions(conn.ws),
      },
      'mws: session accepted',
    );
    this.sessions.add(session);
    const udp = new Limit(
      UDP_PER_SESSION,
      this.opts.maxUdpPerSession ?? DEFAULT_LIMITS.udpPerSession,
      this.opts.onLimit,
    );
    session.on('stream', (stream: SmuxStream) => {
      attachSessionUdpLimit(stream, udp);
      this.deliver(stream);
    });
    session.once('close', (err) => {
      this.sessions.delete(session);
      // A peer that breaks the protocol (e.g. a mux.version mismatch) is worth an operator's eye.
      if (err instanceof ProtocolError)
        log.warn({ remote, err: err.message }, 'mws: session closed on a protocol error');
      else log.debug({ remote, err: err?.message }, 'mws: session closed');
    });
  }

  private deliver(stream: SmuxStream): void {
    if (this.onConn === undefined) {
      stream.destroy(); // not accepting: refused with FIN, as a full GOST backlog does
      return;
    }
    this.onConn(stream);
  }

  /** Graceful stop: new streams are refused with FIN; open ones go on. */
  stopAccepting(): void {
    this.onConn = undefined;
  }

  /** Stops handing out streams and closes every session. */
  close(): void {
    this.onConn = undefined;
    for (const s of this.sessions) s.close();
  }
}
