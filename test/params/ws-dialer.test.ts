// mws dialer WebSocket parameters, observed on the wire by a raw WebSocket server (facts §2.1, §2.3, §9.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Metadata } from '../../src/core/metadata.js';
import { TunnelError } from '../../src/core/errors.js';
import { parseMwsDialerMetadata } from '../../src/dialer/mws/metadata.js';
import { websocketConnect } from '../../src/transport/websocket/client.js';
import { encodePsh } from '../../src/mux/smux/frame.js';
import { mwsDialer, tcpDialContext } from '../helpers/mws.js';
import { delay, waitFor } from '../helpers/net.js';
import { DEFLATE_EXTENSION, OP_BINARY, OP_CONT, OP_PING, startRawWsServer } from '../helpers/raw-ws.js';
import { dialerRig, gaps, readBytes, within } from './_util.js';

const KEY_RE = /^[A-Za-z0-9+/]{22}==$/;

/** The request head with the key blanked out. */
function withoutKey(raw: Buffer): { text: string; key: string } {
  const text = raw.toString('latin1');
  const m = /Sec-WebSocket-Key: ([^\r]*)\r\n/.exec(text);
  const key = m?.[1] ?? '';
  return { text: text.replace(`Sec-WebSocket-Key: ${key}\r\n`, 'Sec-WebSocket-Key: KEY\r\n'), key };
}

// ---- default request, host, path, header -------------------------------------------------------

test('default upgrade request equals gorilla byte for byte (except the key); Host = node address', async (t) => {
  const { peer, server, stream } = await dialerRig(t, {});
  const { text, key } = withoutKey((await peer.request).raw);
  assert.match(key, KEY_RE);
  assert.equal(Buffer.from(key, 'base64').length, 16);
  assert.equal(
    text,
    `GET /ws HTTP/1.1\r\nHost: ${server.addr}\r\nUser-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n\r\n',
  );
  await stream;
});

test('default Host is the node address verbatim, `:PORT` included', async (t) => {
  const { peer, server } = await dialerRig(t, {}, {}, (s) => `:${s.port}`);
  assert.equal((await peer.request).get('host'), `:${server.port}`);
  assert.match((await peer.request).startLine, /^GET \/ws HTTP\/1\.1$/);
});

for (const key of ['host', 'ws.host'] as const) {
  test(`${key}=cdn.example → Host header on the wire`, async (t) => {
    const { peer } = await dialerRig(t, { [key]: 'cdn.example:8443' });
    const req = await peer.request;
    assert.deepEqual(req.headers[0], ['Host', 'cdn.example:8443']);
  });
}

for (const key of ['path', 'ws.path'] as const) {
  test(`${key}=/tunnel → request line GET /tunnel`, async (t) => {
    const { peer } = await dialerRig(t, { [key]: '/tunnel' });
    assert.equal((await peer.request).startLine, 'GET /tunnel HTTP/1.1');
  });
}

test('path without a leading slash gets one; `?` is percent-encoded (gorilla URL path)', async (t) => {
  const { peer } = await dialerRig(t, { path: 'a?b=1' });
  assert.equal((await peer.request).startLine, 'GET /a%3Fb=1 HTTP/1.1');
});

for (const key of ['header', 'ws.header'] as const) {
  test(`${key} {foo: bar} → "Foo: bar" in gorilla's sorted position`, async (t) => {
    const { peer } = await dialerRig(t, { [key]: { foo: 'bar', 'x-test': '1' } });
    const names = (await peer.request).headers.map(([k]) => k);
    assert.deepEqual(names, [
      'Host',
      'User-Agent',
      'Connection',
      'Foo',
      'Sec-WebSocket-Key',
      'Sec-WebSocket-Version',
      'Upgrade',
      'X-Test',
    ]);
    assert.equal((await peer.request).get('foo'), 'bar');
  });
}

test('header Host / User-Agent entries replace the defaults in place', async (t) => {
  const { peer } = await dialerRig(t, { header: { host: 'h.example', 'user-agent': 'ua/1' } });
  const req = await peer.request;
  assert.deepEqual(req.headers.slice(0, 2), [
    ['Host', 'h.example'],
    ['User-Agent', 'ua/1'],
  ]);
  assert.equal(req.headers.filter(([k]) => k.toLowerCase() === 'host').length, 1);
});

for (const name of ['Upgrade', 'Sec-WebSocket-Key', 'connection']) {
  test(`header entry "${name}" fails the dial before anything is sent`, async (t) => {
    const { peer, stream } = await dialerRig(t, { header: { [name]: 'x' } });
    await assert.rejects(stream, (err: unknown) => {
      assert.ok(err instanceof TunnelError);
      assert.equal(err.code, 'ERR_WS_HANDSHAKE');
      assert.match(err.message, /duplicate header/);
      return true;
    });
    assert.equal(await peer.closesWithin(5000), true);
    assert.equal(peer.received.length, 0, 'no byte may reach the server');
  });
}

// ---- keepalive (WebSocket pings) ---------------------------------------------------------------

const pingCases: [string, Record<string, unknown>][] = [
  ['seed form keepAlive: 1s', { keepAlive: '1s' }],
  ['GOST form keepalive=true ttl=1s', { keepalive: 'true', ttl: '1s' }],
  ['GOST form keepalive=true keepalive.interval=1s', { keepalive: true, 'keepalive.interval': '1s' }],
];
for (const [label, md] of pingCases) {
  test(`${label} → masked empty pings about every second`, async (t) => {
    const { peer, stream } = await dialerRig(t, md);
    await stream;
    const pingCount = (): number => peer.frames.filter((f) => f.opcode === OP_PING).length;
    await waitFor(() => pingCount() >= 3, 15_000, 'three pings');
    const pings = peer.frames.filter((f) => f.opcode === OP_PING);
    assert.ok(pings.every((p) => p.masked && p.length === 0));
    // The mean of two gaps, not each gap: arrivals bunch on a loaded machine. The bounds still tell a
    // 1 s interval from a unit mistake (ms or minutes).
    const at = pings.slice(0, 3).map((p) => p.at);
    const mean = ((at[2] as number) - (at[0] as number)) / 2;
    assert.ok(mean > 500 && mean < 5000, `mean ping gap ${mean} ms, gaps ${gaps(at).join(', ')} ms`);
    assert.equal(peer.isClosed, false, 'answered pings keep the session');
  });
}

test('no pings by default (and keepAlive=false)', async (t) => {
  for (const md of [{}, { keepAlive: 'false', ttl: '300ms' }]) {
    const { peer, stream } = await dialerRig(t, md);
    await stream;
    await delay(1300);
    assert.equal(peer.frames.filter((f) => f.opcode === OP_PING).length, 0);
  }
});

test('keepalive=true ttl=1s: a server that never pongs kills the session after ~2 s', async (t) => {
  // Timed from before the session exists, so a late test turn cannot shrink it below ~2 s; the
  // upper bound leaves room for a loaded machine.
  const start = Date.now();
  const { peer, stream } = await dialerRig(t, { keepalive: true, ttl: '1s' }, { autoPong: false });
  const s = await stream;
  assert.equal(await peer.closesWithin(8000), true, 'session must die without pongs');
  const elapsed = Date.now() - start;
  assert.ok(elapsed > 1600 && elapsed < 7000, `closed after ${elapsed} ms`);
  await waitFor(() => s.destroyed, 2000, 'the stream to die with its session');
});

// ---- handshakeTimeout ----------------------------------------------------------------------------

for (const key of ['handshakeTimeout', 'ws.handshakeTimeout'] as const) {
  test(`${key}=500ms: a server that never answers fails the dial with ERR_DIAL_TIMEOUT`, async (t) => {
    const start = Date.now();
    const { stream } = await dialerRig(t, { [key]: '500ms' }, { answer: false });
    await assert.rejects(stream, (err: unknown) => {
      assert.ok(err instanceof TunnelError);
      assert.equal(err.code, 'ERR_DIAL_TIMEOUT');
      return true;
    });
    const elapsed = Date.now() - start;
    // Room for a loaded machine; without the option the dial waits 15 s.
    assert.ok(elapsed >= 450 && elapsed < 5000, `failed after ${elapsed} ms`);
  });
}

test('handshakeTimeout unset: the dial still waits at 1.5 s', async (t) => {
  const { stream } = await dialerRig(t, {}, { answer: false });
  assert.equal(
    await within(
      stream.then(
        () => 'done',
        () => 'failed',
      ),
      1500,
      'pending',
    ),
    'pending',
  );
});

// ---- readBufferSize / writeBufferSize ------------------------------------------------------------

for (const key of ['readBufferSize', 'ws.readBufferSize'] as const) {
  test(`${key}=12345 → the WebSocket byte stream's readableHighWaterMark`, async (t) => {
    const server = await startRawWsServer();
    t.after(() => server.close());
    const md = parseMwsDialerMetadata(new Metadata({ [key]: 12345 }));
    // What MwsDialer.createSession does with its parsed metadata.
    const sock = net.connect(server.port, '127.0.0.1');
    await once(sock, 'connect');
    const ws = await websocketConnect(sock, { ...md.ws, host: server.addr, pingInterval: md.pingInterval });
    t.after(() => ws.destroy());
    assert.equal(ws.readableHighWaterMark, 12345);
    const plain = parseMwsDialerMetadata(new Metadata({}));
    const sock2 = net.connect(server.port, '127.0.0.1');
    await once(sock2, 'connect');
    const ws2 = await websocketConnect(sock2, { ...plain.ws, host: server.addr, pingInterval: 0 });
    t.after(() => ws2.destroy());
    assert.notEqual(ws2.readableHighWaterMark, 12345);
  });
}

for (const key of ['writeBufferSize', 'ws.writeBufferSize'] as const) {
  test(`${key}=1000: a 10008-byte message goes out as 1000-byte fragments (opcode 2 FIN=0, then 0s)`, async (t) => {
    const { peer, stream } = await dialerRig(t, { [key]: 1000 });
    const s = await stream;
    s.write(Buffer.alloc(10_000, 7));
    const psh = await peer.waitSmux((f) => f.cmd === 2 && f.sid === 3);
    assert.equal(psh.data?.length, 10_000);
    const msg = peer.messages.find((m) => m.data.length >= 10_008);
    assert.ok(msg, 'the PSH message');
    const frames = msg.frames;
    assert.equal(frames.length, 11);
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.length, f.masked]),
      [
        [OP_BINARY, false, 1000, true],
        ...Array.from({ length: 9 }, () => [OP_CONT, false, 1000, true]),
        [OP_CONT, true, 8, true],
      ],
    );
    // Small messages (the SYN) stay single frames.
    const syn = peer.messages[0];
    assert.deepEqual(
      syn?.frames.map((f) => [f.opcode, f.fin]),
      [[OP_BINARY, true]],
    );
  });
}

test('writeBufferSize unset: one frame per message', async (t) => {
  const { peer, stream } = await dialerRig(t, {});
  const s = await stream;
  s.write(Buffer.alloc(10_000, 7));
  await peer.waitSmux((f) => f.cmd === 2 && f.sid === 3);
  for (const m of peer.messages) assert.equal(m.frames.length, 1);
  assert.ok(peer.frames.some((f) => f.opcode === OP_BINARY && f.fin && f.length === 10_008));
});

// ---- enableCompression --------------------------------------------------------------------------

for (const key of ['enableCompression', 'ws.enableCompression'] as const) {
  test(`${key}=true: offer in sorted position, RSV1 frames after negotiation, inflated data intact`, async (t) => {
    const { peer, stream } = await dialerRig(t, { [key]: true }, { deflate: true });
    const req = await peer.request;
    assert.equal(req.get('sec-websocket-extensions'), DEFLATE_EXTENSION);
    assert.deepEqual(
      req.headers.map(([k]) => k),
      [
        'Host',
        'User-Agent',
        'Connection',
        'Sec-WebSocket-Extensions',
        'Sec-WebSocket-Key',
        'Sec-WebSocket-Version',
        'Upgrade',
      ],
    );
    const s = await stream;
    const data = Buffer.alloc(20_000, 'abc');
    s.write(data);
    const psh = await peer.waitSmux((f) => f.cmd === 2 && f.sid === 3);
    assert.deepEqual(psh.data, data);
    const big = peer.messages.find((m) => m.data.length === 20_008);
    assert.equal(big?.compressed, true, 'the large message is RSV1');
    assert.ok((big?.frames[0]?.length ?? Infinity) < 20_008, 'and actually compressed');
    // Compressed server → client messages are inflated by the dialer.
    peer.sendBinary(encodePsh(1, 3, Buffer.from('hello compressed')), { compress: true });
    assert.equal((await readBytes(s, 16)).toString(), 'hello compressed');
  });
}

test('enableCompression unset: no offer, no RSV1', async (t) => {
  const { peer, stream } = await dialerRig(t, {}, { deflate: true });
  assert.equal((await peer.request).get('sec-websocket-extensions'), undefined);
  const s = await stream;
  s.write(Buffer.alloc(20_000, 'abc'));
  await peer.waitSmux((f) => f.cmd === 2 && f.sid === 3);
  assert.ok(peer.frames.every((f) => !f.rsv1));
});

test('enableCompression on the dialer only: server does not accept → plain frames, data flows', async (t) => {
  const { peer, stream } = await dialerRig(t, { enableCompression: true }, { deflate: false });
  assert.equal((await peer.request).get('sec-websocket-extensions'), DEFLATE_EXTENSION);
  const s = await stream;
  const data = Buffer.alloc(20_000, 'xyz');
  s.write(data);
  const psh = await peer.waitSmux((f) => f.cmd === 2 && f.sid === 3);
  assert.deepEqual(psh.data, data);
  assert.ok(peer.frames.every((f) => !f.rsv1));
  peer.sendBinary(encodePsh(1, 3, Buffer.from('back')));
  assert.equal((await readBytes(s, 4)).toString(), 'back');
});

test('a dialer is reused: one TCP connection, one upgrade, for two dials', async (t) => {
  const server = await startRawWsServer();
  const dialer = mwsDialer({});
  t.after(async () => {
    await server.close();
    await dialer.close();
  });
  const a = await dialer.dial(server.addr, tcpDialContext());
  const b = await dialer.dial(server.addr, tcpDialContext());
  t.after(() => (a.destroy(), b.destroy()));
  await delay(100);
  assert.equal(server.peers.length, 1);
  const peer = server.peers[0];
  assert.ok(peer);
  await peer.waitSmux((f) => f.cmd === 0 && f.sid === 5);
});
