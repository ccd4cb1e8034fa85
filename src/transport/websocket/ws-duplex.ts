import { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { Socket } from 'node:net';
import { ProtocolError, TunnelError } from '../../core/errors.js';
import { encodeBinaryMessage } from './frame-writer.js';
import { OP_CLOSE, OP_PING, OP_PONG, WsFrameError, WsFrameReader } from './frame-reader.js';

/** What the adapter needs of the connection under the WebSocket: a Duplex, with addresses if known. */
export type CarrierSocket = Duplex & {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
};

export interface WebSocketDuplexOptions {
  /** The byte connection under `ws` (TCP, TLS, or a tunnel stream), watched for 'drain' (ws has none). */
  socket: CarrierSocket;
  /** Bytes read ahead before the socket is paused. Default 64 KiB. */
  readBufferSize?: number | undefined;
  /** Bytes queued in the socket and ws sender before writes wait. Default 256 KiB. */
  writeHighWaterMark?: number | undefined;
  /**
   * When set, messages longer than this go out as continuation fragments of at most this many
   * bytes: the wire shape of gorilla's client buffer (GOST's `writeBufferSize`, 4096 by default there).
   * Unset: one frame per message, which is faster.
   */
  fragmentSize?: number | undefined;
  /**
   * Join small writes that queue up while the socket is busy into one message (smux reads the
   * WebSocket as a byte stream, so GOST accepts this). Default true.
   */
  coalesce?: boolean | undefined;
  /** Send a ping this often (ms) and fail when no pong arrives within twice that. 0 = off. */
  pingInterval?: number | undefined;
  /** Client side: frames are masked (RFC 6455). */
  masked?: boolean | undefined;
  /**
   * Read frames straight off the socket (WsFrameReader) instead of through `ws`' message assembly,
   * when no extension was negotiated. Default true.
   */
  directReceive?: boolean | undefined;
  /** Largest message read directly (fragments summed); larger closes with 1009. Default 1 MiB, as `ws` here. */
  maxPayload?: number | undefined;
}

/** Largest message built by coalescing small frames. */
const COALESCE_LIMIT = 64 * 1024;

/**
 * Frames up to this size (control frames, requests, short replies) are held in the corked socket
 * until the event loop finishes its current phase, so the many small frames of many short
 * connections leave in one writev; a larger frame sends everything held at once.
 */
const SMALL_FRAME = 2048;

/**
 * A WebSocket as a byte Duplex, the way GOST's `internal/util/ws` uses it: each write is one binary
 * message; reads return message payloads back to back, so message boundaries carry no meaning.
 *
 * Text messages are rejected (close 1003): GOST never sends them and nothing in an smux carrier
 * should arrive as text. Empty messages are skipped.
 *
 * Ending the writable side closes the connection the way GOST does (TCP close, no Close frame
 * handshake to wait on); the readable side ends when the peer goes away.
 */
export class WebSocketDuplex extends Duplex {
  readonly ws: WebSocket;
  readonly socket: CarrierSocket;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;

  private readonly writeLimit: number;
  private readonly fragmentSize: number;
  private readonly coalesce: boolean;
  private readonly masked: boolean;
  private frameDrainPending = false;
  /** The socket is corked by us (one level); released at once, at batch end, or at setImmediate. */
  private holding = false;
  private releaseScheduled = false;
  private batching = false;
  private releaseAtBatchEnd = false;
  private waitingWrite: (() => void) | undefined;
  /** Set when frames are read off the socket directly; `ws` then only writes. */
  private reader: WsFrameReader | undefined;
  private readPaused = false;
  /** Set by readDirect(): payloads go here instead of through the Readable side. */
  private sink: ((chunk: Buffer) => void) | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongDeadline: NodeJS.Timeout | undefined;

  constructor(ws: WebSocket, opts: WebSocketDuplexOptions) {
    super({
      allowHalfOpen: false,
      readableHighWaterMark: opts.readBufferSize ?? 65_536,
      writableHighWaterMark: 65_536,
    });
    this.ws = ws;
    this.socket = opts.socket;
    this.remoteAddress = opts.socket.remoteAddress;
    this.remotePort = opts.socket.remotePort;
    this.localAddress = opts.socket.localAddress;
    this.localPort = opts.socket.localPort;
    this.writeLimit = opts.writeHighWaterMark ?? 256 * 1024;
    this.fragmentSize = opts.fragmentSize ?? 0;
    this.coalesce = opts.coalesce ?? true;
    this.masked = opts.masked ?? false;

    ws.binaryType = 'nodebuffer';
    ws.on('message', this.wsOnMessage);
    ws.on('close', this.wsOnClose);
    ws.on('error', this.wsOnError);
    this.socket.on('drain', this.socketOnDrain);
    if (opts.directReceive ?? true) this.takeOverReads(opts.maxPayload ?? 1024 * 1024);

    const ping = opts.pingInterval ?? 0;
    if (ping > 0) this.startPings(ping);
  }

  private readonly wsOnMessage = (data: Buffer, isBinary: boolean): void => {
    if (!isBinary) {
      this.fail(new ProtocolError('ERR_WS_TEXT_MESSAGE', 'websocket: text message on a binary tunnel'), 1003);
      return;
    }
    if (data.length === 0) return;
    if (!this.push(data)) this.ws.pause();
  };

  /**
   * Moves reading from `ws` to a WsFrameReader on the socket. Only right after the handshake (nothing
   * parsed or buffered in `ws` yet, `ws` the socket's only reader) and without extensions (a
   * compressed message must be inflated whole); otherwise `ws` keeps reading.
   */
  private takeOverReads(maxPayload: number): void {
    const receiver = (this.ws as unknown as { _receiver?: { _bufferedBytes?: unknown } })._receiver;
    const readers = this.socket.listeners('data');
    if (this.ws.extensions !== '' || receiver?._bufferedBytes !== 0 || readers.length !== 1) return;
    this.socket.removeListener('data', readers[0] as (chunk: Buffer) => void);
    this.ws.off('message', this.wsOnMessage);
    this.reader = new WsFrameReader(
      !this.masked,
      {
        onData: this.readerOnData,
        onControl: this.readerOnControl,
      },
      maxPayload,
    );
    this.socket.on('data', this.socketOnData);
  }

  private readonly socketOnData = (chunk: Buffer): void => {
    if (this.destroyed) return;
    try {
      (this.reader as WsFrameReader).push(chunk);
    } catch (err) {
      this.fail(err as Error, err instanceof WsFrameError ? err.closeCode : 1002);
    }
  };

  private readonly readerOnData = (payload: Buffer): void => {
    if (this.sink !== undefined) {
      this.sink(payload);
      return;
    }
    if (!this.push(payload) && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
  };

  /**
   * ByteSource: hands every received payload to `onData` as it is read, skipping the Readable side
   * (one consumer, the smux session, needs no stream buffering); the consumer applies backpressure
   * with pauseReading()/resumeReading(). Only possible while frames are read directly and nothing
   * has been buffered yet; returns false otherwise. The Readable side then only reports the end.
   */
  readDirect(onData: (chunk: Buffer) => void): boolean {
    if (this.reader === undefined || this.sink !== undefined || this.readableLength > 0) return false;
    this.sink = onData;
    this.resume(); // flowing with nothing but the final null, so 'end' is emitted
    return true;
  }

  pauseReading(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    this.socket.resume();
  }

  private readonly readerOnControl = (opcode: number, payload: Buffer): void => {
    if (opcode === OP_PING) {
      // Our writes stop at writeLimit; beyond a few times that, only pongs to a peer that pings
      // without reading can be queued (ws caps such pongs as well).
      if (this.socket.writableLength > 4 * this.writeLimit) {
        throw new WsFrameError(
          'ERR_WS_PROTOCOL',
          'websocket: ping flood from a peer that does not read',
          1008,
        );
      }
      if (this.ws.readyState === this.ws.OPEN) this.ws.pong(payload, this.masked);
    } else if (opcode === OP_PONG) {
      this.ws.emit('pong', payload); // the keepalive listens on ws
    } else if (opcode === OP_CLOSE) {
      if (payload.length === 1) throw new WsFrameError('ERR_WS_PROTOCOL', 'websocket: bad close frame', 1002);
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      // Answer as gorilla and ws do, then go: the peer is closing the connection anyway.
      if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
      this.wsOnClose(code);
    }
  };

  private readonly wsOnClose = (code: number): void => {
    this.stopPings();
    if (this.destroyed) return;
    if (!this.readableEnded) this.push(null);
    // The carrier is gone: nothing more can be written either.
    if (code === 1000 || code === 1005 || code === 1006) this.destroy();
    else this.destroy(new TunnelError('ERR_WS_CLOSED', `websocket: closed with code ${code}`));
  };

  private readonly wsOnError = (err: Error): void => {
    this.destroy(err);
  };

  /**
   * Called by ws once a message reached the socket. With compression the backlog sits in ws' sender
   * rather than the socket, so socket 'drain' alone would not wake a waiting writer.
   */
  private readonly messageSent = (): void => {
    this.wakeWriter();
  };

  private readonly socketOnDrain = (): void => {
    this.wakeWriter();
    if (this.frameDrainPending && this.socket.writableLength < this.writeLimit) {
      this.frameDrainPending = false;
      this.emit('drain');
    }
  };

  /**
   * Sends `head` + `body` as one binary message, written straight to the socket: no copy of `body`
   * unmasked, one masking copy masked (ws' sender would copy once more to join the two). `head` is
   * copied before returning, so the caller may reuse it. Returns false when the caller should wait
   * for 'drain'.
   *
   * Compression and gorilla-style fragmentation need ws' sender, and anything already queued on the
   * Writable side must go first: those cases take the ordinary write path.
   */
  writeFrame(head: Buffer, body?: Buffer): boolean {
    if (this.destroyed || this.writableEnded || this.ws.readyState !== this.ws.OPEN) return false;
    if (this.fragmentSize > 0 || this.ws.extensions !== '' || this.writableLength > 0) {
      return this.write(body !== undefined ? Buffer.concat([head, body]) : Buffer.from(head));
    }
    const parts = encodeBinaryMessage(head, body, this.masked);
    if (typeof (this.socket as Partial<Socket>).cork !== 'function') {
      for (const part of parts) this.socket.write(part);
    } else if (head.length + (body?.length ?? 0) <= SMALL_FRAME) {
      this.hold();
      if (!this.releaseScheduled) {
        this.releaseScheduled = true;
        setImmediate(this.releaseSmall);
      }
      for (const part of parts) this.socket.write(part);
    } else {
      // Header and payload, and whatever is held, in one writev; in a batch, with the batch's frames.
      this.hold();
      for (const part of parts) this.socket.write(part);
      if (this.batching) this.releaseAtBatchEnd = true;
      else this.release();
    }
    if (this.socket.writableLength < this.writeLimit) return true;
    this.frameDrainPending = true;
    return false;
  }

  /**
   * FrameWriter batches: the frames written between beginBatch() and endBatch() (one flush of the
   * smux session) leave in one writev rather than one each.
   */
  beginBatch(): void {
    this.batching = true;
  }

  endBatch(): void {
    this.batching = false;
    if (this.releaseAtBatchEnd) {
      this.releaseAtBatchEnd = false;
      this.release();
    }
  }

  private hold(): void {
    if (this.holding) return;
    this.holding = true;
    (this.socket as Socket).cork();
  }

  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    (this.socket as Socket).uncork();
  }

  private readonly releaseSmall = (): void => {
    this.releaseScheduled = false;
    if (!this.batching) this.release();
  };

  private wakeWriter(): void {
    if (this.waitingWrite !== undefined && this.ws.bufferedAmount < this.writeLimit) {
      const cb = this.waitingWrite;
      this.waitingWrite = undefined;
      cb();
    }
  }

  private fail(err: Error, code: number): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, err.message.slice(0, 120));
    this.destroy(err);
  }

  override _read(): void {
    if (this.sink !== undefined) return; // the sink's owner decides when to read
    if (this.reader !== undefined) {
      if (this.readPaused) {
        this.readPaused = false;
        this.socket.resume();
      }
    } else if (this.ws.isPaused) {
      this.ws.resume();
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sendMessage(chunk, cb);
  }

  override _writev(chunks: { chunk: Buffer }[], cb: (err?: Error | null) => void): void {
    if (!this.coalesce) {
      for (let i = 0; i < chunks.length - 1; i++) this.sendRaw((chunks[i] as { chunk: Buffer }).chunk);
      this.sendMessage((chunks[chunks.length - 1] as { chunk: Buffer }).chunk, cb);
      return;
    }
    // Build messages of up to COALESCE_LIMIT from the queued writes; a large write stays alone.
    let group: Buffer[] = [];
    let groupBytes = 0;
    const emit = (): void => {
      if (group.length === 0) return;
      this.sendRaw(group.length === 1 ? (group[0] as Buffer) : Buffer.concat(group, groupBytes));
      group = [];
      groupBytes = 0;
    };
    for (const { chunk } of chunks) {
      if (groupBytes + chunk.length > COALESCE_LIMIT) emit();
      group.push(chunk);
      groupBytes += chunk.length;
    }
    const last = group.length === 1 ? (group[0] as Buffer) : Buffer.concat(group, groupBytes);
    this.sendMessage(last, cb);
  }

  private sendRaw(data: Buffer): void {
    if (this.fragmentSize > 0 && data.length > this.fragmentSize) {
      for (let off = 0; off < data.length; off += this.fragmentSize) {
        const end = Math.min(off + this.fragmentSize, data.length);
        this.ws.send(data.subarray(off, end), { binary: true, fin: end === data.length }, this.messageSent);
      }
    } else {
      this.ws.send(data, { binary: true }, this.messageSent);
    }
  }

  private sendMessage(data: Buffer, cb: (err?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) {
      cb(new TunnelError('ERR_WS_CLOSED', 'websocket: connection is not open'));
      return;
    }
    this.sendRaw(data);
    if (this.ws.bufferedAmount < this.writeLimit) {
      cb();
    } else {
      this.waitingWrite = () => cb();
    }
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.stopPings();
    // GOST never sends a Close frame: ending the session just closes TCP once queued data is out.
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.stopPings();
    this.ws.off('message', this.wsOnMessage);
    this.socket.off('drain', this.socketOnDrain);
    this.socket.off('data', this.socketOnData);
    const waiting = this.waitingWrite;
    this.waitingWrite = undefined;
    if (waiting !== undefined) waiting();
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    cb(err);
  }

  /** GOST dialer keepalive: ping every `interval`; only a pong extends the 2 x interval deadline. */
  private startPings(interval: number): void {
    const armDeadline = (): void => {
      clearTimeout(this.pongDeadline);
      this.pongDeadline = setTimeout(() => {
        this.fail(
          new TunnelError('ERR_WS_PING_TIMEOUT', `websocket: no pong within ${2 * interval} ms`),
          1001,
        );
      }, 2 * interval);
      this.pongDeadline.unref();
    };
    armDeadline();
    this.ws.on('pong', armDeadline);
    this.pingTimer = setInterval(() => {
      if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
    }, interval);
    this.pingTimer.unref();
  }

  private stopPings(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongDeadline);
  }
}
