/**
 * smux wire format (xtaci/smux `frame.go`): an 8-byte header, then a payload whose size depends on
 * the command.
 *
 *   offset 0  u8     version   1 or 2; must equal the receiver's configured version
 *   offset 1  u8     cmd       SYN 0, FIN 1, PSH 2, NOP 3, UPD 4
 *   offset 2  u16 LE length    payload bytes (PSH); 8 for UPD; 0 otherwise
 *   offset 4  u32 LE stream id
 */
export const HEADER_SIZE = 8;

export const CMD_SYN = 0;
export const CMD_FIN = 1;
export const CMD_PSH = 2;
export const CMD_NOP = 3;
export const CMD_UPD = 4;

/** Size of a v2 window update payload: consumed u32 LE + window u32 LE. */
export const UPD_SIZE = 8;

/** The largest PSH payload the 16-bit length field can carry. */
export const MAX_FRAME_PAYLOAD = 0xffff;

export type Command = typeof CMD_SYN | typeof CMD_FIN | typeof CMD_PSH | typeof CMD_NOP | typeof CMD_UPD;

export interface FrameHeader {
  version: number;
  cmd: Command;
  /** Stream id, u32. */
  sid: number;
}

/** A decoded frame. Only PSH has `data`; only UPD has `consumed`/`window`. */
export type Frame =
  | (FrameHeader & { cmd: typeof CMD_SYN | typeof CMD_FIN | typeof CMD_NOP })
  | (FrameHeader & { cmd: typeof CMD_PSH; data: Buffer })
  | (FrameHeader & { cmd: typeof CMD_UPD; consumed: number; window: number });

/** Writes a header into `buf` at `offset`. */
export function writeHeader(
  buf: Buffer,
  offset: number,
  version: number,
  cmd: Command,
  length: number,
  sid: number,
): void {
  buf[offset] = version;
  buf[offset + 1] = cmd;
  buf.writeUInt16LE(length, offset + 2);
  buf.writeUInt32LE(sid >>> 0, offset + 4);
}

/** A header-only frame (SYN, FIN, NOP). */
export function encodeControl(
  version: number,
  cmd: typeof CMD_SYN | typeof CMD_FIN | typeof CMD_NOP,
  sid: number,
): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE);
  writeHeader(buf, 0, version, cmd, 0, sid);
  return buf;
}

/**
 * A PSH frame as one buffer (header + a copy of `payload`), so each frame can travel as exactly one
 * WebSocket message, as GOST sends it.
 */
export function encodePsh(version: number, sid: number, payload: Uint8Array): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD)
    throw new RangeError(`PSH payload ${payload.length} > ${MAX_FRAME_PAYLOAD}`);
  const buf = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  writeHeader(buf, 0, version, CMD_PSH, payload.length, sid);
  buf.set(payload, HEADER_SIZE);
  return buf;
}

/** A v2 window update: the receiver has read `consumed` bytes in all (mod 2^32) and offers `window`. */
export function encodeUpd(version: number, sid: number, consumed: number, window: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_SIZE + UPD_SIZE);
  writeHeader(buf, 0, version, CMD_UPD, UPD_SIZE, sid);
  buf.writeUInt32LE(consumed >>> 0, HEADER_SIZE);
  buf.writeUInt32LE(window >>> 0, HEADER_SIZE + 4);
  return buf;
}
