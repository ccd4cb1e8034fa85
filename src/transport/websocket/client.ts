import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { TunnelError, toError } from '../../core/errors.js';
import { deflateOptions, canonicalHeaderKey, requestPath, type WebSocketOptions } from './options.js';
import { WebSocketDuplex, type CarrierSocket } from './ws-duplex.js';
import { headersForLog, negotiatedExtensions } from './upgrade-log.js';
import type { Logger } from '../../core/logger.js';

export interface WebSocketConnectOptions extends WebSocketOptions {
  /** The Host header: GOST sends the node address verbatim (`:8443` included) unless `host` is set. */
  host: string;
  /** Ping interval (ms) for GOST's `keepalive`/`ttl`; 0 = no pings. */
  pingInterval: number;
  /** Largest message accepted (bytes). */
  maxPayload?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Where the upgrade request and the negotiated extensions are logged (debug). */
  log?: Logger | undefined;
}

/** Headers gorilla refuses in a custom header map ("duplicate header not allowed"). */
const RESERVED = new Set([
  'Upgrade',
  'Connection',
  'Sec-Websocket-Key',
  'Sec-Websocket-Version',
  'Sec-Websocket-Extensions',
]);

/**
 * Request headers in the exact order gorilla/websocket writes them: Host, User-Agent, then the rest
 * sorted by canonical name. `ws` fills in the key and version in place, keeping this order.
 */
export function buildUpgradeHeaders(
  opts: Pick<WebSocketConnectOptions, 'host' | 'header' | 'enableCompression'>,
): Record<string, string> {
  let host = opts.host;
  let userAgent = 'Go-http-client/1.1';
  const rest = new Map<string, string>([
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', ''],
    ['Sec-WebSocket-Version', '13'],
    ['Upgrade', 'websocket'],
  ]);
  if (opts.enableCompression) rest.set('Sec-WebSocket-Extensions', '');
  for (const [name, value] of Object.entries(opts.header ?? {})) {
    const key = canonicalHeaderKey(name);
    if (key === 'Host') host = value;
    else if (key === 'User-Agent') userAgent = value;
    else if (RESERVED.has(key)) {
      throw new TunnelError('ERR_WS_HANDSHAKE', `websocket: duplicate header not allowed: ${key}`);
    } else rest.set(key, value);
  }
  const sorted = [...rest.entries()].sort(([a], [b]) =>
    canonicalHeaderKey(a) < canonicalHeaderKey(b) ? -1 : 1,
  );
  return Object.fromEntries([['Host', host], ['User-Agent', userAgent], ...sorted]);
}

/**
 * node:http and ws tune the socket they are given (setNoDelay, setTimeout, setKeepAlive); a tunnel
 * stream under a later hop has no such knobs, so they become no-ops there.
 */
function asSocket(carrier: Duplex): Socket {
  const s = carrier as Partial<Socket> & Duplex;
  if (typeof s.setNoDelay !== 'function') {
    Object.assign(s, {
      setNoDelay: () => s,
      setTimeout: () => s,
      setKeepAlive: () => s,
      ref: () => s,
      unref: () => s,
    });
  }
  return s as Socket;
}

/**
 * Performs GOST's WebSocket client handshake on an already connected socket (TCP or TLS) and returns
 * the connection as a byte Duplex. Rejects with ERR_WS_HANDSHAKE ("bad handshake", with the status)
 * or ERR_DIAL_TIMEOUT; the socket is destroyed on failure.
 */
export function websocketConnect(
  carrier: CarrierSocket,
  opts: WebSocketConnectOptions,
): Promise<WebSocketDuplex> {
  const socket = asSocket(carrier);
  return new Promise<WebSocketDuplex>((resolve, reject) => {
    let headers: Record<string, string>;
    try {
      headers = buildUpgradeHeaders(opts);
    } catch (err) {
      socket.destroy();
      reject(toError(err));
      return;
    }
    let settled = false;
    const ws = new WebSocket(`ws://127.0.0.1${requestPath(opts.path)}`, {
      createConnection: () => socket,
      headers,
      perMessageDeflate: opts.enableCompression ? deflateOptions() : false,
      followRedirects: false,
      maxPayload: opts.maxPayload ?? 1024 * 1024,
      skipUTF8Validation: true,
    });
    const finish = (err: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      ws.off('open', onOpen);
      ws.off('error', onError);
      if (err !== undefined) {
        ws.on('error', () => {});
        ws.terminate();
        socket.destroy();
        reject(err);
        return;
      }
      resolve(
        new WebSocketDuplex(ws, {
          socket,
          readBufferSize: opts.readBufferSize || undefined,
          fragmentSize: opts.writeBufferSize || undefined,
          pingInterval: opts.pingInterval,
          masked: true,
          maxPayload: opts.maxPayload ?? 1024 * 1024,
        }),
      );
    };
    const onOpen = (): void => {
      opts.log?.debug(
        {
          path: requestPath(opts.path),
          host: headers['Host'],
          header: headersForLog(headers),
          extensions: negotiatedExtensions(ws),
        },
        'websocket: upgraded',
      );
      finish(undefined);
    };
    const onError = (err: Error): void =>
      finish(new TunnelError('ERR_WS_HANDSHAKE', `websocket: bad handshake: ${err.message}`, { cause: err }));
    const onAbort = (): void => finish(new TunnelError('ERR_ABORTED', 'websocket: handshake aborted'));
    ws.once('open', onOpen);
    ws.once('error', onError);
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      res.resume();
      finish(
        new TunnelError(
          'ERR_WS_HANDSHAKE',
          `websocket: bad handshake (status ${res.statusCode ?? 0} ${res.statusMessage ?? ''})`.trim(),
        ),
      );
    });
    const timer =
      opts.handshakeTimeout > 0
        ? setTimeout(
            () =>
              finish(
                new TunnelError(
                  'ERR_DIAL_TIMEOUT',
                  `websocket: handshake timed out after ${opts.handshakeTimeout} ms`,
                ),
              ),
            opts.handshakeTimeout,
          )
        : undefined;
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
