import type { PerMessageDeflateOptions } from 'ws';

/** WebSocket settings shared by the mws/ws dialers and listeners (GOST metadata, resolved). */
export interface WebSocketOptions {
  /** Request path; the listener's ServeMux pattern. Default `/ws`. */
  path: string;
  /** Extra request headers (dialer) or 101 response headers (listener). */
  header?: Readonly<Record<string, string>> | undefined;
  /** Dialer: bound on the wait for the upgrade reply. Listener: bound on accept → 101. ms, 0 = none. */
  handshakeTimeout: number;
  /** Listener: bound on reading the request head. ms, 0 = default. */
  readHeaderTimeout: number;
  /** Bytes read ahead before the socket is paused. 0 = default. */
  readBufferSize: number;
  /** Dialer: when set, client messages are sent as fragments of at most this size (gorilla). 0 = whole. */
  writeBufferSize: number;
  /** permessage-deflate, no context takeover, as gorilla. */
  enableCompression: boolean;
}

export const DEFAULT_WS_PATH = '/ws';

/**
 * The permessage-deflate parameters gorilla offers and requires: no context takeover either way,
 * and no `client_max_window_bits` (ws leaves it out of the offer when given `false`, which its
 * typings do not admit, hence the cast). Threshold 0: gorilla deflates every data message, the
 * 8-byte smux control frames included, where ws would leave messages under 1 KiB plain.
 */
export function deflateOptions(): PerMessageDeflateOptions {
  const opts = {
    serverNoContextTakeover: true,
    clientNoContextTakeover: true,
    clientMaxWindowBits: false,
    zlibDeflateOptions: { level: 1 },
    threshold: 0,
  };
  return opts as unknown as PerMessageDeflateOptions;
}

/** Upgrade request path as gorilla sends it: leading `/`, and `?`/`#`/spaces percent-encoded. */
export function requestPath(path: string): string {
  const p = path.startsWith('/') ? path : `/${path}`;
  return p.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/g, (c) =>
    [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
}

/** Go's http.CanonicalHeaderKey: `x-test-header` → `X-Test-Header`. */
export function canonicalHeaderKey(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return name;
  return name
    .toLowerCase()
    .split('-')
    .map((w) => (w.length > 0 ? (w[0] as string).toUpperCase() + w.slice(1) : w))
    .join('-');
}
