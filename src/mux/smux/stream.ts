import { Duplex } from 'node:stream';

/** xtaci/smux `initialPeerWindow`: what a v2 sender assumes before the first UPD arrives. */
export const INITIAL_PEER_WINDOW = 262_144;

/** What a stream needs from its session (implemented by SmuxSession). */
export interface StreamEngine {
  /** `head` (a nested session's frame header) goes on the wire right before `chunk`, in its first frame. */
  streamWrite(stream: SmuxStream, chunk: Buffer, cb: (err?: Error | null) => void, head?: Buffer): void;
  streamFinal(stream: SmuxStream): void;
  streamRead(stream: SmuxStream): void;
  streamDestroyed(stream: SmuxStream): void;
  streamRequestRead(stream: SmuxStream): void;
}

export interface SmuxStreamOptions {
  /** Readable/writable high-water marks in bytes. */
  highWaterMark: number;
  /** The session's largest PSH payload (`maxFrameSize`). */
  maxFramePayload: number;
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
}

function noop(): void {}

/**
 * One smux stream as a Node Duplex.
 *
 * Closing follows xtaci/smux 1.5.16 (the version GOST's Debian build links): `end()` sends FIN once;
 * a FIN from the peer ends the readable side after the buffered data. Writing after the peer's FIN
 * is still allowed, except that a v2 write waiting for window after it fails unless an update
 * arrives within `finWindowTimeout`.
 * An xtaci peer forgets a stream when it sends FIN and drops such data, so across GOST there is no
 * half-close (facts §3.6); between two gost-ts ends the stream stays open until both sides sent FIN,
 * which gives a true half-close. `destroy()` sends FIN if none was sent and drops unread data.
 *
 * Backpressure: a write's callback fires only once all its frames are handed to the carrier
 * while the carrier accepts more (and, in v2, within the peer's window); received data is held in
 * the session's budget until it is pushed into this stream's readable buffer, which only happens
 * while the reader asks for more.
 *
 * The session owns the protocol state below; fields are public to that module only by convention.
 */
export class SmuxStream extends Duplex {
  /** The smux stream id (odd when opened by a client, even by a server). */
  readonly id: number;
  /** Writable: a reverse tunnel's inner stream names the peer it carries. */
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** The largest payload one frame of this stream's session carries. */
  readonly maxFramePayload: number;

  /** @internal Received frames not yet pushed to the readable side. */
  recvQueue: Buffer[] = [];
  /** @internal Bytes in recvQueue (still charged to the session budget). */
  recvBytes = 0;
  /** @internal The reader asked for data and has not been refused by push() since. */
  wantsData = false;
  /** @internal The peer sent FIN. */
  peerFin = false;
  /** @internal EOF was pushed to the readable side. */
  eofPushed = false;
  /** @internal This side sent FIN. */
  finSent = false;
  /**
   * @internal Opened by the peer and no data (or, with `pendingUntil: 'request'`, no whole request)
   * from it yet: counts against maxPendingStreams.
   */
  awaitingData = false;
  /** @internal Removed from the session. */
  detached = false;
  /** @internal A write waiting to be framed: chunk, how far it has been sent, its callback. */
  pendingChunk: Buffer | null = null;
  pendingOffset = 0;
  pendingCb: ((err?: Error | null) => void) | null = null;
  /** @internal A nested frame header to send in front of pendingChunk (see writeFrame). */
  pendingHead: Buffer | null = null;
  /** @internal v2: pending deadline for a window update after the peer's FIN. */
  finWindowTimer: NodeJS.Timeout | undefined = undefined;
  /** @internal Whether the stream sits in the session's send rotation. */
  queuedForSend = false;
  /** @internal v2 send accounting (u32 arithmetic). */
  numWritten = 0;
  peerConsumed = 0;
  peerWindow = INITIAL_PEER_WINDOW;
  /** Bytes delivered to this stream's reader so far. */
  bytesRead = 0;
  /** Bytes of this stream's writes handed to the carrier so far. */
  bytesWritten = 0;
  /** @internal v2 receive accounting: bytes delivered in all, and since the last UPD. */
  numRead = 0;
  readSinceUpd = 0;

  private readonly engine: StreamEngine;
  /** Headers given to writeFrame, keyed by the body written after them. */
  private frameHeads: WeakMap<Buffer, Buffer> | undefined;

  constructor(engine: StreamEngine, id: number, opts: SmuxStreamOptions) {
    super({
      allowHalfOpen: true,
      readableHighWaterMark: opts.highWaterMark,
      writableHighWaterMark: opts.highWaterMark,
    });
    this.engine = engine;
    this.id = id;
    this.remoteAddress = opts.remoteAddress;
    this.remotePort = opts.remotePort;
    this.localAddress = opts.localAddress;
    this.localPort = opts.localPort;
    this.maxFramePayload = opts.maxFramePayload;
    // A stream killed with its session errors out; an owner that did not listen must not crash the
    // process for it. Owners attach their own listeners (pipeline does) and still see the error.
    this.on('error', noop);
  }

  /**
   * Tells the session that this peer-opened stream's request was read (e.g. its target is being
   * dialled): it no longer counts as pending. Only matters with `pendingUntil: 'request'`.
   */
  requestRead(): void {
    this.engine.streamRequestRead(this);
  }

  override _read(): void {
    this.engine.streamRead(this);
  }

  /**
   * FrameWriter for a session nested in this stream (a multiplexed bind): `head` + `body` go out as
   * bytes of this stream like `write(Buffer.concat([head, body]))`, without joining them: the head
   * rides beside the body through the Writable queue and is copied into the header of the body's
   * first frame. `head` may be reused once this returns. False means wait for 'drain'.
   */
  writeFrame(head: Buffer, body?: Buffer): boolean {
    if (body === undefined || body.length === 0) return this.write(Buffer.from(head));
    (this.frameHeads ??= new WeakMap()).set(body, Buffer.from(head));
    return this.write(body);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const head = this.frameHeads?.get(chunk);
    if (head === undefined) {
      this.engine.streamWrite(this, chunk, cb);
      return;
    }
    this.frameHeads?.delete(chunk);
    this.engine.streamWrite(this, chunk, cb, head);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.engine.streamFinal(this);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.engine.streamDestroyed(this);
    cb(err);
  }
}
