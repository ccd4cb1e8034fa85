// Shared pieces of the GOST interop matrix: an echo target, application clients for each front end
// (HTTP CONNECT, SOCKS5, SOCKS4) that check the echoed payload by SHA-256, a TCP tap that records
// the bytes two processes exchange, and starters for a gost-ts or GOST process in either role.
import net from 'node:net';
import { after } from 'node:test';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { startCli, freePort, type CliProcess } from '../../helpers/cli.js';
import { startGost, type GostProcess } from '../../helpers/gost.js';

/** Every wait in the matrix is bounded by this, with a message naming what did not happen. */
export const STEP_MS = 10_000;

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * Everything the matrix starts, so that a test failing half-way through its set-up (before its
 * own `t.after` is registered) still leaves no process or server behind when the file ends.
 */
const live = new Set<() => unknown>();
after(async () => {
  for (const close of [...live]) await close();
});

/** Runs `close` once (later calls get the first result) and forgets it in `live`. */
function closeOnce<T>(close: () => T): () => T {
  let result: { value: T } | undefined;
  const once = (): T => {
    if (result === undefined) {
      live.delete(once);
      result = { value: close() };
    }
    return result.value;
  };
  live.add(once);
  return once;
}

/** One running peer, gost-ts or GOST, with what the tests read from either. */
export interface Peer {
  readonly kind: 'gost' | 'gost-ts';
  readonly port: number;
  readonly lines: string[];
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<number | null>;
  /** Whether the process is still running. */
  alive(): boolean;
}

function wrap(kind: Peer['kind'], port: number, p: CliProcess | GostProcess): Peer {
  return {
    kind,
    port,
    lines: p.lines,
    waitForLine: (re, ms) => p.waitForLine(re, ms),
    stop: closeOnce(() => p.stop()),
    alive: () => p.proc.exitCode === null && p.proc.signalCode === null,
  };
}

/** Starts `kind` with the given arguments; `port` is the port the caller put in its -L. */
export async function startPeer(
  kind: Peer['kind'],
  args: string[],
  port: number,
  opts: { cwd?: string; listeners?: number } = {},
): Promise<Peer> {
  if (kind === 'gost') return wrap(kind, port, await startGost(args, opts));
  return wrap(kind, port, await startCli(args, opts.cwd === undefined ? {} : { cwd: opts.cwd }));
}

/** Resolves once something accepts TCP connections on loopback `port` (bounded). */
export async function waitForPort(port: number, ms = STEP_MS): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const s = net.connect(port, '127.0.0.1');
    const ok = await new Promise<boolean>((resolve) => {
      s.once('connect', () => resolve(true));
      s.once('error', () => resolve(false));
    });
    s.destroy();
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A server `-L <url>` of `kind` on a fresh port; `url(port)` builds the URL. */
export async function server(
  kind: Peer['kind'],
  url: (port: number) => string,
  opts: { cwd?: string } = {},
): Promise<Peer> {
  const port = await freePort();
  return startPeer(kind, ['-L', url(port)], port, opts);
}

/** A client of `kind`: front end `front` (e.g. `http`, `socks5`, `auto`) on a fresh port, chain `-F`s. */
export async function client(kind: Peer['kind'], front: string, hops: string[]): Promise<Peer> {
  const port = await freePort();
  const args = ['-L', `${front}://127.0.0.1:${port}`];
  for (const h of hops) args.push('-F', h);
  return startPeer(kind, args, port);
}

/** The other implementation. */
export const other = (kind: Peer['kind']): Peer['kind'] => (kind === 'gost' ? 'gost-ts' : 'gost');

/** Both roles: [client kind, server kind]. */
export const ROLES: ReadonlyArray<readonly [Peer['kind'], Peer['kind']]> = [
  ['gost-ts', 'gost'],
  ['gost', 'gost-ts'],
];

/** A loopback TCP echo server that counts its connections. */
export async function echoTarget(): Promise<{
  port: number;
  addr: string;
  connections: () => number;
  close: () => void;
}> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    count += 1;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.pipe(s);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  return {
    port,
    addr: `127.0.0.1:${port}`,
    connections: () => count,
    close: closeOnce(() => {
      for (const s of sockets) s.destroy();
      srv.close();
    }),
  };
}

/**
 * Reads a socket in exact amounts: bytes arrive into a buffer, `take(n)` waits for n of them.
 * Every wait is bounded; the socket closing early rejects with how much had arrived.
 */
export class SocketReader {
  private buf = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  /** Bytes received and not yet taken. */
  pending(): Buffer {
    return this.buf;
  }

  /** Waits until `ready(buf)` returns a length to take, then takes it. */
  async until(ready: (b: Buffer) => number | undefined, what: string, ms = STEP_MS): Promise<Buffer> {
    const deadline = Date.now() + ms;
    for (;;) {
      const n = ready(this.buf);
      if (n !== undefined) {
        const out = this.buf.subarray(0, n);
        this.buf = this.buf.subarray(n);
        return out;
      }
      if (this.closed) {
        throw new Error(`connection closed while waiting for ${what}; had ${hex(this.buf)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; had ${hex(this.buf)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
    }
  }

  take(n: number, what: string, ms?: number): Promise<Buffer> {
    return this.until((b) => (b.length >= n ? n : undefined), `${n} bytes of ${what}`, ms);
  }

  /** An HTTP head up to and including the blank line. */
  head(what: string, ms?: number): Promise<Buffer> {
    return this.until(
      (b) => {
        const i = b.indexOf('\r\n\r\n');
        return i < 0 ? undefined : i + 4;
      },
      what,
      ms,
    );
  }

  /** Resolves once the peer closed, with whatever arrived before. */
  async closedWith(what: string, ms = STEP_MS): Promise<Buffer> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for the peer to close after ${what}; had ${hex(this.buf)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
    }
    const out = this.buf;
    this.buf = Buffer.alloc(0);
    return out;
  }
}

export const hex = (b: Buffer): string =>
  b.length > 96
    ? `${b.subarray(0, 96).toString('hex')}… (${b.length} bytes)`
    : b.toString('hex') || '(nothing)';

export async function connect(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  await bounded(once(s, 'connect'), `connect to 127.0.0.1:${port}`);
  return s;
}

/** `p`, or a rejection naming `what` after `ms` (the timer never outlives the race). */
export async function bounded<T>(p: Promise<T>, what: string, ms = STEP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends `payload` and checks the echo by hash; resolves with the echo's SHA-256. */
export async function echoHash(r: SocketReader, payload: Buffer): Promise<string> {
  r.socket.write(payload);
  const back = await r.take(payload.length, 'the echoed payload', 30_000);
  r.socket.destroy();
  return sha256(back);
}

/** The front-end protocols an application can speak to a client. */
export type AppProtocol = 'http' | 'socks5' | 'socks4';

/**
 * Opens a tunnel to `target` (`127.0.0.1:port`) through the proxy at `proxyPort` speaking
 * `proto`; resolves with the reader positioned after the proxy's success reply. Throws with the
 * reply bytes when the proxy refuses.
 */
export async function openTunnel(
  proxyPort: number,
  proto: AppProtocol,
  target: string,
  auth?: { user: string; pass: string },
): Promise<SocketReader> {
  const s = await connect(proxyPort);
  const r = new SocketReader(s);
  const [host, portText] = target.split(':') as [string, string];
  const port = Number(portText);
  if (proto === 'http') {
    const cred = auth
      ? `Proxy-Authorization: Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}\r\n`
      : '';
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${cred}\r\n`);
    const head = (await r.head('the CONNECT reply')).toString('latin1');
    if (!/^HTTP\/1\.[01] 200/.test(head)) throw new Error(`CONNECT refused: ${JSON.stringify(head)}`);
    return r;
  }
  const ip = host.split('.').map(Number);
  const portBytes = [port >> 8, port & 0xff];
  if (proto === 'socks4') {
    s.write(Buffer.from([4, 1, ...portBytes, ...ip, 0]));
    const reply = await r.take(8, 'the SOCKS4 reply');
    if (reply[1] !== 0x5a) throw new Error(`SOCKS4 refused: ${hex(reply)}`);
    return r;
  }
  s.write(Buffer.from([5, 1, auth ? 2 : 0]));
  const method = await r.take(2, 'the SOCKS5 method selection');
  if (method[1] !== (auth ? 2 : 0)) throw new Error(`SOCKS5 method refused: ${hex(method)}`);
  if (auth) {
    const u = Buffer.from(auth.user);
    const p = Buffer.from(auth.pass);
    s.write(Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]));
    const st = await r.take(2, 'the SOCKS5 auth status');
    if (st[1] !== 0) throw new Error(`SOCKS5 auth refused: ${hex(st)}`);
  }
  s.write(Buffer.from([5, 1, 0, 1, ...ip, ...portBytes]));
  const reply = await r.take(10, 'the SOCKS5 reply');
  if (reply[1] !== 0) throw new Error(`SOCKS5 refused: ${hex(reply)}`);
  return r;
}

/** One round trip of `size` random bytes to the echo `target` through `proxyPort`; asserts the hash. */
export async function roundTrip(
  proxyPort: number,
  target: string,
  opts: { proto?: AppProtocol; size?: number; auth?: { user: string; pass: string } } = {},
): Promise<void> {
  const payload = randomBytes(opts.size ?? 256 << 10);
  const r = await openTunnel(proxyPort, opts.proto ?? 'http', target, opts.auth);
  const got = await echoHash(r, payload);
  if (got !== sha256(payload)) throw new Error(`echo hash mismatch through ${opts.proto ?? 'http'}`);
}

/** What a tap saw on one TCP connection: the bytes each way (capped). */
export interface TappedConnection {
  up: Buffer;
  down: Buffer;
  /** When the connection was accepted (Date.now()). */
  opened: number;
}

const TAP_CAP = 1024 * 1024;

/**
 * A TCP relay between a client and a server that records the first bytes each way of every
 * connection — the upgrade request, the 101 reply and the first WebSocket frames.
 */
export async function tcpTap(targetPort: number): Promise<{
  port: number;
  connections: TappedConnection[];
  close: () => void;
}> {
  const connections: TappedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((a) => {
    const rec: TappedConnection = { up: Buffer.alloc(0), down: Buffer.alloc(0), opened: Date.now() };
    connections.push(rec);
    const b = net.connect(targetPort, '127.0.0.1');
    for (const s of [a, b]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (a.destroy(), b.destroy()));
    }
    a.on('data', (c: Buffer) => {
      if (rec.up.length < TAP_CAP) rec.up = Buffer.concat([rec.up, c]);
    });
    b.on('data', (c: Buffer) => {
      if (rec.down.length < TAP_CAP) rec.down = Buffer.concat([rec.down, c]);
    });
    a.pipe(b);
    b.pipe(a);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    port: (srv.address() as net.AddressInfo).port,
    connections,
    close: closeOnce(() => {
      for (const s of sockets) s.destroy();
      srv.close();
    }),
  };
}

/** The HTTP head at the start of `b` (text), or throws naming `what`. */
export function headOf(b: Buffer, what: string): string {
  const i = b.indexOf('\r\n\r\n');
  if (i < 0) throw new Error(`no complete HTTP head in ${what}: ${JSON.stringify(b.toString('latin1'))}`);
  return b.subarray(0, i + 4).toString('latin1');
}

/** The first byte of the first WebSocket frame after the HTTP head (FIN, RSV1-3, opcode). */
export function firstFrameByte(b: Buffer, what: string): number {
  const i = b.indexOf('\r\n\r\n');
  const byte = i < 0 ? undefined : b[i + 4];
  if (byte === undefined) throw new Error(`no WebSocket frame after the head in ${what}`);
  return byte;
}

/** Value of header `name` (case-insensitive) in an HTTP head, or undefined. */
export function header(head: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head.replace(/\r\n/g, '\n'));
  return m?.[1]?.trim();
}

/** One WebSocket frame as seen on the wire (payload unmasked). */
export interface WsFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** The complete WebSocket frames after the HTTP head in `b` (an incomplete tail is ignored). */
export function wsFrames(b: Buffer): WsFrame[] {
  const frames: WsFrame[] = [];
  let at = b.indexOf('\r\n\r\n');
  if (at < 0) return frames;
  at += 4;
  for (;;) {
    if (b.length < at + 2) return frames;
    const b0 = b[at]!;
    const b1 = b[at + 1]!;
    let len = b1 & 0x7f;
    let p = at + 2;
    if (len === 126) {
      if (b.length < p + 2) return frames;
      len = b.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (b.length < p + 8) return frames;
      len = Number(b.readBigUInt64BE(p));
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const key = masked ? b.subarray(p, p + 4) : undefined;
    if (masked) p += 4;
    if (b.length < p + len) return frames;
    const payload = Buffer.from(b.subarray(p, p + len));
    if (key) for (let i = 0; i < payload.length; i += 1) payload[i]! ^= key[i % 4]!;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, masked, payload });
    at = p + len;
  }
}

/** One smux frame header (and the UPD payload), decoded from an uncompressed WebSocket stream. */
export interface SmuxFrame {
  version: number;
  cmd: number;
  length: number;
  sid: number;
  /** UPD only: [consumed, window]. */
  upd?: [number, number];
}

export const SMUX_NOP = 3;
export const SMUX_PSH = 2;
export const SMUX_UPD = 4;

/** The smux frames carried by the data messages among `frames` (uncompressed sessions only). */
export function smuxFrames(frames: WsFrame[]): SmuxFrame[] {
  const data = Buffer.concat(frames.filter((f) => f.opcode <= 2).map((f) => f.payload));
  const out: SmuxFrame[] = [];
  let at = 0;
  while (data.length >= at + 8) {
    const f: SmuxFrame = {
      version: data[at]!,
      cmd: data[at + 1]!,
      length: data.readUInt16LE(at + 2),
      sid: data.readUInt32LE(at + 4),
    };
    at += 8;
    const body = f.cmd === SMUX_PSH ? f.length : f.cmd === SMUX_UPD ? 8 : 0;
    if (data.length < at + body) break;
    if (f.cmd === SMUX_UPD) f.upd = [data.readUInt32LE(at), data.readUInt32LE(at + 4)];
    at += body;
    out.push(f);
  }
  return out;
}
