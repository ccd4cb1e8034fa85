import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import WebSocket, { WebSocketServer } from 'ws';
import { WebSocketDuplex } from '../../src/transport/websocket/ws-duplex.js';
import { SmuxSession } from '../../src/mux/smux/session.js';
import type { SmuxStream } from '../../src/mux/smux/stream.js';
import { encodeControl, encodePsh, CMD_SYN } from '../../src/mux/smux/frame.js';

type T = { after: (fn: () => Promise<void> | void) => void };

/** A server-side WebSocketDuplex, the ws client talking to it, and a log of the socket's writes. */
async function pair(
  t: T,
): Promise<{ duplex: WebSocketDuplex; client: WebSocket; writes: number[][]; socket: Socket }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.after(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  );
  await once(wss, 'listening');
  const { port } = wss.address() as { port: number };
  const accepted = once(wss, 'connection') as Promise<[WebSocket, { socket: Socket }]>;
  const client = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
  client.binaryType = 'nodebuffer';
  const [[ws, req]] = await Promise.all([accepted, once(client, 'open')]);
  t.after(() => client.terminate());
  const socket = req.socket;
  // Each entry: the sizes of the buffers one syscall-level write carried.
  const writes: number[][] = [];
  const s = socket as unknown as {
    _write: (c: Buffer, e: string, cb: () => void) => void;
    _writev: (cs: { chunk: Buffer }[], cb: () => void) => void;
  };
  const write = s._write.bind(s);
  const writev = s._writev.bind(s);
  s._write = (c, e, cb) => {
    writes.push([c.length]);
    write(c, e, cb);
  };
  s._writev = (cs, cb) => {
    writes.push(cs.map((x) => x.chunk.length));
    writev(cs, cb);
  };
  return { duplex: new WebSocketDuplex(ws, { socket }), client, writes, socket };
}

function collect(client: WebSocket, n: number): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    client.on('message', (data: Buffer) => {
      got.push(data);
      if (got.length === n) resolve(got);
    });
  });
}

test('small frames written in one turn leave in one write, in order, one message each', async (t) => {
  const { duplex, client, writes } = await pair(t);
  const messages = collect(client, 20);
  const head = Buffer.alloc(8);
  for (let i = 0; i < 20; i++) {
    head.writeUInt32BE(i, 0); // reused by the caller, as the smux session does
    duplex.writeFrame(head, Buffer.from(`frame ${i}`));
  }
  assert.equal(writes.length, 0, 'nothing written before the turn ends');
  await nextTurn();
  assert.equal(writes.length, 1, `one write for all small frames, got ${writes.length}`);
  const got = await messages;
  got.forEach((m, i) => {
    assert.equal(m.readUInt32BE(0), i);
    assert.equal(m.subarray(8).toString(), `frame ${i}`);
  });
});

test('a large frame goes out at once, taking the small frames held before it', async (t) => {
  const { duplex, client, writes } = await pair(t);
  const messages = collect(client, 4);
  const head = Buffer.alloc(8);
  for (let i = 0; i < 3; i++) duplex.writeFrame(head, Buffer.from(`small ${i}`));
  const big = Buffer.alloc(32_768, 7);
  duplex.writeFrame(head, big);
  assert.equal(writes.length, 1, 'written before the turn ends');
  assert.ok((writes[0] as number[]).includes(32_768), 'the large payload is written without a copy');
  const got = await messages;
  assert.deepEqual(
    got.slice(0, 3).map((m) => m.subarray(8).toString()),
    ['small 0', 'small 1', 'small 2'],
  );
  assert.deepEqual(got[3]?.subarray(8), big);
  // Nothing is left corked: a later small frame still goes out.
  const next = collect(client, 1);
  duplex.writeFrame(head, Buffer.from('after'));
  assert.equal((await next)[0]?.subarray(8).toString(), 'after');
});

test('the frames of one batch (one smux flush) leave in one write', async (t) => {
  const { duplex, client, writes } = await pair(t);
  const messages = collect(client, 3);
  const head = Buffer.alloc(8);
  duplex.beginBatch();
  for (let i = 0; i < 3; i++) duplex.writeFrame(head, Buffer.alloc(32_768, i));
  assert.equal(writes.length, 0, 'held until the batch ends');
  duplex.endBatch();
  assert.equal(writes.length, 1, `one write for the batch, got ${writes.length}`);
  const got = await messages;
  got.forEach((m, i) => assert.deepEqual(m.subarray(8), Buffer.alloc(32_768, i)));
});

test('an smux session reads the frames directly and pauses the socket when its budget is spent', async (t) => {
  const { duplex, client, socket } = await pair(t);
  const session = new SmuxSession(duplex, {
    client: false,
    maxReceiveBuffer: 8192,
    maxStreamBuffer: 8192,
    keepAliveDisabled: true,
  });
  t.after(() => session.close());
  assert.equal(duplex.listenerCount('data'), 0, 'no Readable consumer: payloads go straight to the session');
  const accepted = once(session, 'stream') as Promise<[SmuxStream]>;
  const payload = Buffer.alloc(200_000);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  client.send(encodeControl(1, CMD_SYN, 3));
  for (let off = 0; off < payload.length; off += 20_000) {
    client.send(encodePsh(1, 3, payload.subarray(off, off + 20_000)));
  }
  const [stream] = await accepted;
  // Nobody reads the stream: the session's 8 KiB budget runs out and the socket stops being read.
  for (let i = 0; i < 100 && !socket.isPaused(); i++) await nextTurn();
  assert.ok(socket.isPaused(), 'socket paused once the receive budget is spent');
  assert.ok(session.receiveBuffered <= 8192 + 20_000, `buffered ${session.receiveBuffered}`);
  // Reading resumes it, and every byte arrives in order.
  const got: Buffer[] = [];
  let n = 0;
  await new Promise<void>((resolve) => {
    stream.on('data', (c: Buffer) => {
      got.push(c);
      n += c.length;
      if (n >= payload.length) resolve();
    });
  });
  assert.deepEqual(Buffer.concat(got), payload);
});

test('a peer that floods pings without reading is cut off before the pongs pile up', async (t) => {
  const { duplex, client, socket } = await pair(t);
  socket.cork(); // our pongs stay queued, as with a peer that never reads
  const failed = once(duplex, 'error') as Promise<[Error & { code?: string }]>;
  const payload = Buffer.alloc(125);
  for (let i = 0; i < 10_000; i++) client.ping(payload);
  const [err] = await failed;
  assert.equal(err.code, 'ERR_WS_PROTOCOL');
  assert.match(err.message, /ping flood/);
  assert.ok(duplex.destroyed);
});
