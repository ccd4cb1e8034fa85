import type { BoundTunnel, Conn, TunnelBacklog } from '../core/types.js';
import { DEFAULT_LIMITS, Limit, limitReporter } from '../common/limits.js';
import type { Logger } from '../core/logger.js';
import { toError } from '../core/errors.js';
import { SmuxSession, type SmuxConfig, type SmuxStream } from '../mux/smux/index.js';

export interface MuxBindTunnelOptions {
  /** The bound address the server reported. */
  addr: string;
  /** Settings of the inner smux session (GOST's mux defaults when empty). */
  mux: Partial<SmuxConfig>;
  /**
   * Reads the header every inner stream starts with (a SOCKS5 reply or a relay response naming the
   * peer) and returns the peer's host and port; rejects when the header is bad or refuses.
   */
  readPeer(stream: SmuxStream): Promise<{ host: string; port: number }>;
  log: Logger;
  /**
   * Streams held while their header is read or until accept() is called; more are refused, counted
   * as `bind_backlog` and logged. Default 1024 (DEFAULT_LIMITS.bindBacklog: xtaci/smux's accept
   * backlog, where GOST's session would stop reading); 0 = unbounded.
   */
  backlog?: TunnelBacklog | undefined;
}

/**
 * The client end of GOST's multiplexed bind: once the server accepted the bind, the bind stream
 * carries an smux session in which the SERVER opens one stream per peer it accepted and this end
 * accepts them (roles inverted). Each stream's peer header is read here; the stream then arrives as
 * a Conn whose remote address is the peer's.
 */
export class MuxBindTunnel implements BoundTunnel {
  readonly addr: string;
  readonly closed: Promise<Error | undefined>;
  private readonly session: SmuxSession;
  private readonly opts: MuxBindTunnelOptions;
  /** Streams whose header is being read or that wait for accept(). */
  private readonly held: Limit;
  private readonly waiting: Conn[] = [];
  private onConn: ((conn: Conn) => void) | undefined;

  constructor(carrier: Conn, opts: MuxBindTunnelOptions) {
    this.addr = opts.addr;
    this.opts = opts;
    this.held = new Limit(
      'bind_backlog',
      opts.backlog?.max ?? DEFAULT_LIMITS.bindBacklog,
      opts.backlog?.onLimit ?? limitReporter(opts.log),
    );
    this.session = new SmuxSession(carrier, { ...opts.mux, client: false, acceptStreams: true });
    this.closed = new Promise((resolve) => {
      this.session.once('close', (err) => {
        for (const c of this.waiting.splice(0)) c.destroy();
        resolve(err);
      });
    });
    this.session.on('stream', (stream) => this.onStream(stream));
  }

  accept(onConn: (conn: Conn) => void): void {
    this.onConn = onConn;
    for (const c of this.waiting.splice(0)) {
      this.held.release();
      onConn(c);
    }
  }

  close(): void {
    this.session.close();
  }

  private onStream(stream: SmuxStream): void {
    if (!this.held.tryAcquire()) {
      this.opts.log.debug({ backlog: this.held.max }, 'bind: backlog full, peer connection refused');
      stream.destroy();
      return;
    }
    stream.on('error', (err: Error) => this.opts.log.debug({ err: err.message }, 'bind: inner stream error'));
    this.opts.readPeer(stream).then(
      (peer) => {
        stream.remoteAddress = peer.host;
        stream.remotePort = peer.port;
        if (this.onConn === undefined) {
          this.waiting.push(stream); // still held: released when accept() hands it over
          return;
        }
        this.held.release();
        this.onConn(stream);
      },
      (err: unknown) => {
        this.held.release();
        this.opts.log.warn({ err: toError(err).message }, 'bind: bad peer header on an inner stream');
        stream.destroy();
      },
    );
  }
}
