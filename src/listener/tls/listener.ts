import type net from 'node:net';
import tls from 'node:tls';
import type { Conn, Listener, ServerTlsOptions } from '../../core/types.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { boundAddress, listenOn, trackSockets } from '../../common/listen.js';
import { serverTlsContextOptions } from '../../common/tls-server.js';
import { Limit, limitReporter } from '../../common/limits.js';

export interface TlsListenerOptions {
  addr: string;
  /** Certificate and key; with `ca`, client certificates are required and verified. */
  tls: ServerTlsOptions;
  /** Bound on a client's TLS handshake, ms; 0 or unset = 60 s. */
  handshakeTimeout?: number | undefined;
  keepAlive?: boolean | undefined;
  keepAliveIdle?: number | undefined;
  /** TLS handshakes in progress; one more connection is closed at once. 0 or unset = unbounded. */
  maxHandshakes?: number | undefined;
  log?: Logger | undefined;
}

/** A live TCP connection's address pair, the same on its TLS socket. */
function connectionKey(socket: net.Socket): string {
  return `${socket.localAddress}|${socket.localPort}|${socket.remoteAddress}|${socket.remotePort}`;
}

/** Without a configured limit, a client gets this long for its TLS handshake (ms). */
const DEFAULT_HANDSHAKE_TIMEOUT = 60_000;

/**
 * GOST's `tls` listener: TCP plus TLS termination (no ALPN, TLS 1.2–1.3); every connection that
 * completes its handshake goes to the handler as a Conn. A failed handshake (plaintext, a client
 * without the required certificate, timeout) is only logged at debug: it never reaches the handler.
 */
export class TlsListener implements Listener {
  private readonly opts: TlsListenerOptions;
  private readonly server: tls.Server;
  private readonly tracked: { close(): Promise<void>; stopAccepting(): void };
  private accepting = true;
  /** Ends a connection's count among the handshakes in progress, by its address pair (TCP = TLS). */
  private readonly handshakeEnds = new Map<string, () => void>();

  constructor(opts: TlsListenerOptions) {
    this.opts = opts;
    this.server = tls.createServer({
      ...serverTlsContextOptions(opts.tls),
      handshakeTimeout:
        opts.handshakeTimeout !== undefined && opts.handshakeTimeout > 0
          ? opts.handshakeTimeout
          : DEFAULT_HANDSHAKE_TIMEOUT,
    });
    this.tracked = trackSockets(this.server);
  }

  async listen(onConn: (conn: Conn) => void): Promise<void> {
    const log = this.opts.log ?? silentLogger;
    const handshakes = new Limit('handshakes_per_listener', this.opts.maxHandshakes ?? 0, limitReporter(log));
    // 'connection' is the raw TCP socket (trackSockets follows it too, so close() also ends handshakes).
    this.server.on('connection', (socket: net.Socket) => {
      // Counted from the TCP accept until TLS is done or the socket closes: a peer that opens
      // connections and never finishes TLS holds at most maxHandshakes of them, each for at most
      // handshakeTimeout.
      if (!handshakes.tryAcquire()) {
        socket.destroy();
        return;
      }
      const key = connectionKey(socket);
      let counted = true;
      const handshakeOver = (): void => {
        if (!counted) return;
        counted = false;
        handshakes.release();
        if (this.handshakeEnds.get(key) === handshakeOver) this.handshakeEnds.delete(key);
      };
      socket.once('close', handshakeOver);
      this.handshakeEnds.set(key, handshakeOver);
      socket.setNoDelay(true);
      if (this.opts.keepAlive) socket.setKeepAlive(true, this.opts.keepAliveIdle ?? 0);
    });
    this.server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      log.debug({ remote: socket.remoteAddress, err: err.message }, 'tls: handshake failed');
      // Node reports a handshake timeout here without closing the socket.
      socket.destroy();
    });
    this.server.on('secureConnection', (socket: tls.TLSSocket) => {
      this.handshakeEnds.get(connectionKey(socket))?.();
      // A handshake that was under way when a graceful stop began is not handed over.
      if (this.accepting) onConn(socket);
      else socket.destroy();
    });
    await listenOn(this.server, this.opts.addr);
  }

  address(): string {
    return boundAddress(this.server);
  }

  /** Graceful stop: the port is closed; connections already handed over go on until close(). */
  stopAccepting(): void {
    this.accepting = false;
    this.tracked.stopAccepting();
  }

  close(): Promise<void> {
    this.accepting = false;
    return this.tracked.close();
  }
}
