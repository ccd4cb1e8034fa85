// Hostile input against a running MwsListener (facts §2.2, §2.3, §3.2, §10). Every case must leave
// the process alive and other sessions working: a healthy TS dialer session with an open echo stream
// is kept across all cases and must still echo after each one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { Conn } from '../../src/core/types.js';
import type { MwsDialer } from '../../src/dialer/mws/dialer.js';
import type { MwsListener } from '../../src/listener/mws/listener.js';
import { Metadata } from '../../src/core/metadata.js';
import { parseMwsListenerMetadata } from '../../src/listener/mws/metadata.js';
import { attachWebSocketAcceptor } from '../../src/transport/websocket/server.js';
import { encodeControl, encodePsh } from '../../src/mux/smux/frame.js';
import { mwsDialer, mwsListener, tcpDialContext } from '../helpers/mws.js';
import { delay, waitFor } from '../helpers/net.js';
import {
  OP_BINARY,
  OP_CLOSE,
  encodeFrame,
  openRawWsClient,
  parseResponse,
  rawExchange,
  upgradeRequest,
  type RawWsPeer,
} from '../helpers/raw-ws.js';

const HANDSHAKE_TIMEOUT = 800;
const SYN = 0;
const PSH = 2;

/** Until the whole reply (head + Content-Length body) is in. */
function fullReply(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const m = /content-length: (\d+)/i.exec(data.subarray(0, end).toString('latin1'));
  return data.length >= end + 4 + Number(m?.[1] ?? 0);
}

/** Reads exactly n bytes from a flowing-or-paused stream. */
function read(c: Conn, n: number, ms = 3000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      c.off('data', on);
      c.pause();
      reject(new Error(`read: ${got}/${n} bytes in ${ms} ms`));
    }, ms);
    const on = (d: Buffer): void => {
      chunks.push(d);
      got += d.length;
      if (got >= n) {
        clearTimeout(timer);
        c.off('data', on);
        c.pause();
        resolve(Buffer.concat(chunks));
      }
    };
    c.on('data', on);
    c.resume();
  });
}

const closeCode = (f: { payload: Buffer }): number => (f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 0);

describe('MwsListener under hostile input', () => {
  let listener: MwsListener;
  let port: number;
  let dialer: MwsDialer;
  let healthy: Conn;
  let round = 0;
  const raws: RawWsPeer[] = [];

  before(async () => {
    listener = await mwsListener({ handshakeTimeout: `${HANDSHAKE_TIMEOUT}ms` }, (c) => {
      c.on('error', () => {});
      c.pipe(c);
    });
    port = Number(listener.address().split(':').pop());
    dialer = mwsDialer({});
    healthy = await dialer.dial(listener.address(), tcpDialContext());
    healthy.on('error', () => {});
    await assertHealthy();
  });

  after(async () => {
    for (const r of raws) r.destroy();
    healthy.destroy();
    await dialer.close();
    await listener.close();
  });

  /** The long-lived session still echoes, and a fresh client can still connect and echo. */
  async function assertHealthy(): Promise<void> {
    round += 1;
    const msg = Buffer.from(`healthy round ${round}`);
    healthy.write(msg);
    assert.deepEqual(await read(healthy, msg.length), msg, 'the healthy session must still echo');
    const fresh = mwsDialer({});
    try {
      const s = await fresh.dial(listener.address(), tcpDialContext());
      s.on('error', () => {});
      s.write('fresh');
      assert.equal((await read(s, 5)).toString(), 'fresh');
      s.destroy();
    } finally {
      await fresh.close();
    }
  }

  async function client(o: Parameters<typeof openRawWsClient>[1] = {}): Promise<RawWsPeer> {
    const c = await openRawWsClient(port, o);
    raws.push(c);
    return c;
  }

  async function exchange(
    req: string | Buffer | (string | Buffer)[],
  ): Promise<ReturnType<typeof parseResponse>> {
    const r = await rawExchange(port, req, { until: fullReply, timeoutMs: 3000 });
    return parseResponse(r.data);
  }

  test('wrong path → 404 "404 page not found\\n"', async () => {
    const res = await exchange(upgradeRequest({ host: 'x', path: '/nope' }));
    assert.equal(res.status, 404);
    assert.equal(res.body, '404 page not found\n');
    assert.equal(res.head.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.head.get('x-content-type-options'), 'nosniff');
    await assertHealthy();
  });

  test('plain GET on the path (no upgrade headers) → 400 "Bad Request\\n" + Sec-Websocket-Version: 13', async () => {
    const res = await exchange('GET /ws HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(res.status, 400);
    assert.equal(res.body, 'Bad Request\n');
    assert.equal(res.head.get('sec-websocket-version'), '13');
    await assertHealthy();
  });

  test('POST with upgrade headers → 405 "Method Not Allowed\\n"', async () => {
    const res = await exchange(upgradeRequest({ host: 'x' }).replace(/^GET /, 'POST '));
    assert.equal(res.status, 405);
    assert.equal(res.body, 'Method Not Allowed\n');
    await assertHealthy();
  });

  test('bad Sec-WebSocket-Key / Sec-WebSocket-Version → 400', async () => {
    const good = upgradeRequest({ host: 'x' });
    for (const bad of [
      good.replace(/Sec-WebSocket-Key: [^\r]*/, 'Sec-WebSocket-Key: not-base64!'),
      good.replace(/Sec-WebSocket-Key: [^\r]*/, `Sec-WebSocket-Key: ${randomBytes(15).toString('base64')}`),
      good.replace(/Sec-WebSocket-Key: [^\r]*\r\n/, ''),
      good.replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8'),
      good.replace('Sec-WebSocket-Version: 13\r\n', ''),
    ]) {
      const res = await exchange(bad);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body, 'Bad Request\n');
    }
    await assertHealthy();
  });

  test('//ws → 301 to /ws', async () => {
    const res = await exchange(upgradeRequest({ host: 'x', path: '//ws' }));
    assert.equal(res.status, 301);
    assert.equal(res.head.get('location'), '/ws');
    await assertHealthy();
  });

  test('malformed HTTP → 400, connection closed', async () => {
    const r = await rawExchange(port, 'GARBAGE\r\n\r\n', { timeoutMs: 3000 });
    assert.equal(r.closed, true);
    assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 400 /);
    await assertHealthy();
  });

  test('bytes sent before the 101 → connection closed without a reply', async () => {
    const frame = encodeFrame({ opcode: OP_BINARY, payload: encodeControl(1, SYN, 3), mask: true });
    const r = await rawExchange(port, Buffer.concat([Buffer.from(upgradeRequest({ host: 'x' })), frame]), {
      timeoutMs: 3000,
    });
    assert.equal(r.closed, true);
    assert.equal(r.data.length, 0, `unexpected reply: ${r.data.toString('latin1')}`);
    await assertHealthy();
  });

  test('a handshake that never finishes → closed at handshakeTimeout', async () => {
    const [silent, partial] = await Promise.all([
      rawExchange(port, [], { timeoutMs: 4000 }),
      rawExchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n', { timeoutMs: 4000 }),
    ]);
    for (const r of [silent, partial]) {
      assert.equal(r.closed, true);
      assert.ok(
        r.elapsed >= HANDSHAKE_TIMEOUT - 100 && r.elapsed < HANDSHAKE_TIMEOUT + 1000,
        `${r.elapsed} ms`,
      );
    }
    await assertHealthy();
  });

  test('a text message → that session closed (1003), others unaffected', async () => {
    const c = await client();
    c.sendText('hello');
    const close = await c.waitFrame((f) => f.opcode === OP_CLOSE, 3000);
    assert.equal(closeCode(close), 1003);
    assert.equal(await c.closesWithin(5000), true);
    await assertHealthy();
  });

  test('text message: the byte stream fails with code ERR_WS_TEXT_MESSAGE', async (t) => {
    // The listener only logs the error message; the code is checked on the accepted WebSocket stream.
    const server = http.createServer();
    const errors: unknown[] = [];
    attachWebSocketAcceptor(server, parseMwsListenerMetadata(new Metadata({})).ws, ({ conn }) => {
      conn.on('error', (e) => errors.push(e));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => (server.closeAllConnections(), server.close()));
    const c = await openRawWsClient((server.address() as { port: number }).port);
    t.after(() => c.destroy());
    c.sendText('x');
    await waitFor(() => errors.length > 0, 3000, 'an error');
    assert.equal((errors[0] as { code?: string }).code, 'ERR_WS_TEXT_MESSAGE');
    await assertHealthy();
  });

  for (const [label, bytes] of [
    ['wrong smux version byte', encodeControl(2, SYN, 3)],
    ['unknown smux command', Buffer.from([1, 9, 0, 0, 3, 0, 0, 0])],
    ['non-zero length on SYN', Buffer.from([1, 0, 4, 0, 3, 0, 0, 0, 1, 2, 3, 4])],
    ['non-zero length on NOP', Buffer.from([1, 3, 1, 0, 0, 0, 0, 0, 0])],
  ] as const) {
    test(`garbage smux (${label}) → that session closed`, async () => {
      const c = await client();
      c.sendBinary(Buffer.from(bytes));
      assert.equal(await c.closesWithin(5000), true);
      await assertHealthy();
    });
  }

  test('a PSH for an unknown stream is ignored; the session keeps working', async () => {
    const c = await client();
    c.sendBinary(encodePsh(1, 99, Buffer.from('to nowhere')));
    c.sendBinary(Buffer.concat([encodeControl(1, SYN, 3), encodePsh(1, 3, Buffer.from('after'))]));
    const echo = await c.waitSmux((f) => f.cmd === PSH && f.sid === 3);
    assert.equal(echo.data?.toString(), 'after');
    assert.equal(
      c.smuxFrames.some((f) => f.sid === 99),
      false,
    );
    assert.equal(c.isClosed, false);
    await assertHealthy();
  });

  test('an unmasked client frame → close 1002, connection failed', async () => {
    const c = await client();
    c.sendBinary(encodeControl(1, SYN, 3), { mask: false });
    const close = await c.waitFrame((f) => f.opcode === OP_CLOSE, 3000);
    assert.equal(closeCode(close), 1002);
    assert.equal(await c.closesWithin(5000), true);
    await assertHealthy();
  });

  test('an oversized message (> 1 MiB maxPayload) → that session closed', async () => {
    const c = await client();
    c.sendBinary(Buffer.concat([encodeControl(1, SYN, 3), Buffer.alloc(1024 * 1024 + 1)]));
    assert.equal(await c.closesWithin(5000), true);
    const close = c.frames.find((f) => f.opcode === OP_CLOSE);
    assert.equal(close !== undefined ? closeCode(close) : 0, 1009, 'close 1009 (message too big)');
    await assertHealthy();
  });

  test('a fragmented oversized message (continuations summing > 1 MiB) → that session closed', async () => {
    const c = await client();
    const part = Buffer.alloc(256 * 1024);
    c.sendFrame({ opcode: OP_BINARY, payload: part, fin: false });
    for (let i = 0; i < 4; i++) c.sendFrame({ opcode: 0, payload: part, fin: false });
    c.sendFrame({ opcode: 0, payload: Buffer.alloc(1), fin: true });
    assert.equal(await c.closesWithin(5000), true);
    await assertHealthy();
  });

  test('100 connections sending random garbage in parallel → a good client is still served', async () => {
    const jobs = Array.from({ length: 100 }, async (_, i) => {
      if (i % 2 === 0) {
        // Garbage instead of HTTP.
        await rawExchange(port, [randomBytes(64 + (i % 7) * 100), randomBytes(300)], {
          timeoutMs: 1500,
          gapMs: 10,
        });
        return;
      }
      // A valid upgrade, then random bytes as (masked and unmasked) frames and raw noise.
      const c = await openRawWsClient(port).catch(() => undefined);
      if (c === undefined) return;
      raws.push(c);
      c.sendBinary(randomBytes(200));
      c.sendRaw(randomBytes(100));
      c.sendBinary(randomBytes(50), { mask: false });
      await c.closesWithin(1500);
      c.destroy();
    });
    await Promise.all(jobs);
    await delay(100);
    await assertHealthy();
    assert.ok(listener.sessionCount >= 1);
  });
});
