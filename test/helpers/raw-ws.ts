// Test helper: a raw TCP WebSocket peer that sees (and can produce) the exact bytes on the wire.
//
//   const server = await startRawWsServer({ deflate: true });           // dialer side
//   const conn = await server.nextConnection();                          // a RawWsPeer
//   (await conn.request).raw.toString('latin1')                          // the exact upgrade request
//   conn.frames / conn.messages / conn.smuxFrames                        // what the dialer sent
//   conn.sendBinary(encodePsh(1, 3, payload))                            // answer with raw smux
//
//   const client = rawWsClient(listenerPort, { path: '/ws' });          // listener side
//   (await client.response).status === 101; client.sendBinary(..., )     // masked frames
//   await rawExchange(port, 'GET / HTTP/1.1\r\n...')                     // any bytes, raw reply
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import zlib from 'node:zlib';

export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const DEFLATE_EXTENSION = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';

export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Sec-WebSocket-Accept for a key. */
export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + WS_GUID)
    .digest('base64');
}

// ---------------------------------------------------------------------------------------------
// WebSocket frames

/** One WebSocket frame as seen on the wire (payload already unmasked, still compressed). */
export interface WsFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** Payload length from the header. */
  length: number;
  payload: Buffer;
  /** Date.now() when the frame was complete. */
  at: number;
}

/** A reassembled data message (text or binary), inflated when it was compressed. */
export interface WsMessage {
  opcode: number;
  compressed: boolean;
  data: Buffer;
  frames: WsFrame[];
}

/** Incremental RFC 6455 frame parser (no validation: it reports what it sees). */
export class WsFrameParser {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): WsFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: WsFrame[] = [];
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      const b0 = b[0] as number;
      const b1 = b[1] as number;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) break;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) break;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (b.length < off + len) break;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (masked) {
        for (let i = 0; i < payload.length; i++)
          payload[i] = (payload[i] as number) ^ (b[maskOff + (i & 3)] as number);
      }
      out.push({
        fin: (b0 & 0x80) !== 0,
        rsv1: (b0 & 0x40) !== 0,
        rsv2: (b0 & 0x20) !== 0,
        rsv3: (b0 & 0x10) !== 0,
        opcode: b0 & 0x0f,
        masked,
        length: len,
        payload,
        at: Date.now(),
      });
      this.buf = b.subarray(off + len);
    }
    return out;
  }
}

export interface EncodeFrameOptions {
  opcode: number;
  payload?: Buffer | string;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  /** true = random key, a Buffer = that key, false/undefined = unmasked. */
  mask?: boolean | Buffer;
}

/** Builds one WebSocket frame. */
export function encodeFrame(o: EncodeFrameOptions): Buffer {
  const payload = typeof o.payload === 'string' ? Buffer.from(o.payload) : (o.payload ?? Buffer.alloc(0));
  const len = payload.length;
  const key =
    o.mask === true ? randomBytes(4) : o.mask === false || o.mask === undefined ? undefined : o.mask;
  const head: number[] = [((o.fin ?? true) ? 0x80 : 0) | (o.rsv1 === true ? 0x40 : 0) | (o.opcode & 0x0f)];
  const m = key !== undefined ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (len < 126) head.push(m | len);
  else if (len < 0x10000) {
    head.push(m | 126);
    ext = Buffer.alloc(2);
    ext.writeUInt16BE(len);
  } else {
    head.push(m | 127);
    ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(len));
  }
  let body = payload;
  if (key !== undefined) {
    body = Buffer.from(payload);
    for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (key[i & 3] as number);
  }
  return Buffer.concat([Buffer.from(head), ext, key ?? Buffer.alloc(0), body]);
}

/** permessage-deflate of one message (no context takeover, trailing 00 00 ff ff removed). */
export function deflateMessage(data: Buffer): Buffer {
  const out = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH, level: 1 });
  return out.subarray(0, out.length - 4);
}

/** Inverse of deflateMessage. */
export function inflateMessage(data: Buffer): Buffer {
  return zlib.inflateRawSync(Buffer.concat([data, Buffer.from([0, 0, 0xff, 0xff])]), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
}

// ---------------------------------------------------------------------------------------------
// smux frames over the concatenated message payloads

export interface SmuxWireFrame {
  version: number;
  cmd: number;
  /** The header's length field. */
  length: number;
  sid: number;
  /** PSH payload. */
  data?: Buffer;
  /** UPD fields. */
  consumed?: number;
  window?: number;
  at: number;
}

export const SMUX_CMD_NAMES = ['SYN', 'FIN', 'PSH', 'NOP', 'UPD'] as const;

/**
 * Tiny smux parser with xtaci's consumption rules: PSH consumes `length` bytes, UPD always 8, the rest
 * nothing. Versions and commands are reported, not checked.
 */
export class SmuxWireParser {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SmuxWireFrame[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: SmuxWireFrame[] = [];
    for (;;) {
      const b = this.buf;
      if (b.length < 8) break;
      const version = b[0] as number;
      const cmd = b[1] as number;
      const length = b.readUInt16LE(2);
      const sid = b.readUInt32LE(4);
      const at = Date.now();
      if (cmd === 2) {
        if (b.length < 8 + length) break;
        out.push({ version, cmd, length, sid, data: Buffer.from(b.subarray(8, 8 + length)), at });
        this.buf = b.subarray(8 + length);
      } else if (cmd === 4) {
        if (b.length < 16) break;
        out.push({ version, cmd, length, sid, consumed: b.readUInt32LE(8), window: b.readUInt32LE(12), at });
        this.buf = b.subarray(16);
      } else {
        out.push({ version, cmd, length, sid, at });
        this.buf = b.subarray(8);
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP heads

export interface HttpHead {
  /** Exact bytes of the head, CRLFCRLF included. */
  raw: Buffer;
  /** Request line or status line. */
  startLine: string;
  /** Header lines in wire order, names as sent. */
  headers: [string, string][];
  /** First value of a header, case-insensitive. */
  get(name: string): string | undefined;
}

function parseHead(raw: Buffer): HttpHead {
  const lines = raw.toString('latin1').split('\r\n');
  const startLine = lines[0] ?? '';
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const i = line.indexOf(':');
    headers.push(i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1).trim()]);
  }
  return {
    raw,
    startLine,
    headers,
    get: (name) => headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1],
  };
}

export interface HttpRequestHead extends HttpHead {
  method: string;
  path: string;
}

export interface HttpResponseHead extends HttpHead {
  status: number;
}

// ---------------------------------------------------------------------------------------------
// The peer

export interface RawWsPeerOptions {
  /** Server: answers 101 itself. Client: masks what it sends. */
  role: 'server' | 'client';
  /** Answer pings with pongs (default true). */
  autoPong?: boolean;
  /** Server: answer the upgrade at all (default true); false = accept TCP and stay silent. */
  answer?: boolean;
  /** Server: include the permessage-deflate line in the 101 when the client offered it. */
  deflate?: boolean;
  /** Server: extra header lines (`Name: value`) in the 101. */
  extraHeaders?: string[];
}

/**
 * One raw WebSocket connection. Records every byte and frame that arrives; sends frames exactly as
 * asked (client role: masked by default). Data messages are reassembled (and inflated when RSV1) and
 * their payloads, concatenated, are parsed as smux.
 */
export class RawWsPeer extends EventEmitter {
  readonly socket: net.Socket;
  readonly role: 'server' | 'client';
  /** Every byte received, head included. */
  received: Buffer = Buffer.alloc(0);
  readonly frames: WsFrame[] = [];
  readonly messages: WsMessage[] = [];
  readonly smuxFrames: SmuxWireFrame[] = [];
  /** Server role: the upgrade request head. */
  readonly request: Promise<HttpRequestHead>;
  /** Client role: the response head. */
  readonly response: Promise<HttpResponseHead>;
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  isClosed = false;
  /** Whether the permessage-deflate extension is in use. */
  deflate = false;
  autoPong: boolean;

  private readonly opts: RawWsPeerOptions;
  private headDone = false;
  private headBuf: Buffer = Buffer.alloc(0);
  private readonly parser = new WsFrameParser();
  private readonly smux = new SmuxWireParser();
  private partial: WsFrame[] = [];
  private resolveRequest!: (h: HttpRequestHead) => void;
  private resolveResponse!: (h: HttpResponseHead) => void;

  constructor(socket: net.Socket, opts: RawWsPeerOptions) {
    super();
    this.socket = socket;
    this.role = opts.role;
    this.opts = opts;
    this.autoPong = opts.autoPong ?? true;
    this.request = new Promise((r) => (this.resolveRequest = r));
    this.response = new Promise((r) => (this.resolveResponse = r));
    // Avoid unhandled rejections: these promises never reject, but may never resolve either.
    this.closed = new Promise((r) =>
      socket.once('close', () => {
        this.isClosed = true;
        r();
      }),
    );
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /** Bytes received after the HTTP head (the WebSocket stream). */
  get body(): Buffer {
    return this.received.subarray(this.headBuf.length);
  }

  private onData(chunk: Buffer): void {
    this.received = Buffer.concat([this.received, chunk]);
    if (!this.headDone) {
      const end = this.received.indexOf('\r\n\r\n');
      if (end < 0) return;
      this.headDone = true;
      this.headBuf = Buffer.from(this.received.subarray(0, end + 4));
      const rest = this.received.subarray(end + 4);
      const head = parseHead(this.headBuf);
      if (this.role === 'server') {
        const [method = '', path = ''] = head.startLine.split(' ');
        this.resolveRequest({ ...head, method, path });
        if (this.opts.answer ?? true) this.answerUpgrade(head);
      } else {
        const status = Number(head.startLine.split(' ')[1] ?? 0);
        const ext = head.get('sec-websocket-extensions') ?? '';
        this.deflate = ext.includes('permessage-deflate');
        this.resolveResponse({ ...head, status });
      }
      if (rest.length > 0) this.onFrames(Buffer.from(rest));
      return;
    }
    this.onFrames(chunk);
  }

  private answerUpgrade(head: HttpHead): void {
    const key = head.get('sec-websocket-key') ?? '';
    const lines = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptKey(key)}`,
    ];
    const offered = (head.get('sec-websocket-extensions') ?? '').includes('permessage-deflate');
    if (this.opts.deflate === true && offered) {
      lines.push(`Sec-WebSocket-Extensions: ${DEFLATE_EXTENSION}`);
      this.deflate = true;
    }
    lines.push(...(this.opts.extraHeaders ?? []), '', '');
    this.socket.write(lines.join('\r\n'));
  }

  private onFrames(chunk: Buffer): void {
    for (const f of this.parser.push(chunk)) {
      this.frames.push(f);
      this.emit('frame', f);
      if (f.opcode >= 8) {
        if (f.opcode === OP_PING && this.autoPong && !this.isClosed)
          this.sendFrame({ opcode: OP_PONG, payload: f.payload });
        continue;
      }
      this.partial.push(f);
      if (!f.fin) continue;
      const frames = this.partial;
      this.partial = [];
      const first = frames[0] as WsFrame;
      let data: Buffer = Buffer.concat(frames.map((x) => x.payload));
      if (first.rsv1) data = inflateMessage(data);
      const msg: WsMessage = { opcode: first.opcode, compressed: first.rsv1, data, frames };
      this.messages.push(msg);
      this.emit('message', msg);
      for (const s of this.smux.push(data)) {
        this.smuxFrames.push(s);
        this.emit('smux', s);
      }
    }
  }

  /** Writes one frame; masked by default in the client role. */
  sendFrame(o: EncodeFrameOptions): void {
    if (this.socket.destroyed) return;
    this.socket.write(encodeFrame({ mask: this.role === 'client', ...o }));
  }

  /** One binary message (compressed when deflate is on and `compress` is not false). */
  sendBinary(data: Buffer, o: { compress?: boolean; mask?: boolean } = {}): void {
    const compress = o.compress ?? this.deflate;
    const payload = compress ? deflateMessage(data) : data;
    this.sendFrame({
      opcode: OP_BINARY,
      payload,
      rsv1: compress,
      ...(o.mask !== undefined ? { mask: o.mask } : {}),
    });
  }

  sendText(text: string): void {
    this.sendFrame({ opcode: OP_TEXT, payload: text });
  }

  sendClose(code: number, reason = ''): void {
    const p = Buffer.alloc(2 + Buffer.byteLength(reason));
    p.writeUInt16BE(code);
    p.write(reason, 2);
    this.sendFrame({ opcode: OP_CLOSE, payload: p });
  }

  /** Bytes as they are. */
  sendRaw(data: Buffer | string): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Resolves with the first smux frame (past or future) matching `pred`. */
  waitSmux(pred: (f: SmuxWireFrame) => boolean, timeoutMs = 5000): Promise<SmuxWireFrame> {
    return this.waitIn('smux', this.smuxFrames, pred, timeoutMs);
  }

  /** Resolves with the first WebSocket frame (past or future) matching `pred`. */
  waitFrame(pred: (f: WsFrame) => boolean, timeoutMs = 5000): Promise<WsFrame> {
    return this.waitIn('frame', this.frames, pred, timeoutMs);
  }

  private waitIn<T>(event: string, seen: T[], pred: (x: T) => boolean, timeoutMs: number): Promise<T> {
    const found = seen.find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const on = (x: T): void => {
        if (!pred(x)) return;
        clearTimeout(timer);
        this.off(event, on);
        resolve(x);
      };
      const timer = setTimeout(() => {
        this.off(event, on);
        reject(new Error(`raw-ws: no matching ${event} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.on(event, on);
    });
  }

  /** Resolves true when the socket closes within timeoutMs, false otherwise. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    if (this.isClosed) return true;
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((res) => (timer = setTimeout(() => res(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Server (faces a dialer)

export interface RawWsServer {
  port: number;
  /** `127.0.0.1:PORT` */
  addr: string;
  readonly peers: RawWsPeer[];
  /** The next accepted connection not yet returned (past or future). */
  nextConnection(timeoutMs?: number): Promise<RawWsPeer>;
  close(): Promise<void>;
}

export type RawWsServerOptions = Omit<RawWsPeerOptions, 'role'>;

/** A loopback TCP server that speaks raw WebSocket (server side) to whoever connects. */
export async function startRawWsServer(opts: RawWsServerOptions = {}): Promise<RawWsServer> {
  const peers: RawWsPeer[] = [];
  let handedOut = 0;
  const events = new EventEmitter();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const peer = new RawWsPeer(socket, { ...opts, role: 'server' });
    peers.push(peer);
    events.emit('peer');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    addr: `127.0.0.1:${port}`,
    peers,
    nextConnection: (timeoutMs = 5000) =>
      new Promise<RawWsPeer>((resolve, reject) => {
        const take = (): boolean => {
          const p = peers[handedOut];
          if (p === undefined) return false;
          handedOut += 1;
          resolve(p);
          return true;
        };
        if (take()) return;
        const on = (): void => {
          if (take()) {
            clearTimeout(timer);
            events.off('peer', on);
          }
        };
        const timer = setTimeout(() => {
          events.off('peer', on);
          reject(new Error(`raw-ws server: no connection within ${timeoutMs} ms`));
        }, timeoutMs);
        events.on('peer', on);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of peers) p.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Client (faces a listener)

export interface RawWsClientOptions {
  host?: string;
  path?: string;
  /** Offer permessage-deflate. */
  deflate?: boolean;
  /** Extra header lines `Name: value`. */
  extraHeaders?: string[];
  /** Replace the whole request (bytes as given). */
  request?: Buffer | string;
  autoPong?: boolean;
}

/** A valid gorilla-style upgrade request. */
export function upgradeRequest(o: {
  host: string;
  path?: string;
  deflate?: boolean;
  extraHeaders?: string[];
}): string {
  const lines = [
    `GET ${o.path ?? '/ws'} HTTP/1.1`,
    `Host: ${o.host}`,
    'User-Agent: Go-http-client/1.1',
    'Connection: Upgrade',
    ...(o.deflate === true ? [`Sec-WebSocket-Extensions: ${DEFLATE_EXTENSION}`] : []),
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    'Upgrade: websocket',
    ...(o.extraHeaders ?? []),
    '',
    '',
  ];
  return lines.join('\r\n');
}

/** Connects to 127.0.0.1:port and sends an upgrade request (or `request` verbatim). */
export function rawWsClient(port: number, o: RawWsClientOptions = {}): RawWsPeer {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const peer = new RawWsPeer(socket, {
    role: 'client',
    ...(o.autoPong !== undefined ? { autoPong: o.autoPong } : {}),
  });
  const req =
    o.request ??
    upgradeRequest({
      host: o.host ?? `127.0.0.1:${port}`,
      ...(o.path !== undefined ? { path: o.path } : {}),
      ...(o.deflate !== undefined ? { deflate: o.deflate } : {}),
      ...(o.extraHeaders !== undefined ? { extraHeaders: o.extraHeaders } : {}),
    });
  socket.write(req);
  return peer;
}

/** A client that has completed the upgrade (rejects unless the reply is 101). */
export async function openRawWsClient(
  port: number,
  o: RawWsClientOptions = {},
  timeoutMs = 5000,
): Promise<RawWsPeer> {
  const peer = rawWsClient(port, o);
  let timer: NodeJS.Timeout | undefined;
  const res = await Promise.race([
    peer.response,
    new Promise<never>(
      (_, rej) => (timer = setTimeout(() => rej(new Error('raw-ws client: no 101')), timeoutMs)),
    ),
  ]).finally(() => clearTimeout(timer));
  if (res.status !== 101) {
    peer.destroy();
    throw new Error(`raw-ws client: expected 101, got ${res.startLine}`);
  }
  return peer;
}

export interface RawExchange {
  /** Everything the server sent. */
  data: Buffer;
  /** Whether the server closed the connection (false: timeoutMs elapsed first). */
  closed: boolean;
  /** ms from the first write to the close (or to the timeout). */
  elapsed: number;
}

/**
 * Sends `parts` (written one by one, `gapMs` apart) and collects the reply until the server closes
 * the connection or `timeoutMs` passes.
 */
export async function rawExchange(
  port: number,
  parts: (Buffer | string)[] | Buffer | string,
  o: { timeoutMs?: number; gapMs?: number; until?: (data: Buffer) => boolean } = {},
): Promise<RawExchange> {
  const list = Array.isArray(parts) ? parts : [parts];
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  const start = Date.now();
  let data = Buffer.alloc(0);
  const done = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), o.timeoutMs ?? 3000);
    socket.on('data', (c: Buffer) => {
      data = Buffer.concat([data, c]);
      if (o.until?.(data) === true) {
        clearTimeout(timer);
        resolve(false);
      }
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  void (async () => {
    for (const [i, p] of list.entries()) {
      if (i > 0 && (o.gapMs ?? 0) > 0) await new Promise((r) => setTimeout(r, o.gapMs));
      if (socket.destroyed) return;
      socket.write(p);
    }
  })();
  const closed = await done;
  const elapsed = Date.now() - start;
  socket.destroy();
  return { data, closed, elapsed };
}

/** Splits a raw HTTP response into status, headers and body. */
export function parseResponse(data: Buffer): { status: number; head: HttpHead; body: string } {
  const end = data.indexOf('\r\n\r\n');
  const headRaw = end < 0 ? data : data.subarray(0, end + 4);
  const head = parseHead(Buffer.from(headRaw));
  return {
    status: Number(head.startLine.split(' ')[1] ?? 0),
    head,
    body: end < 0 ? '' : data.subarray(end + 4).toString('latin1'),
  };
}
