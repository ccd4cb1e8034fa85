// Loopback fixtures for handler/connector tests: a direct Router, a TCP server running a Handler,
// echo and HTTP origins, raw-socket helpers and a curl runner. Everything listens on 127.0.0.1:0.
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { TestContext } from 'node:test';
import type { Conn, Handler, HandlerContext, Router } from '../../src/core/types.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseHostPort } from '../../src/common/addr.js';

/** Test timeouts: generous, but bounded. */
export const STEP_MS = 5000;

export function listen(server: net.Server, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/** Tracks sockets so a test can destroy everything it opened in t.after. */
export class SocketSet {
  readonly sockets = new Set<net.Socket>();
  add<T extends net.Socket>(s: T): T {
    this.sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => this.sockets.delete(s));
    return s;
  }
  destroyAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}

/** A Router that dials targets directly with net.connect (no chain); records every dial. */
export class DirectRouter implements Router {
  readonly dials: string[] = [];
  readonly conns: net.Socket[] = [];
  async dial(network: 'tcp' | 'udp', target: string): Promise<Conn> {
    this.dials.push(target);
    if (network !== 'tcp') throw new Error('udp not supported');
    const hp = parseHostPort(target);
    if (!hp) throw new Error(`bad target ${target}`);
    return new Promise<Conn>((resolve, reject) => {
      const s = net.connect({
        host: hp.host === '' ? '127.0.0.1' : hp.host,
        port: hp.port,
        allowHalfOpen: true,
      });
      s.once('connect', () => {
        s.off('error', reject);
        this.conns.push(s);
        resolve(s);
      });
      s.once('error', reject);
    });
  }
  close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    return Promise.resolve();
  }
}

export interface HandlerServer {
  port: number;
  router: DirectRouter;
  /** One promise per accepted connection: the handler's handle() result. */
  handled: Array<Promise<void>>;
  /** Errors handle() rejected with (must stay empty: handlers never reject). */
  rejections: unknown[];
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1:0 that runs `handler` on every connection, cleaned up by t.after. */
export async function startHandlerServer(
  t: TestContext,
  handler: Handler,
  router = new DirectRouter(),
): Promise<HandlerServer> {
  const ac = new AbortController();
  const handled: Array<Promise<void>> = [];
  const rejections: unknown[] = [];
  const sockets = new SocketSet();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    const ctx: HandlerContext = {
      router,
      log: silentLogger,
      signal: ac.signal,
      clientAddr: `${socket.remoteAddress}:${socket.remotePort}`,
    };
    handled.push(
      handler.handle(socket, ctx).catch((err: unknown) => {
        rejections.push(err);
      }),
    );
  });
  const port = await listen(server);
  const hs: HandlerServer = {
    port,
    router,
    handled,
    rejections,
    close: async () => {
      ac.abort();
      sockets.destroyAll();
      await router.close();
      await closeServer(server);
    },
  };
  t.after(() => hs.close());
  return hs;
}

/** A TCP echo server (half-close aware: ends after echoing when the client ends). */
export async function startEchoServer(t: TestContext): Promise<{ port: number; connections: number }> {
  const sockets = new SocketSet();
  const state = { port: 0, connections: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    state.connections++;
    s.pipe(s);
  });
  state.port = await listen(server);
  t.after(async () => {
    sockets.destroyAll();
    await closeServer(server);
  });
  return state;
}

/** An HTTP origin answering `hello <method> <url>` and recording request headers. */
export async function startHttpOrigin(t: TestContext): Promise<{
  port: number;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
}> {
  const requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> =
    [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const text = `hello ${req.method} ${req.url}${body ? ` ${body}` : ''}`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  const port = await listen(server);
  t.after(() => closeServer(server));
  return { port, requests };
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

/**
 * A client socket. Like most clients it closes once the server closes (allowHalfOpen false) unless
 * told otherwise.
 */
export function connect(
  port: number,
  sockets: SocketSet,
  host = '127.0.0.1',
  allowHalfOpen = false,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = sockets.add(net.connect({ host, port, allowHalfOpen }));
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Collects everything until the peer ends or closes; rejects after `ms`. */
export function readToEnd(s: net.Socket, ms = STEP_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `readToEnd: no EOF within ${ms} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`,
          ),
        ),
      ms,
    );
    const done = (): void => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    };
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', done);
    s.once('close', done);
    s.resume();
  });
}

/** Reads exactly `n` bytes (leaving any extra in the stream). */
export function readExactly(s: net.Socket, n: number, ms = STEP_MS): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = (): void => {
      clearTimeout(timer);
      s.off('data', onData);
      s.off('close', onClose);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `readExactly(${n}): timeout with ${buf.length} bytes ${JSON.stringify(buf.toString('latin1'))}`,
        ),
      );
    }, ms);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= n) {
        cleanup();
        s.pause();
        if (buf.length > n) s.unshift(buf.subarray(n));
        resolve(buf.subarray(0, n));
      }
    };
    const onClose = (): void => {
      cleanup();
      reject(
        new Error(
          `readExactly(${n}): closed after ${buf.length} bytes ${JSON.stringify(buf.toString('latin1'))}`,
        ),
      );
    };
    s.on('data', onData);
    s.once('close', onClose);
    s.resume();
  });
}

/** Resolves when `s` is closed (rejects after `ms`). */
export function waitClose(s: net.Socket, ms = STEP_MS): Promise<void> {
  if (s.closed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket not closed within ${ms} ms`)), ms);
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    s.resume();
  });
}

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs /usr/bin/curl with a clean proxy environment and a hard time limit. */
export function curl(args: string[], ms = STEP_MS * 2): Promise<CurlResult> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp' };
    execFile(
      '/usr/bin/curl',
      ['-sS', '--max-time', String(Math.ceil(ms / 1000)), ...args],
      { env, timeout: ms + 2000 },
      (err, stdout, stderr) => {
        const code =
          err && typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : err
              ? -1
              : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Waits until `pred` holds, polling every 10 ms; throws after `ms`. */
export async function waitFor(pred: () => boolean, ms = STEP_MS, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
