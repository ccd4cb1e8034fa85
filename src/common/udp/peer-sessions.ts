import { Duplex } from 'node:stream';
import type { Conn, PacketConn, UdpDropReason, UdpObserver } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { parseHostPort } from '../addr.js';

/** Default cap on concurrent UDP sessions per listener (GOST has none). */
export const DEFAULT_UDP_MAX_SESSIONS = 4096;

/** Per-peer session settings (GOST's udp/rudp listener metadata). */
export interface PeerSessionOptions {
  /** A session ends after this long without a datagram either way (GOST `ttl`), ms. */
  ttlMs: number;
  /** Keep the session after the first reply (GOST `keepalive`; false ends it once answered). */
  keepalive: boolean;
  /** Largest datagram taken from a peer, bytes (GOST `readBufferSize`); larger ones are dropped. */
  readBufferSize: number;
  /** Datagrams a session holds while its handler is busy (GOST `readQueueSize`); more are dropped. */
  readQueueSize: number;
  /** Sessions at once; a new peer beyond it is refused (its datagrams dropped and counted). */
  maxSessions: number;
}

/**
 * One remote UDP peer as a Conn: an object-mode Duplex whose chunks are whole datagrams. Reading
 * gives the peer's datagrams, writing sends a datagram back to it. It ends itself after `ttlMs`
 * without traffic, or after its first reply unless `keepalive`. Handlers recognise it with
 * {@link isUdpPeerConn}.
 */
export class UdpPeerConn extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** Bytes of datagrams received from / sent to the peer (service metrics). */
  bytesRead = 0;
  bytesWritten = 0;
  private readonly peer: string;
  private readonly packets: PacketConn;
  private readonly opts: PeerSessionOptions;
  private readonly onDrop: (reason: UdpDropReason) => void;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    peer: string,
    packets: PacketConn,
    local: string | undefined,
    opts: PeerSessionOptions,
    onDrop: (reason: UdpDropReason) => void,
  ) {
    super({ objectMode: true, readableHighWaterMark: opts.readQueueSize, writableHighWaterMark: 16 });
    const hp = parseHostPort(peer);
    const lp = local === undefined ? undefined : parseHostPort(local);
    this.peer = peer;
    this.remoteAddress = hp?.host ?? peer;
    this.remotePort = hp?.port ?? 0;
    this.localAddress = lp?.host;
    this.localPort = lp?.port;
    this.packets = packets;
    this.opts = opts;
    this.onDrop = onDrop;
    this.touch();
  }

  /** A datagram from the peer; dropped (and counted) when the session's queue is full. */
  deliver(data: Buffer): void {
    if (this.destroyed || this.readableEnded) return;
    if (this.readableLength >= this.opts.readQueueSize) {
      this.onDrop('queue_full');
      return;
    }
    this.bytesRead += data.length;
    this.touch();
    this.push(data);
  }

  override _read(): void {
    // Datagrams are pushed as they arrive; the queue bound is enforced in deliver().
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const sent = this.packets.send(chunk, this.peer);
    if (sent === true) this.bytesWritten += chunk.length;
    else this.onDrop(sent);
    this.touch();
    cb();
    // GOST's udp listener without keepalive closes the session once it has answered.
    if (!this.opts.keepalive) this.destroy();
  }

  override _final(cb: (err?: Error | null) => void): void {
    cb();
    this.destroy();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    cb(err);
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.destroy(), this.opts.ttlMs);
    this.idleTimer.unref();
  }
}

export function isUdpPeerConn(conn: Conn): conn is UdpPeerConn {
  return conn instanceof UdpPeerConn;
}

/**
 * Demultiplexes a PacketConn (a UDP socket, or a rudp tunnel) into one UdpPeerConn per remote
 * peer, handed to `onSession`. Enforces the datagram size, the session cap and (through each
 * session) the queue bound, counting every drop.
 */
export class PeerSessions {
  private readonly sessions = new Map<string, UdpPeerConn>();
  private readonly log: Logger;
  private readonly observer: UdpObserver | undefined;
  private lastLimitLog = 0;
  /** False during a graceful stop: a new peer's datagrams are dropped, open sessions go on. */
  private accepting = true;

  constructor(
    packets: PacketConn,
    opts: PeerSessionOptions,
    log: Logger,
    observer: UdpObserver | undefined,
    onSession: (session: UdpPeerConn) => void,
  ) {
    this.log = log;
    this.observer = observer;
    const drop = (reason: UdpDropReason): void => this.observer?.dropped(reason);
    packets.onMessage((data, from) => {
      if (data.length > opts.readBufferSize) {
        drop('too_large');
        this.log.debug(
          { peer: from, bytes: data.length, readBufferSize: opts.readBufferSize },
          'udp: datagram larger than readBufferSize dropped',
        );
        return;
      }
      let session = this.sessions.get(from);
      if (session === undefined) {
        if (!this.accepting) return;
        if (this.sessions.size >= opts.maxSessions) {
          drop('session_limit');
          const now = Date.now();
          if (now - this.lastLimitLog >= 1000) {
            this.lastLimitLog = now;
            this.log.warn(
              { peer: from, maxSessions: opts.maxSessions },
              'udp: session limit reached, new peer refused',
            );
          }
          return;
        }
        session = new UdpPeerConn(from, packets, packets.localAddress(), opts, drop);
        this.sessions.set(from, session);
        this.observer?.sessionOpened();
        const s = session;
        s.once('close', () => {
          if (this.sessions.get(from) === s) this.sessions.delete(from);
          this.observer?.sessionClosed();
        });
        onSession(session);
      }
      session.deliver(data);
    });
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Graceful stop: no new sessions; datagrams of open ones still flow. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Ends every session (the PacketConn is left to its owner). */
  closeAll(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}
