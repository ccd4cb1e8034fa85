import { randomFillSync } from 'node:crypto';
import { nativeXor } from './native-xor.js';

function jsMask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void {
  for (let i = 0; i < length; i++) output[offset + i] = (source[i] as number) ^ (mask[i & 3] as number);
}

function mask(source: Buffer, key: Buffer, output: Buffer, offset: number, length: number): void {
  if (nativeXor !== undefined && length >= 48) nativeXor.mask(source, key, output, offset, length);
  else jsMask(source, key, output, offset, length);
}

/** RFC 6455 §5.3: a fresh unpredictable key per frame, taken from a pool refilled in bulk. */
const keyPool = Buffer.alloc(8192);
let keyOffset = keyPool.length;
function nextMaskKey(): Buffer {
  if (keyOffset + 4 > keyPool.length) {
    randomFillSync(keyPool);
    keyOffset = 0;
  }
  const key = keyPool.subarray(keyOffset, keyOffset + 4);
  keyOffset += 4;
  return key;
}

function headerLength(payloadLength: number, masked: boolean): number {
  const ext = payloadLength < 126 ? 0 : payloadLength < 65536 ? 2 : 8;
  return 2 + ext + (masked ? 4 : 0);
}

function writeHeader(buf: Buffer, payloadLength: number, masked: boolean): number {
  buf[0] = 0x82; // FIN + binary
  let off = 2;
  if (payloadLength < 126) {
    buf[1] = payloadLength;
  } else if (payloadLength < 65536) {
    buf[1] = 126;
    buf.writeUInt16BE(payloadLength, 2);
    off = 4;
  } else {
    buf[1] = 127;
    buf.writeUInt32BE(Math.floor(payloadLength / 2 ** 32), 2);
    buf.writeUInt32BE(payloadLength >>> 0, 6);
    off = 10;
  }
  if (masked) buf[1] = buf[1] | 0x80;
  return off;
}

/**
 * One binary WebSocket message (a single FIN frame) carrying `head` + `body`, as the buffers to write.
 *
 * Unmasked (server to client): the frame header and `head` share one small buffer and `body` is
 * returned as is — no copy of the payload. Masked (client to server): one buffer with everything,
 * masked in a single pass (the copy masking needs anyway).
 */
export function encodeBinaryMessage(head: Buffer, body: Buffer | undefined, masked: boolean): Buffer[] {
  const bodyLength = body?.length ?? 0;
  const length = head.length + bodyLength;
  const hdrLen = headerLength(length, masked);
  if (!masked) {
    const first = Buffer.allocUnsafe(hdrLen + head.length);
    writeHeader(first, length, false);
    head.copy(first, hdrLen);
    return body === undefined || bodyLength === 0 ? [first] : [first, body];
  }
  const out = Buffer.allocUnsafe(hdrLen + length);
  const off = writeHeader(out, length, true);
  const key = nextMaskKey();
  key.copy(out, off);
  mask(head, key, out, hdrLen, head.length);
  if (body !== undefined && bodyLength > 0) {
    // The key continues where the head left off: rotate it by head.length bytes.
    const shift = head.length & 3;
    const rotated = shift === 0 ? key : Buffer.from([0, 1, 2, 3].map((i) => key[(i + shift) & 3] as number));
    mask(body, rotated, out, hdrLen + head.length, bodyLength);
  }
  return [out];
}
