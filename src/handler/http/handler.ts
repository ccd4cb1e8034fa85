import { isIP } from 'node:net';
import type { Authenticator, Conn, Handler, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { ensurePort } from '../../common/addr.js';
import { readUntil } from '../../common/buffered-reader.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { relay } from '../../common/relay.js';
import { getHeader, getHeaderValues, type HeaderList } from '../../proto/http/headers.js';
import { DEFAULT_MAX_HEAD_BYTES } from '../../proto/http/head.js';
import {
  DEFAULT_PROXY_AGENT,
  DEFAULT_REALM,
  FORWARD_SERVICE_UNAVAILABLE,
  UDP_FORBIDDEN,
  encodeBadRequest,
  encodeConnectEstablished,
  encodeProxyAuthRequired,
  encodeServiceUnavailable,
} from '../../proto/http/replies.js';
import { parseRequestHead, type RequestHead } from '../../proto/http/request-head.js';
import { DEFAULT_READ_TIMEOUT_MS } from './metadata.js';

export interface HttpHandlerOptions {
  /** Checks `Proxy-Authorization: Basic`. None = everything allowed. */
  authenticator?: Authenticator | undefined;
  /** `Proxy-Agent` of the replies. Default `gost/3.0`. */
  proxyAgent?: string | undefined;
  /** Extra headers on the 400/403/407/503 replies (never on the 200). */
  header?: Record<string, string> | undefined;
  /** Realm of the 407. Default `gost`. */
  realm?: string | undefined;
  /** Bound on reading the request head, ms. Default 15000. */
  readTimeoutMs?: number | undefined;
  /** Accepted for config parity; UDP-over-HTTP is not implemented, such requests always get 403. */
  udp?: boolean | undefined;
  /** Cap on the request head. Default 64 KiB; larger heads close the connection without a reply. */
  maxHeadBytes?: number | undefined;
  /** Relay half-close linger, ms (see relay()). Default 10000. */
  lingerMs?: number | undefined;
}

/** Where a request wants to go. */
type Target =
  | { kind: 'connect'; addr: string }
  | { kind: 'forward'; addr: string; authority: string; path: string; absolute: boolean }
  | { kind: 'bad' };

/**
 * GOST's `http` handler (go-gost/x handler/http): an HTTP proxy serving CONNECT tunnels and
 * absolute-URI plain-HTTP forwarding on one accepted Conn, with GOST's exact reply bytes.
 *
 * Order of checks, as in GOST: `PRI` or a request that is neither CONNECT nor http-scheme → 400;
 * authentication → 407; `X-Gost-Protocol: udp` → 403; then dial through `ctx.router`:
 * failure → 503, success → `200 Connection established` as its own write, then a byte relay (bytes
 * the client pipelined after the head are forwarded). Plain-HTTP requests are sent upstream in origin
 * form with hop-by-hop headers removed and `Connection: close`, and the response is relayed back.
 *
 * Never rejects: bad input is answered (or, when unparsable, the connection is just closed, as GOST
 * does) and logged at debug level. The Conn is closed when the promise settles.
 */
export class HttpHandler implements Handler {
  private readonly opts: HttpHandlerOptions;
  private readonly proxyAgent: string;
  private readonly maxHeadBytes: number;

  constructor(opts: HttpHandlerOptions = {}) {
    this.opts = opts;
    this.proxyAgent = opts.proxyAgent || DEFAULT_PROXY_AGENT;
    this.maxHeadBytes = opts.maxHeadBytes ?? DEFAULT_MAX_HEAD_BYTES;
  }

  async handle(conn: Conn, ctx: HandlerContext): Promise<void> {
    const log = ctx.log;
    const onError = (err: Error): void => {
      log.debug({ err, client: ctx.clientAddr }, 'http: client connection error');
    };
    conn.on('error', onError);
    try {
      let head: RequestHead;
      try {
        const maxHeadBytes = this.maxHeadBytes;
        const res = await readUntil(conn, (buf, prev) => parseRequestHead(buf, { maxHeadBytes }, prev), {
          maxBytes: maxHeadBytes + 1,
          errorCode: 'ERR_HTTP_BAD_REQUEST',
          signal: ctx.signal,
          timeoutMs: this.opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
        });
        head = res.value;
      } catch (err) {
        // GOST: an unparsable request closes the stream without a reply.
        log.debug({ err, client: ctx.clientAddr }, 'http: cannot read request');
        ctx.fail?.('http: cannot read request');
        return;
      }
      await this.serve(conn, head, ctx, log);
    } catch (err) {
      log.warn({ err: toError(err), client: ctx.clientAddr }, 'http: handler failed');
      ctx.fail?.('http: handler failed');
    } finally {
      if (!conn.destroyed) conn.destroy();
    }
  }

  private async serve(conn: Conn, head: RequestHead, ctx: HandlerContext, log: Logger): Promise<void> {
    const target = resolveTarget(head);
    if (head.method === 'PRI' || target.kind === 'bad') {
      log.debug({ method: head.method, target: head.target }, 'http: not a proxy request');
      ctx.fail?.('http: not a proxy request');
      await endGracefully(conn, encodeBadRequest({ header: this.opts.header }));
      return;
    }

    const { authenticator } = this.opts;
    if (authenticator) {
      const { username, password } = basicProxyAuth(getHeader(head.headers, 'Proxy-Authorization'));
      if (!authenticator.authenticate(username, password)) {
        const keepAlive = (getHeader(head.headers, 'Proxy-Connection') ?? '').toLowerCase() === 'keep-alive';
        log.debug({ user: username }, 'http: proxy authentication required');
        ctx.fail?.('http: proxy authentication required');
        await endGracefully(
          conn,
          encodeProxyAuthRequired({
            realm: this.opts.realm || DEFAULT_REALM,
            keepAlive,
            header: this.opts.header,
          }),
        );
        return;
      }
    }

    if (getHeader(head.headers, 'X-Gost-Protocol') === 'udp') {
      log.debug('http: UDP-over-HTTP is not supported');
      ctx.fail?.('http: UDP-over-HTTP is not supported');
      await endGracefully(conn, UDP_FORBIDDEN);
      return;
    }

    if (target.kind === 'connect') await this.connect(conn, target.addr, ctx, log);
    else await this.forward(conn, head, target, ctx, log);
  }

  private async connect(conn: Conn, addr: string, ctx: HandlerContext, log: Logger): Promise<void> {
    log.debug({ dst: addr }, 'http: CONNECT');
    let upstream: Conn;
    try {
      upstream = await ctx.router.dial('tcp', addr, { signal: ctx.signal, log });
    } catch (err) {
      log.info({ err: toError(err), dst: addr }, 'http: dial failed');
      ctx.fail?.('http: dial failed');
      await endGracefully(
        conn,
        encodeServiceUnavailable({ proxyAgent: this.proxyAgent, header: this.opts.header }),
      );
      return;
    }
    upstream.on('error', (err: Error) => log.debug({ err, dst: addr }, 'http: upstream error'));
    try {
      // Its own write, before any payload can be relayed (facts §3.4, §10.11).
      await writeAsync(conn, encodeConnectEstablished(this.proxyAgent));
    } catch (err) {
      log.debug({ err: toError(err) }, 'http: client went away before the 200');
      ctx.fail?.('http: client went away before the 200');
      upstream.destroy();
      return;
    }
    const res = await relay(conn, upstream, { signal: ctx.signal, lingerMs: this.opts.lingerMs });
    log.debug({ dst: addr, up: res.aToB, down: res.bToA, err: res.error }, 'http: tunnel closed');
  }

  private async forward(
    conn: Conn,
    head: RequestHead,
    target: Extract<Target, { kind: 'forward' }>,
    ctx: HandlerContext,
    log: Logger,
  ): Promise<void> {
    log.debug({ dst: target.addr, method: head.method }, 'http: forward');
    let upstream: Conn;
    try {
      upstream = await ctx.router.dial('tcp', target.addr, { signal: ctx.signal, log });
    } catch (err) {
      log.info({ err: toError(err), dst: target.addr }, 'http: dial failed');
      ctx.fail?.('http: dial failed');
      await endGracefully(conn, FORWARD_SERVICE_UNAVAILABLE);
      return;
    }
    upstream.on('error', (err: Error) => log.debug({ err, dst: target.addr }, 'http: upstream error'));
    try {
      await writeAsync(upstream, encodeForwardHead(head, target));
    } catch (err) {
      log.debug({ err: toError(err) }, 'http: upstream write failed');
      ctx.fail?.('http: upstream write failed');
      upstream.destroy();
      await endGracefully(conn, FORWARD_SERVICE_UNAVAILABLE);
      return;
    }
    const res = await relay(conn, upstream, { signal: ctx.signal, lingerMs: this.opts.lingerMs });
    log.debug({ dst: target.addr, up: res.aToB, down: res.bToA, err: res.error }, 'http: forward closed');
  }
}

// govalidator.IsDNSName, which GOST uses to accept origin-form requests as plain-HTTP proxy requests.
const DNS_NAME_RE = /^([a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?$/;

function isDnsName(s: string): boolean {
  if (s === '' || s.replace(/\./g, '').length > 255) return false;
  return isIP(s) === 0 && DNS_NAME_RE.test(s);
}

const ABSOLUTE_URI_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;

/** Works out the proxy target like GOST's handleRequest (req.Host, default port 80). */
function resolveTarget(head: RequestHead): Target {
  const hostHeader = getHeader(head.headers, 'Host') ?? '';
  if (head.method === 'CONNECT') {
    const authority = head.target.startsWith('/') ? hostHeader : head.target;
    if (authority === '') return { kind: 'bad' };
    return { kind: 'connect', addr: ensurePort(authority, 80) };
  }
  const m = ABSOLUTE_URI_RE.exec(head.target);
  if (m) {
    const scheme = (m[1] ?? '').toLowerCase();
    let authority = m[2] ?? '';
    const at = authority.lastIndexOf('@');
    if (at >= 0) authority = authority.slice(at + 1);
    if (authority === '') authority = hostHeader;
    if (scheme !== 'http' || authority === '') return { kind: 'bad' };
    let path = m[3] ?? '';
    if (!path.startsWith('/')) path = `/${path}`;
    path = path.replace(/#.*$/s, '');
    return { kind: 'forward', addr: ensurePort(authority, 80), authority, path, absolute: true };
  }
  if (isDnsName(hostHeader)) {
    return {
      kind: 'forward',
      addr: ensurePort(hostHeader, 80),
      authority: hostHeader,
      path: head.target,
      absolute: false,
    };
  }
  return { kind: 'bad' };
}

/** GOST's basicProxyAuth: only `Basic ` + strict base64 of `user:pass`; anything else is ('', ''). */
function basicProxyAuth(value: string | undefined): { username: string; password: string } {
  const none = { username: '', password: '' };
  if (!value?.startsWith('Basic ')) return none;
  const b64 = value.slice('Basic '.length);
  if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) return none;
  const text = Buffer.from(b64, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return none;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'gost-target', 'x-gost-target']);
/** Never dropped even if named in Connection: they frame the message. */
const KEEP = new Set(['host', 'content-length', 'transfer-encoding']);

/**
 * The request head sent to the origin: origin-form target, the client's HTTP version, the client's
 * headers in order minus hop-by-hop ones (Proxy-*, Connection, Keep-Alive and any named in
 * Connection), `Host` set to the absolute URI's authority, and `Connection: close` (GOST's
 * transport has upstream keep-alive off by default). The body, if any, follows through the relay.
 */
function encodeForwardHead(head: RequestHead, target: Extract<Target, { kind: 'forward' }>): Buffer {
  const named = new Set<string>();
  for (const v of getHeaderValues(head.headers, 'Connection')) {
    for (const t of v.split(',')) {
      const name = t.trim().toLowerCase();
      if (name && !KEEP.has(name)) named.add(name);
    }
  }
  const headers: HeaderList = [];
  let hostSeen = false;
  for (const [k, v] of head.headers) {
    const lower = k.toLowerCase();
    if (lower.startsWith('proxy-') || HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    if (lower === 'host') {
      if (hostSeen) continue;
      hostSeen = true;
      headers.push([k, target.absolute ? target.authority : v]);
      continue;
    }
    headers.push([k, v]);
  }
  let text = `${head.method} ${target.path} ${head.version}\r\n`;
  if (!hostSeen) text += `Host: ${target.authority}\r\n`;
  for (const [k, v] of headers) text += `${k}: ${v}\r\n`;
  text += 'Connection: close\r\n\r\n';
  return Buffer.from(text, 'latin1');
}
