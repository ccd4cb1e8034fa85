import { ProtocolError } from '../../core/errors.js';
import { nativeXor } from './native-xor.js';

function jsUnmask(buffer: Buffer, mask: Buffer): void {
  for (let i = 0; i < buffer.length; i++) buffer[i] = (buffer[i] as number) ^ (mask[i & 3] as number);
}

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export interface FrameReaderHandlers {
  /** Payload bytes of a binary message, in order; fragment boundaries are not reported. */
  onData(payload: Buffer): void;
  /** A whole control frame (close, ping, pong). */
  onControl(opcode: number, payload: Buffer): void;
}

const enum State {
  Header,
  Payload,
}

/**
 * An incremental reader of RFC 6455 frames for a binary byte-stream tunnel: binary payloads are handed
 * on as they arrive, fragment by fragment and chunk by chunk, without joining a message first (smux
 * reads the WebSocket as a byte stream, so message boundaries carry no meaning). That spares the
 * reassembly copy of GOST's 4 KiB fragments and of messages that straddle socket reads. Masked
 * payloads are unmasked in place: the chunks are the reader's own.
 *
 * Only what a tunnel without extensions may receive is accepted; anything else (text, reserved bits,
 * bad opcodes or fragmentation, a mask on the wrong side, an oversized control frame) throws a
 * ProtocolError with its close code, after which the reader must not be used again.
 */
export class WsFrameReader {
  private readonly expectMasked: boolean;
  private readonly handlers: FrameReaderHandlers;
  private state = State.Header;
  /** Header bytes gathered so far (a header may straddle chunks). */
  private readonly header = Buffer.alloc(14);
  private headerHave = 0;
  private opcode = 0;
  private fin = false;
  private remaining = 0;
  private readonly maskKey = Buffer.alloc(4);
  private masked = false;
  /** Payload bytes of the current frame already unmasked (the key's phase). */
  private maskOffset = 0;
  /** A binary message is open (its later frames are continuations). */
  private inMessage = false;
  private control: Buffer[] = [];
  /** Bytes of the open message so far, bounded by maxMessage. */
  private messageBytes = 0;
  private readonly maxMessage: number;

  /**
   * @param expectMasked true on the server side (client frames must be masked), false on the client.
   * @param maxMessage largest message accepted, fragments summed (0: no limit); a larger one fails
   *   with close code 1009 before its payload is read, as `ws`' maxPayload does.
   */
  constructor(expectMasked: boolean, handlers: FrameReaderHandlers, maxMessage = 0) {
    this.expectMasked = expectMasked;
    this.handlers = handlers;
    this.maxMessage = maxMessage;
  }

  push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (this.state === State.Header) {
        off = this.readHeader(chunk, off);
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - off);
      const part = chunk.subarray(off, off + n);
      off += n;
      this.remaining -= n;
      if (this.masked) this.unmask(part);
      if (this.opcode === OP_BINARY || this.opcode === OP_CONTINUATION) {
        if (n > 0) this.handlers.onData(part);
      } else {
        this.control.push(part);
      }
      if (this.remaining === 0) this.endFrame();
    }
  }

  /** Gathers header bytes from `chunk` at `off`; returns the new offset. */
  private readHeader(chunk: Buffer, off: number): number {
    const h = this.header;
    while (this.headerHave < 2 && off < chunk.length) h[this.headerHave++] = chunk[off++] as number;
    if (this.headerHave < 2) return off;
    const b1 = h[1] as number;
    const lenCode = b1 & 0x7f;
    const need = 2 + (lenCode === 126 ? 2 : lenCode === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
    while (this.headerHave < need && off < chunk.length) h[this.headerHave++] = chunk[off++] as number;
    if (this.headerHave < need) return off;
    this.startFrame(need);
    this.headerHave = 0;
    return off;
  }

  private startFrame(headerLength: number): void {
    const h = this.header;
    const b0 = h[0] as number;
    const b1 = h[1] as number;
    if ((b0 & 0x70) !== 0) throw fail(1002, 'reserved bits set (no extension was negotiated)');
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    this.masked = (b1 & 0x80) !== 0;
    if (this.masked !== this.expectMasked) {
      throw fail(1002, this.expectMasked ? 'client frame not masked' : 'server frame masked');
    }
    let length = b1 & 0x7f;
    let at = 2;
    if (length === 126) {
      length = h.readUInt16BE(2);
      at = 4;
    } else if (length === 127) {
      const high = h.readUInt32BE(2);
      // Lengths past 2^53 cannot be counted exactly; no tunnel frame comes near.
      if (high > 0x1fffff) throw fail(1009, 'frame length too large');
      length = high * 2 ** 32 + h.readUInt32BE(6);
      at = 10;
    }
    if (this.masked) h.copy(this.maskKey, 0, at, headerLength);
    this.remaining = length;
    this.maskOffset = 0;

    switch (this.opcode) {
      case OP_BINARY:
        if (this.inMessage) throw fail(1002, 'new message inside a fragmented one');
        this.inMessage = !this.fin;
        this.messageBytes = length;
        this.checkMessageSize();
        break;
      case OP_CONTINUATION:
        if (!this.inMessage) throw fail(1002, 'continuation without a message');
        if (this.fin) this.inMessage = false;
        this.messageBytes += length;
        this.checkMessageSize();
        break;
      case OP_TEXT:
        throw new WsFrameError('ERR_WS_TEXT_MESSAGE', 'websocket: text message on a binary tunnel', 1003);
      case OP_CLOSE:
      case OP_PING:
      case OP_PONG:
        if (!this.fin) throw fail(1002, 'fragmented control frame');
        if (length > 125) throw fail(1002, 'control frame longer than 125 bytes');
        this.control = [];
        break;
      default:
        throw fail(1002, `unknown opcode ${this.opcode}`);
    }
    this.state = State.Payload;
    if (length === 0) this.endFrame();
  }

  private checkMessageSize(): void {
    if (this.maxMessage > 0 && this.messageBytes > this.maxMessage) {
      throw fail(1009, `message larger than ${this.maxMessage} bytes`);
    }
  }

  private endFrame(): void {
    this.state = State.Header;
    if (this.opcode >= OP_CLOSE) {
      const payload = this.control.length === 1 ? (this.control[0] as Buffer) : Buffer.concat(this.control);
      this.control = [];
      this.handlers.onControl(this.opcode, payload);
    }
  }

  private unmask(part: Buffer): void {
    const phase = this.maskOffset & 3;
    this.maskOffset += part.length;
    const k = this.maskKey;
    const key =
      phase === 0
        ? k
        : Buffer.from([k[phase & 3], k[(phase + 1) & 3], k[(phase + 2) & 3], k[(phase + 3) & 3]] as number[]);
    if (nativeXor !== undefined && part.length >= 32) nativeXor.unmask(part, key);
    else jsUnmask(part, key);
  }
}

/** A frame the tunnel cannot accept; `closeCode` is what the Close frame back should say. */
export class WsFrameError extends ProtocolError {
  readonly closeCode: number;
  constructor(code: 'ERR_WS_PROTOCOL' | 'ERR_WS_TEXT_MESSAGE', message: string, closeCode: number) {
    super(code, message);
    this.name = 'WsFrameError';
    this.closeCode = closeCode;
  }
}

function fail(closeCode: number, what: string): WsFrameError {
  return new WsFrameError('ERR_WS_PROTOCOL', `websocket: ${what}`, closeCode);
}
