import { ProtocolError, type ErrorCode } from '../../core/errors.js';
import type { Parsed } from '../../common/buffered-reader.js';
import { isToken, type HeaderList } from './headers.js';

/** Default cap on an HTTP head (start line + headers + blank line), in bytes. */
export const DEFAULT_MAX_HEAD_BYTES = 64 * 1024;

export interface RawHead {
  startLine: string;
  headers: HeaderList;
}

export interface HeadLimits {
  /** Bytes allowed before the blank line that ends the head. Default 64 KiB. */
  maxHeadBytes?: number | undefined;
  /** Header lines allowed. Default 256. */
  maxHeaders?: number | undefined;
}

const DEFAULT_MAX_HEADERS = 256;

/**
 * Splits an HTTP/1.x head: a start line, header lines, an empty line. Lines end with CRLF or a bare
 * LF (Go's textproto accepts both). Obsolete line folding (a line starting with SP/HTAB) continues
 * the previous value, joined with one space, as Go does. Text is decoded as latin1, so every byte
 * survives a re-encode. Returns undefined while the empty line has not arrived.
 */
export function parseRawHead(
  buf: Buffer,
  code: ErrorCode,
  limits: HeadLimits = {},
  previousLength = 0,
): Parsed<RawHead> | undefined {
  const maxBytes = limits.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
  const maxHeaders = limits.maxHeaders ?? DEFAULT_MAX_HEADERS;
  if (!hasEmptyLine(buf, Math.max(0, previousLength - 2))) {
    if (buf.length > maxBytes) throw new ProtocolError(code, `HTTP head larger than ${maxBytes} bytes`);
    return undefined;
  }
  const lines: string[] = [];
  let pos = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) {
      if (buf.length > maxBytes) throw new ProtocolError(code, `HTTP head larger than ${maxBytes} bytes`);
      return undefined;
    }
    if (nl + 1 > maxBytes) throw new ProtocolError(code, `HTTP head larger than ${maxBytes} bytes`);
    const end = nl > pos && buf[nl - 1] === 0x0d ? nl - 1 : nl;
    const line = buf.toString('latin1', pos, end);
    pos = nl + 1;
    if (line === '') {
      if (lines.length === 0) throw new ProtocolError(code, 'malformed HTTP head: empty start line');
      break;
    }
    if (lines.length > maxHeaders) throw new ProtocolError(code, `more than ${maxHeaders} header lines`);
    lines.push(line);
  }
  const startLine = lines[0] ?? '';
  if (hasControlChar(startLine)) {
    throw new ProtocolError(code, 'malformed HTTP start line: control character');
  }
  const headers: HeaderList = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line[0] === ' ' || line[0] === '\t') {
      const last = headers[headers.length - 1];
      if (!last) throw new ProtocolError(code, `malformed HTTP header line ${JSON.stringify(line)}`);
      last[1] = `${last[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ProtocolError(code, `malformed HTTP header line ${JSON.stringify(line)}`);
    const name = line.slice(0, colon);
    if (!isToken(name)) throw new ProtocolError(code, `invalid HTTP header name ${JSON.stringify(name)}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (hasControlChar(value)) {
      throw new ProtocolError(code, `invalid HTTP header value for ${name}`);
    }
    headers.push([name, value]);
  }
  return { value: { startLine, headers }, consumed: pos };
}

/** True when `s` holds a control character other than HTAB (CR and LF included). */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

/** True when an empty line ends somewhere at or after `from` (cheap pre-check, resumable). */
function hasEmptyLine(buf: Buffer, from: number): boolean {
  for (let i = buf.indexOf(0x0a, from); i >= 0; i = buf.indexOf(0x0a, i + 1)) {
    if (i === 0 || buf[i - 1] === 0x0a) return true;
    if (buf[i - 1] === 0x0d && (i === 1 || buf[i - 2] === 0x0a)) return true;
  }
  return false;
}

/** Parses `HTTP/x.y`; undefined when malformed (Go's http.ParseHTTPVersion). */
export function parseHttpVersion(text: string): { major: number; minor: number } | undefined {
  const m = /^HTTP\/(\d)\.(\d)$/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}
