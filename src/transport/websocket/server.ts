import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { Limit, type LimitReporter } from '../../common/limits.js';
import { WebSocketServer } from 'ws';
import { deflateOptions, type WebSocketOptions } from './options.js';
import { WebSocketDuplex } from './ws-duplex.js';

export interface WebSocketAcceptOptions extends WebSocketOptions {
  /** Largest message accepted (bytes). */
  maxPayload?: number | undefined;
  /**
   * Connections that have not completed their upgrade yet, counted from the TCP accept (so over TLS
   * the TLS handshake counts too); one more is closed at once. 0 or unset = unbounded. Reported as
   * `handshakes_per_listener`.
   */
  maxHandshakes?: number | undefined;
  /**
   * Asked before each upgrade; false answers 503 and closes (e.g. the listener holds its maximum of
   * sessions). Unset = always.
   */
  admit?: (() => boolean) | undefined;
  /** Told of every connection refused by `maxHandshakes`. */
  onLimit?: LimitReporter | undefined;
}

/** What an accepted connection brings: the byte stream and the upgrade request (headers, Host). */
export interface AcceptedWebSocket {
  conn: WebSocketDuplex;
  request: IncomingMessage;
}

/** Without a configured limit, a client gets this long from connect to the 101 (ms). */
const DEFAULT_HANDSHAKE_LIMIT = 60_000;

/** A live TCP connection's address pair, the same on its TLS socket. */
function connectionKey(socket: Socket): string {
  return `${socket.localAddress}|${socket.localPort}|${socket.remoteAddress}|${socket.remotePort}`;
}

/** Go's path.Clean, keeping a trailing slash as ServeMux does. */
export function cleanPath(p: string): string {
  if (p === '') return '/';
  const abs = p.startsWith('/') ? p : `/${p}`;
  const out: string[] = [];
  for (const seg of abs.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let cleaned = `/${out.join('/')}`;
  if (abs.endsWith('/') && cleaned !== '/') cleaned += '/';
  return cleaned;
}

/** ServeMux matching of one pattern: exact, or a whole subtree when the pattern ends in `/`. */
export function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('/') ? path.startsWith(pattern) : path === pattern;
}

function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value.split(',').some((t) => t.trim().toLowerCase() === token);
}

interface Reply {
  status: number;
  text: string;
  headers: Record<string, string>;
}

const STATUS_TEXT: Record<number, string> = {
  301: 'Moved Permanently',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  503: 'Service Unavailable',
};

function errorReply(status: number, body: string, extra: Record<string, string> = {}): Reply {
  return {
    status,
    text: body,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', ...extra },
  };
}

/**
 * Decides what GOST's listener (Go ServeMux + gorilla Upgrader) answers a request, or undefined when
 * it may be upgraded. Order of gorilla's checks: Connection, Upgrade, method, version, key.
 */
export function checkUpgradeRequest(req: IncomingMessage, pattern: string): Reply | undefined {
  const path = upgradePath(req);
  if (path === undefined) return errorReply(400, 'Bad Request\n');
  const clean = cleanPath(path);
  if (clean !== path && req.method !== 'CONNECT') {
    const query = (req.url ?? '').includes('?') ? (req.url ?? '').slice((req.url ?? '').indexOf('?')) : '';
    return {
      status: 301,
      text: '',
      headers: { Location: clean + query, 'Content-Type': 'text/html; charset=utf-8' },
    };
  }
  if (!pathMatches(pattern, path)) return errorReply(404, '404 page not found\n');
  const ws = { 'Sec-Websocket-Version': '13' };
  if (!hasToken(req.headers.connection, 'upgrade')) return errorReply(400, 'Bad Request\n', ws);
  if (!hasToken(req.headers.upgrade, 'websocket')) return errorReply(400, 'Bad Request\n', ws);
  if (req.method !== 'GET') return errorReply(405, 'Method Not Allowed\n', ws);
  if (!hasToken(req.headers['sec-websocket-version'], '13')) return errorReply(400, 'Bad Request\n', ws);
  const key = req.headers['sec-websocket-key'];
  if (
    typeof key !== 'string' ||
    Buffer.from(key, 'base64').length !== 16 ||
    !/^[A-Za-z0-9+/]{22}==$/.test(key)
  ) {
    return errorReply(400, 'Bad Request\n', ws);
  }
  return undefined;
}

function writeRawReply(socket: Socket, reply: Reply): void {
  const body = Buffer.from(reply.text);
  const lines = [`HTTP/1.1 ${reply.status} ${STATUS_TEXT[reply.status] ?? ''}`];
  for (const [k, v] of Object.entries(reply.headers)) lines.push(`${k}: ${v}`);
  lines.push(
    `Date: ${new Date().toUTCString()}`,
    `Content-Length: ${body.length}`,
    'Connection: close',
    '',
    '',
  );
  socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
}

function sendReply(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'Content-Length': Buffer.byteLength(reply.text) });
  res.end(reply.text);
}

/** The request path as the listener matches it (percent-decoded, query dropped); undefined if undecodable. */
export function upgradePath(req: IncomingMessage): string | undefined {
  const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
}

/** Handles one `upgrade` event: Go's reply when it may not be upgraded, else the 101 and `onAccept`. */
export type UpgradeAcceptor = (req: IncomingMessage, socket: Socket, head: Buffer) => void;

/**
 * The upgrade half of GOST's WebSocket listener, with no hold on the server it runs in: checks the
 * request (Go's exact replies when it may not be upgraded), completes the handshake and hands the
 * connection to `onAccept` as a byte Duplex. `onUpgraded` runs once the 101 is written.
 */
export function createUpgradeAcceptor(
  opts: WebSocketAcceptOptions,
  onAccept: (accepted: AcceptedWebSocket) => void,
  onUpgraded: (socket: Socket) => void = () => undefined,
): UpgradeAcceptor {
  const pattern = opts.path.startsWith('/') ? opts.path : `/${opts.path}`;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: opts.enableCompression ? deflateOptions() : false,
    maxPayload: opts.maxPayload ?? 1024 * 1024,
    skipUTF8Validation: true,
    clientTracking: false,
  });
  const extraHeaders = Object.entries(opts.header ?? {}).map(([k, v]) => `${k}: ${v}`);
  if (extraHeaders.length > 0) {
    wss.on('headers', (headers: string[]) => {
      headers.push(...extraHeaders);
    });
  }
  return (req, socket, head) => {
    socket.on('error', () => socket.destroy());
    const reply = checkUpgradeRequest(req, pattern);
    if (reply !== undefined) {
      writeRawReply(socket, reply);
      return;
    }
    // gorilla: "client sent data before handshake is complete" — close without a reply.
    if (head.length > 0) {
      socket.destroy();
      return;
    }
    if (opts.admit !== undefined && !opts.admit()) {
      writeRawReply(socket, errorReply(503, 'Service Unavailable\n'));
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      onUpgraded(socket);
      onAccept({
        conn: new WebSocketDuplex(ws, {
          socket,
          readBufferSize: opts.readBufferSize || undefined,
          maxPayload: opts.maxPayload ?? 1024 * 1024,
        }),
        request: req,
      });
    });
  };
}

/**
 * Serves GOST's WebSocket upgrade on an http(s) server: only `path` upgrades; anything else gets
 * Go's exact status and body. Each accepted connection is handed to `onAccept` as a byte Duplex.
 *
 * Guards against hostile clients: bytes sent before the 101 close the connection (as gorilla), and a
 * connection that has not completed its handshake within `handshakeTimeout` (default 60 s) is closed.
 */
export function attachWebSocketAcceptor(
  server: HttpServer,
  opts: WebSocketAcceptOptions,
  onAccept: (accepted: AcceptedWebSocket) => void,
): void {
  const pattern = opts.path.startsWith('/') ? opts.path : `/${opts.path}`;
  const handshakeLimit = opts.handshakeTimeout > 0 ? opts.handshakeTimeout : DEFAULT_HANDSHAKE_LIMIT;
  /**
   * Ends a connection's handshake (its count and its deadline), by the connection's address pair:
   * over TLS the socket that upgrades is the TLS socket, not the TCP socket that was counted, and
   * both report the same addresses.
   */
  const handshakeEnds = new Map<string, () => void>();
  // Go's ReadHeaderTimeout: the request head must be complete in time or the connection is closed
  // without a reply. Node's own headersTimeout is only checked every 30 s, hence a timer per socket.
  const headerDeadlines = new WeakMap<Socket, NodeJS.Timeout>();
  const headerDone = (socket: Socket): void => {
    clearTimeout(headerDeadlines.get(socket));
    headerDeadlines.delete(socket);
  };
  const acceptUpgrade = createUpgradeAcceptor(opts, onAccept, (socket) => {
    handshakeEnds.get(connectionKey(socket))?.();
  });

  // A handshake is everything from the TCP accept to the 101: over TLS (wss, mwss) the TLS
  // handshake counts too, so a peer that opens connections and never finishes TLS is bounded by
  // the same limit and the same deadline as one that never sends its upgrade request.
  const handshakes = new Limit('handshakes_per_listener', opts.maxHandshakes ?? 0, opts.onLimit);
  server.on('connection', (socket: Socket) => {
    if (!handshakes.tryAcquire()) {
      socket.destroy();
      return;
    }
    const key = connectionKey(socket);
    const timer = setTimeout(() => socket.destroy(), handshakeLimit);
    timer.unref();
    let counted = true;
    const handshakeOver = (): void => {
      if (!counted) return;
      counted = false;
      clearTimeout(timer);
      handshakes.release();
      if (handshakeEnds.get(key) === handshakeOver) handshakeEnds.delete(key);
    };
    handshakeEnds.set(key, handshakeOver);
    socket.once('close', handshakeOver);
  });

  // The socket that speaks HTTP: over TLS, the one 'secureConnection' hands out.
  const httpEvent = server instanceof TlsServer ? 'secureConnection' : 'connection';
  server.on(httpEvent, (socket: Socket) => {
    if (socket.destroyed || opts.readHeaderTimeout <= 0) return;
    const headerTimer = setTimeout(() => socket.destroy(), opts.readHeaderTimeout);
    headerTimer.unref();
    headerDeadlines.set(socket, headerTimer);
    socket.once('close', () => headerDone(socket));
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    headerDone(req.socket);
    sendReply(res, checkUpgradeRequest(req, pattern) ?? errorReply(400, 'Bad Request\n'));
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    headerDone(socket);
    acceptUpgrade(req, socket, head);
  });
}
