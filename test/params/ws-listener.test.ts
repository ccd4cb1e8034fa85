// mws listener WebSocket parameters, observed by a raw client on the wire (facts §2.2, §2.3, §9.2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { Metadata } from '../../src/core/metadata.js';
import { parseMwsListenerMetadata } from '../../src/listener/mws/metadata.js';
import { attachWebSocketAcceptor } from '../../src/transport/websocket/server.js';
import type { WebSocketDuplex } from '../../src/transport/websocket/ws-duplex.js';
import { encodeControl, encodePsh } from '../../src/mux/smux/frame.js';
import { mwsDialer, tcpDialContext } from '../helpers/mws.js';
import {
  DEFLATE_EXTENSION,
  OP_BINARY,
  acceptKey,
  openRawWsClient,
  parseResponse,
  rawExchange,
  rawWsClient,
  upgradeRequest,
} from '../helpers/raw-ws.js';
import { listenerRig, rawClient, readBytes } from './_util.js';

const SYN3 = encodeControl(1, 0, 3);

/** Until the whole reply (head + Content-Length body) is in. */
function fullReply(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /content-length: (\d+)/i.exec(data.subarray(0, end).toString('latin1'));
  return data.length >= end + 4 + Number(m?.[1] ?? 0);
}

// ---- path ----------------------------------------------------------------------------------------

for (const key of ['path', 'ws.path'] as const) {
  test(`listener ${key}=/tunnel: /ws → 404 "404 page not found\\n", /tunnel → 101`, async (t) => {
    const { port } = await listenerRig(t, { [key]: '/tunnel' });
    const r = await rawExchange(port, upgradeRequest({ host: `127.0.0.1:${port}`, path: '/ws' }), {
      until: fullReply,
    });
    const res = parseResponse(r.data);
    assert.equal(res.status, 404);
    assert.equal(res.body, '404 page not found\n');
    assert.equal(res.head.get('content-type'), 'text/plain; charset=utf-8');
    const ok = rawWsClient(port, { path: '/tunnel' });
    t.after(() => ok.destroy());
    assert.equal((await ok.response).status, 101);
  });
}

test('listener default path is /ws (exact: /ws/ and /wsx are 404)', async (t) => {
  const { port } = await listenerRig(t, {});
  for (const path of ['/ws/', '/wsx', '/tunnel']) {
    const r = await rawExchange(port, upgradeRequest({ host: 'x', path }), { until: fullReply });
    assert.equal(parseResponse(r.data).status, 404, path);
  }
  const ok = rawWsClient(port, { path: '/ws?x=1' });
  t.after(() => ok.destroy());
  assert.equal((await ok.response).status, 101, 'the query string is ignored');
});

// ---- header --------------------------------------------------------------------------------------

for (const key of ['header', 'ws.header'] as const) {
  test(`listener ${key} → extra line in the 101`, async (t) => {
    const { port } = await listenerRig(t, { [key]: { 'X-Server': 'yes', 'Sec-WebSocket-Protocol': 'p1' } });
    const c = rawWsClient(port);
    t.after(() => c.destroy());
    const res = await c.response;
    assert.equal(res.status, 101);
    const text = res.raw.toString('latin1');
    assert.match(text, /\r\nX-Server: yes\r\n/);
    assert.match(text, /\r\nSec-WebSocket-Protocol: p1\r\n/);
  });
}

test("the default 101 is exactly gorilla's (status line, Upgrade, Connection, Accept)", async (t) => {
  const { port } = await listenerRig(t, {});
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const req = upgradeRequest({ host: 'x' }).replace(/Sec-WebSocket-Key: [^\r]*/, `Sec-WebSocket-Key: ${key}`);
  const c = rawWsClient(port, { request: req });
  t.after(() => c.destroy());
  const res = await c.response;
  assert.equal(res.startLine, 'HTTP/1.1 101 Switching Protocols');
  assert.equal(res.get('upgrade'), 'websocket');
  assert.equal(res.get('connection'), 'Upgrade');
  assert.equal(res.get('sec-websocket-accept'), acceptKey(key));
  assert.equal(res.get('sec-websocket-extensions'), undefined);
  assert.equal(res.get('sec-websocket-protocol'), undefined);
});

// ---- handshakeTimeout / readHeaderTimeout --------------------------------------------------------

for (const key of ['handshakeTimeout', 'ws.handshakeTimeout'] as const) {
  test(`listener ${key}=500ms: a silent client is disconnected at ≈500 ms`, async (t) => {
    const { port } = await listenerRig(t, { [key]: '500ms' });
    // Upper bounds leave room for a loaded machine; without the option the wait is 60 s.
    const r = await rawExchange(port, [], { timeoutMs: 6000 });
    assert.equal(r.closed, true);
    assert.ok(r.elapsed >= 400 && r.elapsed < 5000, `closed after ${r.elapsed} ms`);
    // A request that never completes is cut at the same deadline.
    const p = await rawExchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\n', { timeoutMs: 6000 });
    assert.equal(p.closed, true);
    assert.ok(p.elapsed >= 400 && p.elapsed < 5000, `closed after ${p.elapsed} ms`);
  });
}

test('listener handshakeTimeout unset: a silent client is still connected at 1.5 s', async (t) => {
  const { port } = await listenerRig(t, {});
  const r = await rawExchange(port, [], { timeoutMs: 1500 });
  assert.equal(r.closed, false);
});

test('listener handshakeTimeout does not touch an upgraded session', async (t) => {
  const { port } = await listenerRig(t, { handshakeTimeout: '300ms' });
  const c = await rawClient(t, port);
  assert.equal(await c.closesWithin(900), false);
  c.sendBinary(Buffer.concat([SYN3, encodePsh(1, 3, Buffer.from('still here'))]));
  const echo = await c.waitSmux((f) => f.cmd === 2 && f.sid === 3);
  assert.equal(echo.data?.toString(), 'still here');
});

for (const key of ['readHeaderTimeout', 'ws.readHeaderTimeout'] as const) {
  test(`listener ${key}=500ms: a client stalling inside its request head is disconnected at ≈500 ms`, async (t) => {
    const { port } = await listenerRig(t, { [key]: '500ms' });
    const r = await rawExchange(port, ['GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'Connection: Up'], {
      timeoutMs: 6000,
      gapMs: 50,
    });
    assert.equal(r.closed, true, 'disconnected');
    assert.ok(r.elapsed >= 400 && r.elapsed < 5000, `closed after ${r.elapsed} ms`);
  });
}

// ---- readBufferSize / writeBufferSize ------------------------------------------------------------

for (const key of ['readBufferSize', 'ws.readBufferSize'] as const) {
  test(`listener ${key}=23456 → the accepted WebSocket byte stream's readableHighWaterMark`, async (t) => {
    // MwsListener hands `parseMwsListenerMetadata(md).ws` to attachWebSocketAcceptor; do the same.
    const md = parseMwsListenerMetadata(new Metadata({ [key]: 23456 }));
    const server = http.createServer();
    const accepted: WebSocketDuplex[] = [];
    attachWebSocketAcceptor(server, md.ws, ({ conn }) => {
      conn.on('error', () => {});
      accepted.push(conn);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => {
      for (const c of accepted) c.destroy();
      server.closeAllConnections();
      server.close();
    });
    const port = (server.address() as { port: number }).port;
    await rawClient(t, port);
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]?.readableHighWaterMark, 23456);
  });
}

test('listener writeBufferSize: server messages stay single unfragmented frames (gorilla server fast path)', async (t) => {
  const { port } = await listenerRig(t, { writeBufferSize: 1000 });
  const c = await rawClient(t, port);
  c.sendBinary(Buffer.concat([SYN3, encodePsh(1, 3, Buffer.alloc(10_000, 1))]));
  await c.waitSmux((f) => f.cmd === 2 && f.sid === 3);
  const big = c.frames.find((f) => f.length > 1000);
  assert.ok(big, 'a frame above writeBufferSize');
  assert.equal(big.opcode, OP_BINARY);
  assert.equal(big.fin, true);
  assert.ok(c.frames.every((f) => f.fin && !f.masked));
});

// ---- enableCompression ---------------------------------------------------------------------------

for (const key of ['enableCompression', 'ws.enableCompression'] as const) {
  test(`listener ${key}=true answers the offer; large replies are RSV1; compressed input accepted`, async (t) => {
    const { port } = await listenerRig(t, { [key]: true });
    const c = await rawClient(t, port, { deflate: true });
    const res = await c.response;
    assert.equal(res.get('sec-websocket-extensions'), DEFLATE_EXTENSION);
    assert.equal(c.deflate, true);
    const data = Buffer.alloc(20_000, 'compress me ');
    c.sendBinary(Buffer.concat([SYN3, encodePsh(1, 3, data)]), { compress: true });
    const echo = await c.waitSmux((f) => f.cmd === 2 && f.sid === 3);
    assert.deepEqual(echo.data, data);
    const m = c.messages.find((x) => x.data.length >= 20_000);
    assert.equal(m?.compressed, true);
    assert.ok((m?.frames[0]?.rsv1 ?? false) && (m?.frames[0]?.length ?? Infinity) < 20_000);
  });
}

test('listener without enableCompression: no extension line, plain frames, RSV1 input rejected', async (t) => {
  const { port } = await listenerRig(t, {});
  const c = await rawClient(t, port, { deflate: true });
  assert.equal((await c.response).get('sec-websocket-extensions'), undefined);
  c.sendBinary(Buffer.concat([SYN3, encodePsh(1, 3, Buffer.alloc(20_000, 'a'))]));
  await c.waitSmux((f) => f.cmd === 2 && f.sid === 3);
  assert.ok(c.frames.every((f) => !f.rsv1));
  // RSV1 without negotiation is a protocol error (close 1002).
  c.sendBinary(encodePsh(1, 3, Buffer.from('x')), { compress: true });
  const close = await c.waitFrame((f) => f.opcode === 8);
  assert.equal(close.payload.readUInt16BE(0), 1002);
  assert.equal(await c.closesWithin(5000), true);
});

test('listener with compression, client without offer: no extension, plain frames', async (t) => {
  const { port } = await listenerRig(t, { enableCompression: true });
  const c = await openRawWsClient(port);
  t.after(() => c.destroy());
  assert.equal((await c.response).get('sec-websocket-extensions'), undefined);
  c.sendBinary(Buffer.concat([SYN3, encodePsh(1, 3, Buffer.alloc(20_000, 'a'))]));
  await c.waitSmux((f) => f.cmd === 2 && f.sid === 3);
  assert.ok(c.frames.every((f) => !f.rsv1));
});

test('compression on one end only (TS dialer ↔ TS listener, both ways) falls back to plain and works', async (t) => {
  for (const [dmd, lmd] of [
    [{ enableCompression: true }, {}],
    [{}, { enableCompression: true }],
    [{ enableCompression: true }, { enableCompression: true }],
  ] as const) {
    const { listener } = await listenerRig(t, lmd);
    const dialer = mwsDialer(dmd);
    t.after(() => dialer.close());
    const s = await dialer.dial(listener.address(), tcpDialContext());
    t.after(() => s.destroy());
    const data = Buffer.alloc(50_000, 'q');
    s.write(data);
    assert.deepEqual(await readBytes(s, data.length), data);
  }
});
