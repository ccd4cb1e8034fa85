import { ProtocolError } from '../../core/errors.js';
import type { Parsed } from '../../common/buffered-reader.js';
import type { HeaderList } from './headers.js';
import { parseHttpVersion, parseRawHead, type HeadLimits } from './head.js';

/** A parsed HTTP/1.x response head. */
export interface ResponseHead {
  version: string;
  statusCode: number;
  /** Reason phrase, possibly empty. */
  reason: string;
  /** Go's `resp.Status`: everything after the version, e.g. `407 Proxy Authentication Required`. */
  status: string;
  headers: HeaderList;
}

/**
 * Incremental parser for a response head (sans IO): undefined while incomplete, `{ value, consumed }`
 * when complete, ProtocolError `ERR_HTTP_PROXY_STATUS` when malformed (Go's http.ReadResponse rules:
 * a three-digit status code, the reason phrase is optional).
 */
export function parseResponseHead(
  buf: Buffer,
  limits: HeadLimits = {},
  previousLength = 0,
): Parsed<ResponseHead> | undefined {
  const raw = parseRawHead(buf, 'ERR_HTTP_PROXY_STATUS', limits, previousLength);
  if (!raw) return undefined;
  const line = raw.value.startLine;
  const sp = line.indexOf(' ');
  if (sp < 0)
    throw new ProtocolError('ERR_HTTP_PROXY_STATUS', `malformed HTTP response ${JSON.stringify(line)}`);
  const version = line.slice(0, sp);
  const status = line.slice(sp + 1).replace(/^ +/, '');
  const codeEnd = status.indexOf(' ');
  const codeText = codeEnd < 0 ? status : status.slice(0, codeEnd);
  if (!/^\d{3}$/.test(codeText)) {
    throw new ProtocolError(
      'ERR_HTTP_PROXY_STATUS',
      `malformed HTTP status code ${JSON.stringify(codeText)}`,
    );
  }
  if (!parseHttpVersion(version)) {
    throw new ProtocolError('ERR_HTTP_PROXY_STATUS', `malformed HTTP version ${JSON.stringify(version)}`);
  }
  return {
    value: {
      version,
      statusCode: Number(codeText),
      reason: codeEnd < 0 ? '' : status.slice(codeEnd + 1),
      status,
      headers: raw.value.headers,
    },
    consumed: raw.consumed,
  };
}
