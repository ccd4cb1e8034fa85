/**
 * smux frames (xtaci/smux `frame.go`) on plain Uint8Array/DataView, for the browser: an 8-byte
 * header (version u8, cmd u8, length u16 LE, stream id u32 LE), then the payload.
 */
export const HEADER_SIZE = 8;
export const CMD_SYN = 0;
export const CMD_FIN = 1;
export const CMD_PSH = 2;
export const CMD_NOP = 3;
export const CMD_UPD = 4;
/** A v2 window update payload: consumed u32 LE + window u32 LE. */
export const UPD_SIZE = 8;

export interface Frame {
  cmd: number;
  sid: number;
  /** PSH payload. */
  data?: Uint8Array;
  /** UPD fields. */
  consumed?: number;
  window?: number;
}

function header(version: number, cmd: number, length: number, sid: number, extra = 0): Uint8Array {
  const buf = new Uint8Array(HEADER_SIZE + extra);
  const view = new DataView(buf.buffer);
  view.setUint8(0, version);
  view.setUint8(1, cmd);
  view.setUint16(2, length, true);
  view.setUint32(4, sid >>> 0, true);
  return buf;
}

/** SYN, FIN or NOP. */
export function encodeControl(version: number, cmd: number, sid: number): Uint8Array {
  return header(version, cmd, 0, sid);
}

/** One PSH frame (header + a copy of `payload`, at most 65535 bytes). */
export function encodePsh(version: number, sid: number, payload: Uint8Array): Uint8Array {
  const buf = header(version, CMD_PSH, payload.length, sid, payload.length);
  buf.set(payload, HEADER_SIZE);
  return buf;
}

/** v2: "`consumed` bytes read in all (mod 2^32), `window` offered". */
export function encodeUpd(version: number, sid: number, consumed: number, window: number): Uint8Array {
  const buf = header(version, CMD_UPD, UPD_SIZE, sid, UPD_SIZE);
  const view = new DataView(buf.buffer);
  view.setUint32(HEADER_SIZE, consumed >>> 0, true);
  view.setUint32(HEADER_SIZE + 4, window >>> 0, true);
  return buf;
}

/**
 * Incremental decoder: WebSocket messages go in as they come (their boundaries mean nothing to
 * smux), complete frames come out. A wrong version or an unknown command throws: the session is
 * then unusable, as in xtaci/smux.
 */
export class FrameDecoder {
  private readonly version: number;
  private buf: Uint8Array = new Uint8Array(0);
  private off = 0;

  constructor(version: number) {
    this.version = version;
  }

  push(chunk: Uint8Array): void {
    const rest = this.buf.length - this.off;
    if (rest === 0) {
      this.buf = chunk;
    } else {
      const joined = new Uint8Array(rest + chunk.length);
      joined.set(this.buf.subarray(this.off));
      joined.set(chunk, rest);
      this.buf = joined;
    }
    this.off = 0;
  }

  next(): Frame | undefined {
    const avail = this.buf.length - this.off;
    if (avail < HEADER_SIZE) return undefined;
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.off, avail);
    const version = view.getUint8(0);
    const cmd = view.getUint8(1);
    const length = view.getUint16(2, true);
    const sid = view.getUint32(4, true);
    if (version !== this.version)
      throw new Error(`smux: invalid protocol version ${version} (expected ${this.version})`);
    switch (cmd) {
      case CMD_SYN:
      case CMD_FIN:
      case CMD_NOP:
        if (length !== 0) throw new Error(`smux: command ${cmd} with non-zero length ${length}`);
        this.off += HEADER_SIZE;
        return { cmd, sid };
      case CMD_UPD:
        if (avail < HEADER_SIZE + UPD_SIZE) return undefined;
        this.off += HEADER_SIZE + UPD_SIZE;
        return {
          cmd,
          sid,
          consumed: view.getUint32(HEADER_SIZE, true),
          window: view.getUint32(HEADER_SIZE + 4, true),
        };
      case CMD_PSH: {
        if (avail < HEADER_SIZE + length) return undefined;
        const start = this.off + HEADER_SIZE;
        // A copy, so the message buffer it came in is not held alive by a slow reader.
        const data = this.buf.slice(start, start + length);
        this.off = start + length;
        return { cmd, sid, data };
      }
      default:
        throw new Error(`smux: invalid command ${cmd}`);
    }
  }
}
