import { ProtocolError } from '../../core/errors.js';
import type { Parsed } from '../../common/buffered-reader.js';
import { isToken, type HeaderList } from './headers.js';
import { parseHttpVersion, parseRawHead, type HeadLimits } from './head.js';

/** A parsed HTTP/1.x request head. */
export interface RequestHead {
  method: string;
  /** The request-target as sent: authority (CONNECT), absolute URI, origin form or `*`. */
  target: string;
  /** `HTTP/1.1` etc., as sent. */
  version: string;
  versionMajor: number;
  versionMinor: number;
  headers: HeaderList;
}

/**
 * Incremental parser for a request head (sans IO). Returns undefined while the head is incomplete,
 * `{ value, consumed }` once the blank line arrived (bytes after `consumed` are body or pipelined
 * data), and throws ProtocolError `ERR_HTTP_BAD_REQUEST` for malformed or oversized heads. The
 * request line must be `METHOD SP target SP HTTP/x.y` (Go's http.ReadRequest rules).
 */
export function parseRequestHead(
  buf: Buffer,
  limits: HeadLimits = {},
  previousLength = 0,
): Parsed<RequestHead> | undefined {
  const raw = parseRawHead(buf, 'ERR_HTTP_BAD_REQUEST', limits, previousLength);
  if (!raw) return undefined;
  const line = raw.value.startLine;
  const sp1 = line.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  if (sp1 < 0 || sp2 < 0)
    throw new ProtocolError('ERR_HTTP_BAD_REQUEST', `malformed HTTP request ${JSON.stringify(line)}`);
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!isToken(method))
    throw new ProtocolError('ERR_HTTP_BAD_REQUEST', `invalid method ${JSON.stringify(method)}`);
  if (target === '' || /[\s]/.test(target)) {
    throw new ProtocolError('ERR_HTTP_BAD_REQUEST', `malformed HTTP request ${JSON.stringify(line)}`);
  }
  const v = parseHttpVersion(version);
  if (!v)
    throw new ProtocolError('ERR_HTTP_BAD_REQUEST', `malformed HTTP version ${JSON.stringify(version)}`);
  return {
    value: {
      method,
      target,
      version,
      versionMajor: v.major,
      versionMinor: v.minor,
      headers: raw.value.headers,
    },
    consumed: raw.consumed,
  };
}
