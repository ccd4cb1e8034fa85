import type { Carrier } from './carrier.js';
import {
  CMD_FIN,
  CMD_NOP,
  CMD_PSH,
  CMD_SYN,
  CMD_UPD,
  FrameDecoder,
  encodeControl,
  encodePsh,
  encodeUpd,
  type Frame,
} from './frame.js';

/** smux settings (xtaci/smux `Config`; ms and bytes). Both ends must use the same version. */
export interface SmuxSettings {
  version: 1 | 2;
  keepAliveInterval: number;
  keepAliveTimeout: number;
  maxFrameSize: number;
  maxReceiveBuffer: number;
  maxStreamBuffer: number;
}

/** xtaci/smux `initialPeerWindow`: what a v2 sender assumes before the first UPD. */
const INITIAL_PEER_WINDOW = 262_144;
const MAX_STREAM_ID = 0xffffffff;

/** One smux stream's state; the page sees it as a ReadableStream and a WritableStream. */
export class StreamState {
  readonly id: number;
  /** Received, not yet handed to the reader (counted against the session's budget). */
  readonly queue: Uint8Array[] = [];
  /** Bytes put back after the CONNECT reply head (already counted as read). */
  prefix: Uint8Array | undefined;
  peerFin = false;
  localFin = false;
  /** The page cancelled its reader: what arrives is dropped. */
  discard = false;
  numRead = 0;
  readSinceUpd = 0;
  numWritten = 0;
  peerConsumed = 0;
  peerWindow = INITIAL_PEER_WINDOW;
  /** Woken when data, FIN, a window update or an error arrives (a reader and a writer may both wait). */
  private waiters: (() => void)[] = [];

  constructor(id: number) {
    this.id = id;
  }

  wake(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  wait(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }
}

/**
 * The client side of an smux session (xtaci/smux v1.5) on a browser WebSocket: opens streams,
 * delivers their data on demand, and keeps the session alive.
 *
 * Flow control as xtaci: a session-wide budget of received-but-unread bytes (when spent, the
 * session stops reading the WebSocket: with WebSocketStream that stops the network too), and in v2
 * a per-stream window acknowledged with UPD as the page reads, so one slow reader holds back only
 * its own stream.
 */
export class SmuxClientSession {
  readonly config: SmuxSettings;
  private readonly carrier: Carrier;
  private readonly decoder: FrameDecoder;
  private readonly streams = new Map<number, StreamState>();
  private nextId = 1;
  private bucket: number;
  private tokenWaiter: (() => void) | undefined;
  private sendChain: Promise<void> = Promise.resolve();
  private dataReady = false;
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private failure: Error | undefined;
  private settle!: { resolve: () => void; reject: (err: Error) => void };
  /** Settles when the session ends: resolves after close(), rejects with the reason otherwise. */
  readonly closed: Promise<void>;

  constructor(carrier: Carrier, config: SmuxSettings) {
    this.carrier = carrier;
    this.config = config;
    this.decoder = new FrameDecoder(config.version);
    this.bucket = config.maxReceiveBuffer;
    this.closed = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    this.closed.catch(() => undefined);
    this.timers.push(
      setInterval(
        () => void this.send(encodeControl(config.version, CMD_NOP, 0)).catch(() => undefined),
        config.keepAliveInterval,
      ),
      setInterval(() => {
        // As xtaci: silence only counts while we are reading (not while the page holds us back).
        if (!this.dataReady && this.bucket > 0)
          this.fail(new Error('mws: keepalive timeout (no frame from the server)'));
        this.dataReady = false;
      }, config.keepAliveTimeout),
    );
    void this.readLoop();
  }

  /** Why the session ended, once it has. */
  get error(): Error | undefined {
    return this.failure;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  openStream(): StreamState {
    if (this.failure) throw this.failure;
    const id = this.nextId + 2;
    if (id > MAX_STREAM_ID) throw new Error('mws: stream ids exhausted; open a new tunnel');
    this.nextId = id;
    const st = new StreamState(id);
    this.streams.set(id, st);
    void this.send(encodeControl(this.config.version, CMD_SYN, id)).catch(() => undefined);
    return st;
  }

  /** Sends `data` on the stream, frame by frame, waiting for the peer's window in v2. */
  async write(st: StreamState, data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (this.failure) throw this.failure;
      if (st.localFin) throw new Error('mws: write after close');
      let n = Math.min(this.config.maxFrameSize, data.length - off);
      if (this.config.version === 2) {
        const inflight = (st.numWritten - st.peerConsumed) >>> 0;
        const win = st.peerWindow - inflight;
        if (win <= 0) {
          await st.wait();
          continue;
        }
        n = Math.min(n, win);
      }
      const piece = data.subarray(off, off + n);
      off += n;
      st.numWritten = (st.numWritten + n) >>> 0;
      await this.send(encodePsh(this.config.version, st.id, piece));
    }
  }

  /** The next chunk for the reader, or null at the end of the stream. Counts it as read. */
  async take(st: StreamState): Promise<Uint8Array | null> {
    for (;;) {
      if (st.prefix !== undefined) {
        const p = st.prefix;
        st.prefix = undefined;
        return p;
      }
      const chunk = st.queue.shift();
      if (chunk !== undefined) {
        this.consumed(st, chunk.length);
        return chunk;
      }
      if (this.failure) throw this.failure;
      if (st.peerFin) {
        // No half-close through GOST (its relay ends both directions): the stream is over, so
        // answer the FIN as xtaci's Close would, even if the page never closes its writable.
        this.finish(st);
        this.forgetIfDone(st);
        return null;
      }
      await st.wait();
    }
  }

  /** This side is done writing: FIN (xtaci has no half-close; GOST ends both directions). */
  finish(st: StreamState): void {
    if (st.localFin || this.failure) return;
    st.localFin = true;
    void this.send(encodeControl(this.config.version, CMD_FIN, st.id)).catch(() => undefined);
    this.forgetIfDone(st);
  }

  /** The reader is gone: drop what is queued and whatever still comes; FIN if not yet sent. */
  cancel(st: StreamState): void {
    st.discard = true;
    let n = 0;
    for (const c of st.queue.splice(0)) n += c.length;
    this.returnTokens(n);
    this.finish(st);
    st.peerFin = true;
    this.forgetIfDone(st);
  }

  /** Ends the session (from the page): every stream fails with "session closed". */
  close(): void {
    this.shutdown(new Error('mws: session closed'), true);
  }

  private fail(err: Error): void {
    // The browser's own messages ("WebSocket was not cleanly closed.") say nothing about mws.
    this.shutdown(
      err.message.startsWith('mws: ') ? err : new Error(`mws: session lost: ${err.message}`, { cause: err }),
      false,
    );
  }

  private shutdown(err: Error, byUser: boolean): void {
    if (this.failure) return;
    this.failure = err;
    for (const t of this.timers) clearInterval(t);
    for (const st of this.streams.values()) st.wake();
    this.streams.clear();
    this.tokenWaiter?.();
    this.carrier.close(err.message);
    if (byUser) this.settle.resolve();
    else this.settle.reject(err);
  }

  private forgetIfDone(st: StreamState): void {
    if (st.localFin && st.peerFin && st.queue.length === 0) this.streams.delete(st.id);
  }

  private send(frame: Uint8Array): Promise<void> {
    const next = this.sendChain.then(() => {
      if (this.failure) throw this.failure;
      return this.carrier.write(frame);
    });
    this.sendChain = next.catch((err: unknown) =>
      this.fail(err instanceof Error ? err : new Error(String(err))),
    );
    return next;
  }

  private async readLoop(): Promise<void> {
    try {
      for (;;) {
        while (this.bucket <= 0 && !this.failure) await new Promise<void>((r) => (this.tokenWaiter = r));
        if (this.failure) return;
        const msg = await this.carrier.read();
        if (msg === null) throw new Error('mws: connection closed by the server');
        this.dataReady = true;
        this.decoder.push(msg);
        for (let f = this.decoder.next(); f !== undefined; f = this.decoder.next()) this.handle(f);
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private handle(f: Frame): void {
    const st = this.streams.get(f.sid);
    switch (f.cmd) {
      case CMD_NOP:
        return;
      case CMD_SYN:
        // GOST's server never opens streams towards a client; refuse one if it did.
        void this.send(encodeControl(this.config.version, CMD_FIN, f.sid)).catch(() => undefined);
        return;
      case CMD_FIN:
        if (st === undefined) return;
        st.peerFin = true;
        st.wake();
        this.forgetIfDone(st);
        return;
      case CMD_PSH: {
        const data = f.data as Uint8Array;
        this.bucket -= data.length;
        if (st === undefined || st.discard) {
          this.returnTokens(data.length);
          return;
        }
        st.queue.push(data);
        st.wake();
        return;
      }
      case CMD_UPD:
        if (st === undefined) return;
        st.peerConsumed = f.consumed ?? 0;
        st.peerWindow = f.window ?? 0;
        st.wake();
        return;
    }
  }

  private consumed(st: StreamState, n: number): void {
    this.returnTokens(n);
    if (this.config.version !== 2 || this.failure) return;
    st.numRead = (st.numRead + n) >>> 0;
    st.readSinceUpd += n;
    // xtaci tryReadv2: acknowledge the first read, then every half window.
    if (st.readSinceUpd >= this.config.maxStreamBuffer / 2 || st.numRead === n) {
      st.readSinceUpd = 0;
      void this.send(encodeUpd(2, st.id, st.numRead, this.config.maxStreamBuffer)).catch(() => undefined);
    }
  }

  private returnTokens(n: number): void {
    this.bucket += n;
    if (this.bucket > 0) {
      const w = this.tokenWaiter;
      this.tokenWaiter = undefined;
      w?.();
    }
  }
}
