import { ProtocolError } from '../../core/errors.js';
import { CMD_FIN, CMD_NOP, CMD_PSH, CMD_SYN, CMD_UPD, HEADER_SIZE, UPD_SIZE, type Frame } from './frame.js';

const EMPTY = Buffer.alloc(0);

/**
 * Incremental smux frame decoder. Bytes go in with `push()` in chunks of any size (WebSocket message
 * boundaries mean nothing to smux); `next()` yields one complete frame at a time, so the session can
 * stop between frames when its receive budget is spent (xtaci `recvLoop` checks the bucket before
 * each header).
 *
 * Strictness, per xtaci/smux: a version byte other than the session's or a command above UPD is
 * fatal. SYN/FIN/NOP with a non-zero length are fatal too: xtaci would silently desynchronise there,
 * so failing fast is the only safe reading. A UPD always consumes 8 payload bytes.
 */
export class FrameDecoder {
  private readonly version: number;
  private chunks: Buffer[] = [];
  /** Read offset into chunks[0]. */
  private offset = 0;
  private available = 0;
  private readonly scratch = Buffer.allocUnsafe(HEADER_SIZE + UPD_SIZE);
  /** Whether a PSH for this stream id is wanted; the payload of one that is not is skipped unread. */
  private readonly wants: ((sid: number) => boolean) | undefined;

  constructor(version: number, wants?: (sid: number) => boolean) {
    this.version = version;
    this.wants = wants;
  }

  /** Bytes received but not yet decoded. */
  get bufferedBytes(): number {
    return this.available;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
  }

  /**
   * The next complete frame, or undefined when more bytes are needed.
   * @throws ProtocolError on a bad version, command or length; the decoder is then unusable.
   */
  next(): Frame | undefined {
    if (this.available < HEADER_SIZE) return undefined;
    // Read in place when the header lies in one chunk: no view object per frame.
    const first = this.chunks[0] as Buffer;
    const inPlace = first.length - this.offset >= HEADER_SIZE;
    const hdr = inPlace ? first : this.copyOut(HEADER_SIZE, this.scratch);
    const at = inPlace ? this.offset : 0;
    const version = hdr[at] ?? 0;
    const cmd = hdr[at + 1] ?? 0;
    const length = hdr.readUInt16LE(at + 2);
    const sid = hdr.readUInt32LE(at + 4);
    if (version !== this.version) {
      throw new ProtocolError(
        'ERR_SMUX_BAD_VERSION',
        `smux: invalid protocol version ${version} (expected ${this.version})`,
      );
    }
    switch (cmd) {
      case CMD_SYN:
      case CMD_FIN:
      case CMD_NOP:
        if (length !== 0) {
          throw new ProtocolError(
            'ERR_SMUX_BAD_LENGTH',
            `smux: command ${cmd} with non-zero length ${length}`,
          );
        }
        this.discard(HEADER_SIZE);
        return { version, cmd, sid };
      case CMD_UPD: {
        if (this.available < HEADER_SIZE + UPD_SIZE) return undefined;
        const upd = this.peek(HEADER_SIZE + UPD_SIZE);
        const consumed = upd.readUInt32LE(HEADER_SIZE);
        const window = upd.readUInt32LE(HEADER_SIZE + 4);
        this.discard(HEADER_SIZE + UPD_SIZE);
        return { version, cmd, sid, consumed, window };
      }
      case CMD_PSH: {
        if (this.available < HEADER_SIZE + length) return undefined;
        this.discard(HEADER_SIZE);
        if (length === 0) return { version, cmd, sid, data: EMPTY };
        // Data for a stream that is gone (refused, closed) is dropped without making a view of it.
        if (this.wants !== undefined && !this.wants(sid)) {
          this.discard(length);
          return { version, cmd, sid, data: EMPTY };
        }
        return { version, cmd, sid, data: this.take(length) };
      }
      default:
        throw new ProtocolError('ERR_SMUX_BAD_COMMAND', `smux: invalid command ${cmd}`);
    }
  }

  /** The first n buffered bytes, without consuming them (a view when contiguous). */
  private peek(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    return this.copyOut(n, this.scratch);
  }

  private copyOut(n: number, into: Buffer): Buffer {
    let copied = 0;
    let idx = 0;
    let off = this.offset;
    while (copied < n) {
      const c = this.chunks[idx] as Buffer;
      const len = Math.min(c.length - off, n - copied);
      c.copy(into, copied, off, off + len);
      copied += len;
      idx += 1;
      off = 0;
    }
    return into.subarray(0, n);
  }

  /** Consumes n bytes: a zero-copy view when they lie in one chunk, else a fresh buffer. */
  private take(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    let out: Buffer;
    if (first.length - this.offset >= n) {
      out = first.subarray(this.offset, this.offset + n);
    } else {
      out = this.copyOut(n, Buffer.allocUnsafe(n));
    }
    this.discard(n);
    return out;
  }

  private discard(n: number): void {
    this.available -= n;
    while (n > 0) {
      const first = this.chunks[0] as Buffer;
      const rest = first.length - this.offset;
      if (rest > n) {
        this.offset += n;
        return;
      }
      n -= rest;
      this.chunks.shift();
      this.offset = 0;
    }
    if (this.chunks.length > 0 && (this.chunks[0] as Buffer).length === this.offset) {
      this.chunks.shift();
      this.offset = 0;
    }
  }
}
