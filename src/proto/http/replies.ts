import { formatHeaderLines, hasToken, headerMapToList, sortHeaders, type HeaderList } from './headers.js';

/** GOST's default `Proxy-Agent` (handler metadata `proxyAgent`). */
export const DEFAULT_PROXY_AGENT = 'gost/3.0';
/** GOST's default Basic realm (handler metadata `authBasicRealm`). */
export const DEFAULT_REALM = 'gost';

/** Reason phrases Go's http.StatusText gives for the statuses a proxy answers with. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * A body-less HTTP/1.1 response the way Go's Response.Write prints GOST's replies: status line,
 * `Connection: close` first (the transfer writer adds it because there is no Content-Length, unless
 * the header set already has a `close` token), then the header set sorted by name, then a blank line.
 */
export function encodeGoResponse(
  statusCode: number,
  headers: HeaderList,
  opts: { close?: boolean } = {},
): Buffer {
  let head = `HTTP/1.1 ${statusCode} ${STATUS_TEXT[statusCode] ?? 'status code ' + String(statusCode)}\r\n`;
  const close = opts.close ?? true;
  const connection = headers.find(([k]) => k === 'Connection')?.[1];
  if (close && !hasToken(connection, 'close')) head += 'Connection: close\r\n';
  head += formatHeaderLines(sortHeaders(headers));
  head += '\r\n';
  return Buffer.from(head, 'latin1');
}

export interface ReplyOptions {
  /** `Proxy-Agent` value. Default `gost/3.0`. */
  proxyAgent?: string | undefined;
  /** Handler metadata `header`: extra headers on error replies (not on the 200). */
  header?: Readonly<Record<string, string>> | undefined;
}

function withAgent(opts: ReplyOptions): HeaderList {
  const list = headerMapToList(opts.header);
  // GOST sets Proxy-Agent only when the configured header map has none.
  if (!list.some(([k]) => k === 'Proxy-Agent'))
    list.push(['Proxy-Agent', opts.proxyAgent ?? DEFAULT_PROXY_AGENT]);
  return list;
}

/** `HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\n` (CONNECT success). */
export function encodeConnectEstablished(proxyAgent: string = DEFAULT_PROXY_AGENT): Buffer {
  return Buffer.from(`HTTP/1.1 200 Connection established\r\nProxy-Agent: ${proxyAgent}\r\n\r\n`, 'latin1');
}

/** `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nProxy-Agent: gost/3.0\r\n\r\n` (dial failed). */
export function encodeServiceUnavailable(opts: ReplyOptions = {}): Buffer {
  return encodeGoResponse(503, withAgent(opts));
}

/** `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nProxy-Agent: gost/3.0\r\n\r\n` (bypass). */
export function encodeForbidden(opts: ReplyOptions = {}): Buffer {
  return encodeGoResponse(403, withAgent(opts));
}

/** `HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n` (not a proxy request, or `PRI`). No Proxy-Agent. */
export function encodeBadRequest(opts: Pick<ReplyOptions, 'header'> = {}): Buffer {
  return encodeGoResponse(400, headerMapToList(opts.header));
}

export interface ProxyAuthRequiredOptions {
  realm?: string | undefined;
  /**
   * The request had `Proxy-Connection: keep-alive` (GOST clients always send it): GOST then puts
   * `Connection: close` and `Proxy-Connection: close` into the header set.
   */
  keepAlive: boolean;
  header?: Readonly<Record<string, string>> | undefined;
}

/**
 * The 407, in GOST's two forms (facts §4.2):
 * keep-alive: `HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\nProxy-Authenticate: Basic realm="gost"\r\nProxy-Connection: close\r\n\r\n`;
 * otherwise:  `HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\nProxy-Authenticate: Basic realm="gost"\r\n\r\n`.
 */
export function encodeProxyAuthRequired(opts: ProxyAuthRequiredOptions): Buffer {
  const list = headerMapToList(opts.header);
  list.push(['Proxy-Authenticate', `Basic realm="${opts.realm ?? DEFAULT_REALM}"`]);
  if (opts.keepAlive) {
    const set = (name: string, value: string): void => {
      for (let i = list.length - 1; i >= 0; i--) if (list[i]?.[0] === name) list.splice(i, 1);
      list.push([name, value]);
    };
    set('Connection', 'close');
    set('Proxy-Connection', 'close');
  }
  return encodeGoResponse(407, list);
}

/** Plain-HTTP forwarding failure: `HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n`. */
export const FORWARD_SERVICE_UNAVAILABLE: Buffer = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n',
  'latin1',
);

/** UDP-over-HTTP refused (`udp` disabled): `HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n`. */
export const UDP_FORBIDDEN: Buffer = Buffer.from(
  'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n',
  'latin1',
);
