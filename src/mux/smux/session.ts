import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { TunnelError, toError } from '../../core/errors.js';
import { DEFAULT_LIMITS, countLimitHit, type LimitReporter } from '../../common/limits.js';
import { resolveSmuxConfig, type SmuxConfig } from './config.js';
import { FrameDecoder } from './decoder.js';
import {
  CMD_FIN,
  CMD_NOP,
  CMD_PSH,
  CMD_SYN,
  CMD_UPD,
  HEADER_SIZE,
  encodeControl,
  encodeUpd,
  writeHeader,
  type Frame,
} from './frame.js';
import { SmuxStream, type StreamEngine } from './stream.js';

export interface SmuxSessionOptions extends Partial<SmuxConfig> {
  /** Client sessions open odd stream ids from 3, servers even ids from 2 (xtaci). */
  client: boolean;
  /**
   * Whether peer-opened streams are accepted (emitted as 'stream'). When false a SYN is answered with
   * FIN at once: a GOST client never accepts streams, and queuing them would only leak memory.
   * Default: true for servers, false for clients.
   */
  acceptStreams?: boolean;
  /**
   * Peer-opened streams open at once; a SYN beyond it is refused with FIN, as a full GOST backlog
   * refuses. 0 = unbounded. Default 16384.
   */
  maxStreams?: number | undefined;
  /**
   * Peer-opened streams that have not sent a byte yet (a request still to come); a SYN beyond it is
   * refused with FIN, so a flood of bare SYNs holds little. 0 = unbounded. Default 1024.
   */
  maxPendingStreams?: number | undefined;
  /**
   * When a peer-opened stream stops counting against `maxPendingStreams`: at its first data
   * (`'data'`, the default), or once its request was read (`'request'`): when its owner calls
   * `requestRead()` or the stream first writes back. With `'request'` a flood of streams that each
   * send a byte but never a whole request is held to `maxPendingStreams` as well.
   */
  pendingUntil?: 'data' | 'request' | undefined;
  /** Told of every SYN refused by a limit (`streams_per_session`, `pending_streams_per_session`). */
  onLimit?: LimitReporter | undefined;
  /** High-water mark of each stream's readable and writable side (bytes). Default 64 KiB. */
  streamHighWaterMark?: number;
  /**
   * v2: how long a write blocked on window may wait for an update after the peer's FIN (ms). An
   * xtaci peer forgets the stream when it sends FIN and never updates the window again (xtaci fails
   * such a write at once); a gost-ts peer keeps reading until both sides closed, so the update does
   * come. Default 10 s, like GOST's relay linger.
   */
  finWindowTimeout?: number;
  /** Addresses reported by every stream (the carrier's). */
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
}

/**
 * A carrier that takes a frame as header + payload without the caller joining them (the WebSocket
 * adapter writes them as one message). `head` may be reused once the call returns. False means
 * wait for 'drain'.
 */
export interface FrameWriter {
  writeFrame(head: Buffer, body?: Buffer): boolean;
  /** Optional: the frames written until endBatch() may leave together (one flush). */
  beginBatch?(): void;
  endBatch?(): void;
}

/**
 * A carrier that can hand received bytes straight to the session, bypassing its Readable side (the
 * WebSocket adapter reading frames off the socket). `readDirect` returns false when it cannot.
 */
export interface ByteSource {
  readDirect(onData: (chunk: Buffer) => void): boolean;
  pauseReading(): void;
  resumeReading(): void;
}

export interface SmuxSessionEvents {
  stream: [stream: SmuxStream];
  /** Emitted once; `err` says why unless closed locally without one. */
  close: [err: Error | undefined];
}

const MAX_STREAM_ID = 0xffffffff;

/**
 * Control frames waiting for the carrier beyond which reading pauses until it drains: every SYN
 * refused, NOP or UPD answered queues one, so a peer that sends them without reading ours would
 * otherwise grow the queue without bound (it is then closed by the keepalive check instead).
 */
const MAX_CONTROL_BACKLOG = 4096;

/** Control frames joined into one carrier write at most (8 KiB of smux headers). */
const CONTROL_BATCH = 1024;

/**
 * An smux session over a byte carrier (a WebSocket byte stream, or any Duplex), wire-compatible with
 * xtaci/smux v1 and v2 as GOST uses it.
 *
 * Sending: control frames (SYN, NOP, UPD, FIN) go before queued data; data streams take turns one
 * frame at a time, so a bulk transfer cannot starve a small one. Nothing is handed to the carrier
 * while its write() says it is full.
 *
 * Receiving: every PSH is charged to a session budget (`maxReceiveBuffer`) until its stream's reader
 * takes it; at zero the carrier is paused (head-of-line blocking for all streams, exactly as xtaci's
 * recvLoop; v2 windows keep one slow stream from getting there).
 *
 * The session never emits 'error': it closes, and 'close' carries the reason. Every open stream is
 * then destroyed with that reason.
 */
export class SmuxSession extends EventEmitter<SmuxSessionEvents> implements StreamEngine {
  readonly config: Readonly<SmuxConfig>;
  readonly isClient: boolean;
  private readonly carrier: Duplex;
  private readonly frameWriter: FrameWriter | undefined;
  private readonly byteSource: ByteSource | undefined;
  /**
   * Header of the PSH being sent, with room for a nested session's frame header after it (see
   * SmuxStream.writeFrame); FrameWriter copies it, the fallback path joins it.
   */
  private readonly pshHeaderWide = Buffer.allocUnsafe(2 * HEADER_SIZE);
  private readonly pshHeader = this.pshHeaderWide.subarray(0, HEADER_SIZE);
  private readonly acceptStreams: boolean;
  private readonly maxStreams: number;
  private readonly maxPendingStreams: number;
  private readonly onLimit: LimitReporter;
  /** Peer-opened streams that have not sent data (or their request) yet. */
  private pendingStreams = 0;
  private readonly pendingUntilRequest: boolean;
  private readonly finWindowTimeout: number;
  private readonly streamOpts: ConstructorParameters<typeof SmuxStream>[2];
  private readonly decoder: FrameDecoder;
  private readonly streams = new Map<number, SmuxStream>();
  private nextId: number;

  /** Control frames to send, taken from `ctrlHead` (an index, not shift(): O(1) at any length). */
  private ctrlQueue: Buffer[] = [];
  private ctrlHead = 0;
  /** Streams refused at their SYN, each owed a FIN: ids only, encoded when sent. */
  private refusals: number[] = [];
  private sendRing: SmuxStream[] = [];
  private sendHead = 0;
  private carrierFull = false;
  private flushing = false;
  /** Set while received frames are handled: flush() then waits for the end of the batch. */
  private decoding = false;
  private flushDeferred = false;
  /** Whether the peer ever sent a byte: a peer that hangs up in silence may run another mux.version. */
  private peerSpoke = false;

  private bucket: number;
  private carrierPaused = false;
  private resumeScheduled = false;
  private frameSeen = false;

  private pingTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private closedWith: Error | undefined;
  private closed = false;

  constructor(carrier: Duplex, opts: SmuxSessionOptions) {
    super();
    // Nested in another session's stream (a multiplexed bind, no TLS between): v1 frames no larger
    // than what fills one outer frame with their header, so neither end splits or joins them. Frame
    // size is only the sender's chunking: any peer reads any size. Not in v2, where the 64 KiB
    // stream window would then end each round in a sliver of a frame. Not through TLS (socks5's
    // method 0x80) either: frames that make two whole records in one outer frame measured 4-6 %
    // more CPU, the extra small frame per 64 KiB read costing the receiver one more write.
    const config = resolveSmuxConfig(opts);
    if (config.version === 1 && carrier instanceof SmuxStream && carrier.maxFramePayload > HEADER_SIZE) {
      config.maxFrameSize = Math.min(config.maxFrameSize, carrier.maxFramePayload - HEADER_SIZE);
    }
    this.config = Object.freeze(config);
    this.isClient = opts.client;
    this.carrier = carrier;
    const fw = carrier as Duplex & Partial<FrameWriter>;
    this.frameWriter = typeof fw.writeFrame === 'function' ? (fw as FrameWriter) : undefined;
    this.acceptStreams = opts.acceptStreams ?? !opts.client;
    this.finWindowTimeout = opts.finWindowTimeout ?? 10_000;
    this.maxStreams = opts.maxStreams ?? DEFAULT_LIMITS.streamsPerSession;
    this.maxPendingStreams = opts.maxPendingStreams ?? DEFAULT_LIMITS.pendingStreamsPerSession;
    this.onLimit = opts.onLimit ?? countLimitHit;
    this.pendingUntilRequest = opts.pendingUntil === 'request';
    this.streamOpts = {
      highWaterMark: opts.streamHighWaterMark ?? 65_536,
      maxFramePayload: this.config.maxFrameSize,
      remoteAddress: opts.remoteAddress,
      remotePort: opts.remotePort,
      localAddress: opts.localAddress,
      localPort: opts.localPort,
    };
    // xtaci drops data for unknown streams; the decoder then skips it without a view per frame.
    this.decoder = new FrameDecoder(this.config.version, (sid) => this.streams.has(sid));
    this.nextId = opts.client ? 1 : 0;
    this.bucket = this.config.maxReceiveBuffer;

    const src = carrier as Duplex & Partial<ByteSource>;
    if (typeof src.readDirect === 'function' && src.readDirect(this.carrierOnData)) {
      this.byteSource = src as ByteSource;
    } else {
      carrier.on('data', this.carrierOnData);
    }
    carrier.on('drain', this.carrierOnDrain);
    carrier.on('end', this.carrierOnEnd);
    carrier.on('close', this.carrierOnClose);
    carrier.on('error', this.carrierOnError);

    if (!this.config.keepAliveDisabled) {
      this.pingTimer = setInterval(this.sendNop, this.config.keepAliveInterval);
      this.checkTimer = setInterval(this.checkAlive, this.config.keepAliveTimeout);
      this.pingTimer.unref();
      this.checkTimer.unref();
    }
  }

  /** True once the session has closed; no stream can be opened. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Why the session closed, if it did for a reason. */
  get closeReason(): Error | undefined {
    return this.closedWith;
  }

  /** Streams currently registered (open in at least one direction). */
  get numStreams(): number {
    return this.streams.size;
  }

  /** Peer-opened streams that have not sent a byte yet. */
  get numPendingStreams(): number {
    return this.pendingStreams;
  }

  /** Received bytes not yet taken by readers (the spent part of `maxReceiveBuffer`). */
  get receiveBuffered(): number {
    return this.config.maxReceiveBuffer - this.bucket;
  }

  /** Bytes received from the carrier but not yet decoded (held while the budget is spent). */
  get undecodedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  /**
   * Opens a stream: its SYN is queued ahead of any data, and the stream is usable at once (smux has
   * no open acknowledgement; a refusal arrives as FIN).
   * @throws TunnelError ERR_SMUX_SESSION_CLOSED, or ERR_SMUX_GO_AWAY when stream ids are exhausted.
   */
  openStream(): SmuxStream {
    if (this.closed) {
      throw new TunnelError('ERR_SMUX_SESSION_CLOSED', 'smux: session is closed', { cause: this.closedWith });
    }
    const id = this.nextId + 2;
    if (id > MAX_STREAM_ID) {
      throw new TunnelError('ERR_SMUX_GO_AWAY', 'smux: stream ids exhausted (go away)');
    }
    this.nextId = id;
    const stream = new SmuxStream(this, id, this.streamOpts);
    this.streams.set(id, stream);
    this.ctrlQueue.push(encodeControl(this.config.version, CMD_SYN, id));
    this.flush();
    return stream;
  }

  /** Closes the session and its carrier; open streams are destroyed with `err` (or a plain close error). */
  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.closedWith = err;
    clearInterval(this.pingTimer);
    clearInterval(this.checkTimer);
    const streamErr =
      err instanceof TunnelError && err.code === 'ERR_SMUX_SESSION_CLOSED'
        ? err
        : new TunnelError('ERR_SMUX_SESSION_CLOSED', `smux: session closed${err ? `: ${err.message}` : ''}`, {
            cause: err,
          });
    for (const stream of [...this.streams.values()]) stream.destroy(streamErr);
    this.streams.clear();
    this.pendingStreams = 0;
    this.ctrlQueue = [];
    this.ctrlHead = 0;
    this.refusals = [];
    this.sendRing = [];
    this.sendHead = 0;
    this.carrier.off('data', this.carrierOnData);
    this.carrier.off('drain', this.carrierOnDrain);
    this.carrier.destroy();
    this.emit('close', err);
  }

  // ---- carrier events -------------------------------------------------------------------------

  private readonly carrierOnData = (chunk: Buffer): void => {
    this.peerSpoke = true;
    this.decoder.push(chunk);
    this.decodeFrames();
  };

  private readonly carrierOnDrain = (): void => {
    this.carrierFull = false;
    this.flush();
    if (this.carrierPaused && !this.resumeScheduled && this.canRead()) {
      this.resumeScheduled = true;
      process.nextTick(this.resumeCarrier);
    }
  };

  /** Whether frames may be decoded: budget left, and our control frames are being taken. */
  private canRead(): boolean {
    return (
      this.bucket > 0 && this.ctrlQueue.length - this.ctrlHead + this.refusals.length < MAX_CONTROL_BACKLOG
    );
  }

  private readonly carrierOnEnd = (): void => {
    // GOST drops a session at the first frame of another smux version without a word, so a
    // session that ends before the peer sent anything says what to check.
    const hint = this.peerSpoke ? '' : ' before sending anything (is mux.version the same on both ends?)';
    this.close(new TunnelError('ERR_SMUX_SESSION_CLOSED', `smux: connection closed by peer${hint}`));
  };

  private readonly carrierOnClose = (): void => {
    this.close(new TunnelError('ERR_SMUX_SESSION_CLOSED', 'smux: connection closed'));
  };

  private readonly carrierOnError = (err: Error): void => {
    this.close(err);
  };

  // ---- keepalive ------------------------------------------------------------------------------

  private readonly sendNop = (): void => {
    this.ctrlQueue.push(encodeControl(this.config.version, CMD_NOP, 0));
    this.flush();
  };

  /** xtaci `keepalive`: close when no frame arrived for a whole period, unless our own budget is why. */
  private readonly checkAlive = (): void => {
    if (!this.frameSeen && this.bucket > 0) {
      this.close(
        new TunnelError(
          'ERR_SMUX_KEEPALIVE_TIMEOUT',
          `smux: no frame from peer within ${this.config.keepAliveTimeout} ms`,
        ),
      );
      return;
    }
    this.frameSeen = false;
  };

  // ---- receiving ------------------------------------------------------------------------------

  /**
   * Handles every complete frame received, then sends what that queued in one flush: the refusals
   * of a burst of SYNs leave as one carrier write rather than one each (a flood of SYNs would
   * otherwise cost a write and its garbage per refusal).
   */
  private decodeFrames(): void {
    for (;;) {
      let drained = false;
      this.decoding = true;
      try {
        while (!this.closed && this.canRead()) {
          const frame: Frame | undefined = this.decoder.next();
          if (frame === undefined) {
            drained = true;
            break;
          }
          this.frameSeen = true;
          this.handleFrame(frame);
        }
      } catch (err) {
        this.decoding = false;
        this.flushDeferred = false;
        this.close(toError(err));
        return;
      } finally {
        this.decoding = false;
      }
      if (this.flushDeferred) {
        this.flushDeferred = false;
        this.flush();
      }
      // Stopped only because our control frames piled up, and the carrier took them: go on.
      if (drained || this.closed || !this.canRead()) break;
    }
    if (!this.closed && !this.canRead() && !this.carrierPaused) {
      this.carrierPaused = true;
      if (this.byteSource !== undefined) this.byteSource.pauseReading();
      else this.carrier.pause();
    }
  }

  private handleFrame(frame: Frame): void {
    switch (frame.cmd) {
      case CMD_NOP:
        return;
      case CMD_SYN:
        this.onSyn(frame.sid);
        return;
      case CMD_FIN: {
        const stream = this.streams.get(frame.sid);
        if (stream !== undefined && !stream.peerFin) this.onPeerFin(stream);
        return;
      }
      case CMD_PSH: {
        const stream = this.streams.get(frame.sid);
        // xtaci drops data for unknown or closed streams without charging the budget.
        if (stream === undefined || stream.peerFin || frame.data.length === 0) return;
        if (stream.awaitingData && !this.pendingUntilRequest) this.dataArrived(stream);
        this.bucket -= frame.data.length;
        this.deliver(stream, frame.data);
        return;
      }
      case CMD_UPD: {
        const stream = this.streams.get(frame.sid);
        if (stream === undefined) return;
        stream.peerConsumed = frame.consumed;
        stream.peerWindow = frame.window;
        if (this.windowLeft(stream) > 0) this.clearFinWindowWait(stream);
        if (stream.pendingChunk !== null) this.enqueueSend(stream);
        this.flush();
        return;
      }
    }
  }

  private onSyn(sid: number): void {
    if (this.streams.has(sid)) return; // a duplicate SYN is ignored
    if (!this.acceptStreams || this.overLimit()) {
      this.refusals.push(sid);
      this.flush();
      return;
    }
    const stream = new SmuxStream(this, sid, this.streamOpts);
    stream.awaitingData = true;
    this.pendingStreams += 1;
    this.streams.set(sid, stream);
    this.emit('stream', stream);
  }

  /** Whether a new peer-opened stream would exceed a limit (reported when it would). */
  private overLimit(): boolean {
    if (this.maxStreams > 0 && this.streams.size >= this.maxStreams) {
      this.onLimit('streams_per_session', this.maxStreams);
      return true;
    }
    if (this.maxPendingStreams > 0 && this.pendingStreams >= this.maxPendingStreams) {
      this.onLimit('pending_streams_per_session', this.maxPendingStreams);
      return true;
    }
    return false;
  }

  private dataArrived(stream: SmuxStream): void {
    stream.awaitingData = false;
    this.pendingStreams -= 1;
  }

  private onPeerFin(stream: SmuxStream): void {
    stream.peerFin = true;
    if (stream.pendingCb !== null && this.windowLeft(stream) <= 0) this.armFinWindowWait(stream);
    if (stream.recvQueue.length === 0) this.pushEof(stream);
    if (stream.finSent) this.detach(stream);
  }

  private pushEof(stream: SmuxStream): void {
    if (stream.eofPushed) return;
    stream.eofPushed = true;
    stream.push(null);
  }

  private deliver(stream: SmuxStream, data: Buffer): void {
    if (stream.wantsData && stream.recvQueue.length === 0) {
      stream.wantsData = stream.push(data);
      this.consumed(stream, data.length);
    } else {
      stream.recvQueue.push(data);
      stream.recvBytes += data.length;
    }
  }

  streamRead(stream: SmuxStream): void {
    stream.wantsData = true;
    while (stream.wantsData && stream.recvQueue.length > 0) {
      const data = stream.recvQueue.shift() as Buffer;
      stream.recvBytes -= data.length;
      stream.wantsData = stream.push(data);
      this.consumed(stream, data.length);
    }
    if (stream.recvQueue.length === 0 && stream.peerFin) this.pushEof(stream);
  }

  /** Bytes moved into a reader's buffer: back to the budget, and (v2) acknowledged to the peer. */
  private consumed(stream: SmuxStream, n: number): void {
    stream.bytesRead += n;
    this.returnTokens(n);
    if (this.config.version !== 2 || this.closed) return;
    stream.numRead = (stream.numRead + n) >>> 0;
    stream.readSinceUpd += n;
    // xtaci tryReadv2: acknowledge the first read, then every half window.
    if (stream.readSinceUpd >= this.config.maxStreamBuffer / 2 || stream.numRead === n) {
      stream.readSinceUpd = 0;
      this.ctrlQueue.push(
        encodeUpd(this.config.version, stream.id, stream.numRead, this.config.maxStreamBuffer),
      );
      this.flush();
    }
  }

  private returnTokens(n: number): void {
    this.bucket += n;
    if (this.carrierPaused && this.bucket > 0 && !this.resumeScheduled) {
      this.resumeScheduled = true;
      // Deferred: we are inside a reader's _read(); decoding now would re-enter its push().
      process.nextTick(this.resumeCarrier);
    }
  }

  private readonly resumeCarrier = (): void => {
    this.resumeScheduled = false;
    if (this.closed || !this.carrierPaused || !this.canRead()) return;
    this.carrierPaused = false;
    this.decodeFrames();
    if (this.carrierPaused || this.closed) return;
    if (this.byteSource !== undefined) this.byteSource.resumeReading();
    else this.carrier.resume();
  };

  // ---- sending --------------------------------------------------------------------------------

  streamRequestRead(stream: SmuxStream): void {
    if (stream.awaitingData && !stream.detached) this.dataArrived(stream);
  }

  streamWrite(stream: SmuxStream, chunk: Buffer, cb: (err?: Error | null) => void, head?: Buffer): void {
    // A reply means the request was read.
    if (stream.awaitingData) this.dataArrived(stream);
    if (this.closed || stream.detached) {
      cb(new TunnelError('ERR_SMUX_SESSION_CLOSED', 'smux: session is closed', { cause: this.closedWith }));
      return;
    }
    if (head !== undefined && head.length > 0) {
      // The head travels in the header buffer of the first frame, which must also carry a byte of the chunk.
      if (head.length <= HEADER_SIZE && head.length < this.config.maxFrameSize) stream.pendingHead = head;
      else chunk = Buffer.concat([head, chunk]);
    }
    if (chunk.length === 0) {
      cb();
      return;
    }
    stream.pendingChunk = chunk;
    stream.pendingOffset = 0;
    stream.pendingCb = cb;
    this.enqueueSend(stream);
    this.flush();
  }

  streamFinal(stream: SmuxStream): void {
    this.sendFin(stream);
    if (stream.peerFin) this.detach(stream);
  }

  streamDestroyed(stream: SmuxStream): void {
    this.clearFinWindowWait(stream);
    if (stream.pendingCb !== null) {
      const cb = stream.pendingCb;
      this.clearPending(stream);
      cb(new TunnelError('ERR_SMUX_STREAM_CLOSED', `smux: stream ${stream.id} destroyed`));
    }
    if (!this.closed) this.sendFin(stream);
    this.detach(stream);
    if (stream.recvBytes > 0) {
      const n = stream.recvBytes;
      stream.recvQueue = [];
      stream.recvBytes = 0;
      if (!this.closed) this.returnTokens(n);
    }
  }

  private sendFin(stream: SmuxStream): void {
    if (stream.finSent || this.closed) return;
    stream.finSent = true;
    this.ctrlQueue.push(encodeControl(this.config.version, CMD_FIN, stream.id));
    this.flush();
  }

  private detach(stream: SmuxStream): void {
    if (stream.detached) return;
    stream.detached = true;
    if (stream.awaitingData) this.dataArrived(stream);
    this.streams.delete(stream.id);
  }

  private clearPending(stream: SmuxStream): void {
    stream.pendingChunk = null;
    stream.pendingHead = null;
    stream.pendingCb = null;
    stream.pendingOffset = 0;
  }

  /** v2, peer FIN seen while blocked on window: wait `finWindowTimeout` for an update, then fail. */
  private armFinWindowWait(stream: SmuxStream): void {
    if (stream.finWindowTimer !== undefined) return;
    stream.finWindowTimer = setTimeout(() => {
      stream.finWindowTimer = undefined;
      const cb = stream.pendingCb;
      if (cb === null || this.windowLeft(stream) > 0) return;
      this.clearPending(stream);
      cb(
        new TunnelError(
          'ERR_SMUX_STREAM_CLOSED',
          `smux: stream ${stream.id} closed by peer while waiting for window`,
        ),
      );
    }, this.finWindowTimeout);
    stream.finWindowTimer.unref();
  }

  private clearFinWindowWait(stream: SmuxStream): void {
    clearTimeout(stream.finWindowTimer);
    stream.finWindowTimer = undefined;
  }

  /** The queued control frames, up to CONTROL_BATCH of them joined in one buffer (one carrier write). */
  private nextControls(): Buffer | undefined {
    if (this.refusals.length > 0) {
      const n = Math.min(this.refusals.length, CONTROL_BATCH);
      const out = Buffer.allocUnsafe(n * HEADER_SIZE);
      for (let i = 0; i < n; i++)
        writeHeader(out, i * HEADER_SIZE, this.config.version, CMD_FIN, 0, this.refusals[i] as number);
      this.refusals = n === this.refusals.length ? [] : this.refusals.slice(n);
      return out;
    }
    const first = this.nextControl();
    if (first === undefined || this.ctrlHead >= this.ctrlQueue.length) return first;
    const batch = [first];
    for (let f = this.nextControl(); f !== undefined; f = this.nextControl()) {
      batch.push(f);
      if (batch.length >= CONTROL_BATCH) break;
    }
    return Buffer.concat(batch);
  }

  private nextControl(): Buffer | undefined {
    if (this.ctrlHead >= this.ctrlQueue.length) return undefined;
    const frame = this.ctrlQueue[this.ctrlHead] as Buffer;
    this.ctrlHead += 1;
    if (this.ctrlHead === this.ctrlQueue.length) {
      this.ctrlQueue = [];
      this.ctrlHead = 0;
    } else if (this.ctrlHead > 1024 && this.ctrlHead * 2 > this.ctrlQueue.length) {
      this.ctrlQueue = this.ctrlQueue.slice(this.ctrlHead);
      this.ctrlHead = 0;
    }
    return frame;
  }

  private enqueueSend(stream: SmuxStream): void {
    if (stream.queuedForSend) return;
    stream.queuedForSend = true;
    this.sendRing.push(stream);
  }

  private nextSender(): SmuxStream | undefined {
    if (this.sendHead >= this.sendRing.length) {
      if (this.sendRing.length > 0) {
        this.sendRing = [];
        this.sendHead = 0;
      }
      return undefined;
    }
    const stream = this.sendRing[this.sendHead] as SmuxStream;
    this.sendHead += 1;
    if (this.sendHead > 1024 && this.sendHead * 2 > this.sendRing.length) {
      this.sendRing = this.sendRing.slice(this.sendHead);
      this.sendHead = 0;
    }
    stream.queuedForSend = false;
    return stream;
  }

  /** v2: how many bytes the peer's window still admits (xtaci writeV2, signed 32-bit arithmetic). */
  private windowLeft(stream: SmuxStream): number {
    if (this.config.version !== 2) return Infinity;
    const inflight = (stream.numWritten - stream.peerConsumed) | 0;
    return (stream.peerWindow | 0) - inflight;
  }

  private writeCarrier(head: Buffer, body?: Buffer): void {
    let ok: boolean;
    if (this.frameWriter !== undefined) ok = this.frameWriter.writeFrame(head, body);
    else ok = this.carrier.write(body === undefined ? head : Buffer.concat([head, body]));
    if (!ok) this.carrierFull = true;
  }

  private flush(): void {
    if (this.decoding) {
      this.flushDeferred = true;
      return;
    }
    if (this.flushing || this.closed) return;
    this.flushing = true;
    let done: ((err?: Error | null) => void)[] | undefined;
    this.frameWriter?.beginBatch?.();
    try {
      while (!this.carrierFull && !this.closed) {
        const ctrl = this.nextControls();
        if (ctrl !== undefined) {
          this.writeCarrier(ctrl);
          continue;
        }
        const stream = this.nextSender();
        if (stream === undefined) break;
        const chunk = stream.pendingChunk;
        if (chunk === null || stream.detached) continue;
        const inner = stream.pendingHead;
        const extra = inner === null ? 0 : inner.length;
        const room = this.windowLeft(stream) - extra;
        if (room <= 0) {
          if (stream.peerFin) this.armFinWindowWait(stream);
          continue; // resumed by the next UPD
        }
        const n = Math.min(this.config.maxFrameSize - extra, chunk.length - stream.pendingOffset, room);
        const start = stream.pendingOffset;
        writeHeader(this.pshHeader, 0, this.config.version, CMD_PSH, extra + n, stream.id);
        let head = this.pshHeader;
        if (inner !== null) {
          inner.copy(this.pshHeaderWide, HEADER_SIZE);
          head = this.pshHeaderWide.subarray(0, HEADER_SIZE + extra);
          stream.pendingHead = null;
        }
        this.writeCarrier(head, chunk.subarray(start, start + n));
        stream.numWritten = (stream.numWritten + extra + n) >>> 0;
        stream.bytesWritten += extra + n;
        stream.pendingOffset += n;
        if (stream.pendingOffset >= chunk.length) {
          (done ??= []).push(stream.pendingCb as (err?: Error | null) => void);
          this.clearPending(stream);
        } else {
          this.enqueueSend(stream);
        }
      }
    } finally {
      this.flushing = false;
      this.frameWriter?.endBatch?.();
    }
    if (done !== undefined) for (const cb of done) cb();
  }
}
