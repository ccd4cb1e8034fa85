/**
 * Issue 2 acceptance against the real Go libraries GOST uses (xtaci/smux + gorilla/websocket, via the
 * Go peer): both directions, smux v1 and v2, with and without compression.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { goPeerMissingReason, startGoPeer } from '../helpers/go-peer.js';
import { mwsDialer, mwsListener, tcpDialContext } from '../helpers/mws.js';
import { delay, readAll, waitFor } from '../helpers/net.js';
import type { Conn } from '../../src/core/types.js';
import type { SmuxSession } from '../../src/mux/smux/session.js';
import type { MwsDialer } from '../../src/dialer/mws/dialer.js';

const skip = goPeerMissingReason();
if (skip) console.warn(`\n*** interop tests SKIPPED: ${skip} ***\n`);

const STREAMS = 1000;
const TOTAL = 256 * 1024 * 1024;
const PER_STREAM = TOTAL / STREAMS;
const pool = randomBytes(PER_STREAM + 4096);

/** Unique payload for stream i: a window into a random pool, tagged with i. */
function payload(i: number): Buffer {
  const b = Buffer.from(pool.subarray(i % 4096, (i % 4096) + PER_STREAM));
  b.writeUInt32LE(i, 0);
  return b;
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Writes data, waits until the same number of bytes came back, then closes; resolves the echo. */
function echoRoundTrip(s: Duplex, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= data.length) {
        s.end();
        resolve(Buffer.concat(chunks));
      }
    });
    s.once('error', reject);
    s.once(
      'end',
      () => got < data.length && reject(new Error(`stream ended after ${got} of ${data.length} bytes`)),
    );
    s.write(data);
  });
}

/** A TCP server that records, per connection, every byte until EOF. */
async function sinkServer(): Promise<{ port: number; received: Promise<Buffer>[]; close: () => void }> {
  const received: Promise<Buffer>[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => {});
    received.push(readAll(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, received, close: () => server.close() };
}

/** TS side of a GOST server for raw tests: answers the tunnel CONNECT, then echoes. */
function connectThenEcho(conn: Conn): void {
  let head = Buffer.alloc(0);
  const onData = (c: Buffer): void => {
    head = Buffer.concat([head, c]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    conn.off('data', onData);
    conn.write('HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\n');
    const rest = head.subarray(end + 4);
    if (rest.length > 0) conn.write(rest);
    conn.pipe(conn);
  };
  conn.on('data', onData);
  conn.on('error', () => {});
}

const sessionOf = (d: MwsDialer): Promise<SmuxSession> =>
  (d as unknown as { sessions: Map<string, Promise<SmuxSession>> }).sessions.values().next()
    .value as Promise<SmuxSession>;

for (const version of ['1', '2'] as const) {
  for (const compression of [false, true]) {
    const label = `v${version}${compression ? ' +compression' : ''}`;

    describe(`TS client → Go server, ${label}`, { skip }, () => {
      test(`${STREAMS} concurrent streams on one session move 256 MiB each way, SHA-256 intact`, async (t) => {
        // GOST's listener queues at most `backlog` (128) accepted streams; a burst of 1000 SYNs needs more.
        const peer = await startGoPeer('server', [
          '-handler',
          'echo',
          '-backlog',
          '4096',
          '-mux-version',
          version,
          ...(compression ? ['-compression'] : []),
        ]);
        const dialer = mwsDialer({ 'mux.version': version, enableCompression: String(compression) });
        t.after(async () => (await dialer.close(), await peer.stop()));
        const ctx = tcpDialContext();
        const streams = await Promise.all(Array.from({ length: STREAMS }, () => dialer.dial(peer.addr, ctx)));
        assert.equal(dialer.sessionCount, 1);
        const results = await Promise.all(streams.map((s, i) => echoRoundTrip(s, payload(i))));
        results.forEach((r, i) => assert.equal(sha(r), sha(payload(i)), `stream ${i}`));
        assert.equal(
          peer.lines.filter((l) => l.startsWith('SESSION_OPEN')).length,
          1,
          'one WebSocket session',
        );
      });

      test('every byte written before a close arrives before the FIN, and close propagates both ways', async (t) => {
        const peer = await startGoPeer('server', [
          '-mux-version',
          version,
          ...(compression ? ['-compression'] : []),
        ]);
        const sink = await sinkServer();
        const dialer = mwsDialer({ 'mux.version': version, enableCompression: String(compression) });
        t.after(async () => (await dialer.close(), await peer.stop(), sink.close()));
        const ctx = tcpDialContext();
        // client → target: data then FIN; the target must see all of it, then EOF.
        const s = await dialer.dial(peer.addr, ctx);
        const reply = readAll(s);
        s.write(`CONNECT 127.0.0.1:${sink.port} HTTP/1.1\r\nHost: 127.0.0.1:${sink.port}\r\n\r\n`);
        await waitFor(() => sink.received.length === 1, 5000, 'the target connection');
        const data = randomBytes(3 * 1024 * 1024 + 17);
        s.end(data);
        assert.equal(sha(await (sink.received[0] as Promise<Buffer>)), sha(data));
        assert.match((await reply).toString(), /^HTTP\/1\.1 200 Connection established/);
        // target → client: the target closes, the client stream ends after the data.
        const talker = net.createServer((c) => c.end('bye from target'));
        talker.listen(0, '127.0.0.1');
        await once(talker, 'listening');
        t.after(() => talker.close());
        const port = (talker.address() as net.AddressInfo).port;
        const s2 = await dialer.dial(peer.addr, ctx);
        const got = readAll(s2);
        s2.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
        assert.match((await got).toString(), /\r\n\r\nbye from target$/);
      });
    });

    describe(`Go client → TS server, ${label}`, { skip }, () => {
      test(`${STREAMS} concurrent connections on one session move 256 MiB each way, SHA-256 intact`, async (t) => {
        const listener = await mwsListener(
          { 'mux.version': version, enableCompression: String(compression) },
          connectThenEcho,
        );
        const peer = await startGoPeer('client', [
          '-server',
          listener.address(),
          '-forward',
          '127.0.0.1:9',
          '-mux-version',
          version,
          ...(compression ? ['-compression'] : []),
        ]);
        t.after(async () => (await peer.stop(), await listener.close()));
        const results = await Promise.all(
          Array.from({ length: STREAMS }, async (_, i) => {
            const c = net.connect(peer.port, '127.0.0.1');
            await once(c, 'connect');
            return echoRoundTrip(c, payload(i));
          }),
        );
        results.forEach((r, i) => assert.equal(sha(r), sha(payload(i)), `connection ${i}`));
        assert.equal(listener.upgradeCount, 1, 'one WebSocket session carried every connection');
      });

      test('every byte written before a close arrives before the FIN, and close propagates both ways', async (t) => {
        const received: Promise<Buffer>[] = [];
        const listener = await mwsListener(
          { 'mux.version': version, enableCompression: String(compression) },
          (conn) => {
            conn.on('error', () => {});
            received.push(readAll(conn));
            conn.once('data', () => conn.write('HTTP/1.1 200 Connection established\r\n\r\n'));
          },
        );
        const peer = await startGoPeer('client', [
          '-server',
          listener.address(),
          '-forward',
          '127.0.0.1:9',
          '-mux-version',
          version,
          ...(compression ? ['-compression'] : []),
        ]);
        t.after(async () => (await peer.stop(), await listener.close()));
        // Go client → TS: the app writes and closes; the TS stream sees everything, then FIN.
        const c = net.connect(peer.port, '127.0.0.1');
        await once(c, 'connect');
        const data = randomBytes(3 * 1024 * 1024 + 5);
        c.end(data);
        await waitFor(() => received.length === 1, 5000, 'the stream');
        const got = await (received[0] as Promise<Buffer>);
        const head = got.indexOf('\r\n\r\n') + 4;
        assert.ok(head > 4, 'the CONNECT head came first');
        assert.equal(sha(got.subarray(head)), sha(data));
      });
    });
  }
}

describe('keepalive against Go', { skip }, () => {
  test('a Go server that stops answering is declared dead by the TS client within the timeout', async (t) => {
    const peer = await startGoPeer('server', [
      '-handler',
      'echo',
      '-keepalive-interval',
      '200ms',
      '-keepalive-timeout',
      '1s',
    ]);
    const dialer = mwsDialer({ 'mux.keepaliveInterval': '200ms', 'mux.keepaliveTimeout': '1s' });
    t.after(async () => (peer.resume(), await dialer.close(), await peer.stop()));
    const s = await dialer.dial(peer.addr, tcpDialContext());
    s.on('error', () => {});
    const session = await sessionOf(dialer);
    await delay(1500);
    assert.equal(session.isClosed, false, 'alive while the peer answers');
    peer.pause();
    const started = Date.now();
    await once(session, 'close');
    const took = Date.now() - started;
    assert.ok(took <= 2500, `declared dead after ${took} ms (timeout 1 s, checked every 1 s)`);
    assert.equal(dialer.sessionCount, 0, 'the dead session left the pool');
  });

  test('a TS server that sends no NOPs is declared dead by the Go client; one that does is kept', async (t) => {
    for (const disabled of [false, true]) {
      const listener = await mwsListener(
        {
          'mux.keepaliveDisabled': String(disabled),
          'mux.keepaliveInterval': '200ms',
          'mux.keepaliveTimeout': '1s',
        },
        connectThenEcho,
      );
      const peer = await startGoPeer('client', [
        '-server',
        listener.address(),
        '-forward',
        '127.0.0.1:9',
        '-keepalive-interval',
        '500ms',
        '-keepalive-timeout',
        '1s',
      ]);
      t.after(async () => (await peer.stop(), await listener.close()));
      const c = net.connect(peer.port, '127.0.0.1');
      c.on('error', () => {});
      await peer.waitForLine(/^SESSION_OPEN/);
      if (disabled) {
        await peer.waitForLine(/^SESSION_CLOSED/, 4000);
      } else {
        await delay(3000);
        assert.equal(
          peer.lines.some((l) => l.startsWith('SESSION_CLOSED')),
          false,
          'NOPs kept the Go client satisfied',
        );
      }
      c.destroy();
    }
  });
});

describe('WebSocket pings against Go', { skip }, () => {
  test("a Go client's pings are answered by the TS server, so its pong deadline never fires", async (t) => {
    const listener = await mwsListener({}, connectThenEcho);
    const peer = await startGoPeer('client', [
      '-server',
      listener.address(),
      '-forward',
      '127.0.0.1:9',
      '-ws-keepalive',
      '150ms',
    ]);
    t.after(async () => (await peer.stop(), await listener.close()));
    const c = net.connect(peer.port, '127.0.0.1');
    c.on('error', () => {});
    t.after(() => c.destroy());
    await peer.waitForLine(/^SESSION_OPEN/);
    // Idle for ten ping intervals: only pongs move the Go client's 300 ms read deadline.
    await delay(1500);
    // A missed deadline shows as a read error (smux 1.5.16 keeps the session object open).
    assert.equal(
      peer.lines.find((l) => /^SESSION_(CLOSED|READ_ERROR)/.test(l)),
      undefined,
      'the session survived on pongs alone',
    );
  });

  test('the TS client pings a Go server: pongs keep the session; a silent server fails it', async (t) => {
    const peer = await startGoPeer('server', ['-handler', 'echo']);
    const dialer = mwsDialer({ keepAlive: '100ms', 'mux.keepaliveDisabled': 'true' });
    t.after(async () => (peer.resume(), await dialer.close(), await peer.stop()));
    const s = await dialer.dial(peer.addr, tcpDialContext());
    s.on('error', () => {});
    const session = await sessionOf(dialer);
    await delay(1200);
    assert.equal(session.isClosed, false, 'pongs from gorilla keep the 200 ms deadline moving');
    peer.pause();
    const [err] = (await once(session, 'close')) as [Error | undefined];
    assert.match(String(err?.message), /no pong within 200 ms/);
  });
});

describe('flow control against Go', { skip }, () => {
  async function sourceServer(bytes: number): Promise<{ port: number; close: () => void }> {
    const server = net.createServer((c) => {
      c.on('error', () => {});
      c.end(Buffer.alloc(bytes, 0x5a));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
  }

  async function connectThrough(dialer: MwsDialer, addr: string, port: number): Promise<Conn> {
    const s = await dialer.dial(addr, tcpDialContext());
    s.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    return s;
  }

  test('v2: a slow reader on one stream does not stall the other streams', async (t) => {
    const peer = await startGoPeer('server', ['-mux-version', '2']);
    const src = await sourceServer(16 * 1024 * 1024);
    const dialer = mwsDialer({ 'mux.version': '2' });
    t.after(async () => (await dialer.close(), await peer.stop(), src.close()));
    const slow = await connectThrough(dialer, peer.addr, src.port);
    slow.pause(); // never read
    await delay(300);
    for (let i = 0; i < 3; i++) {
      const fast = await connectThrough(dialer, peer.addr, src.port);
      const got = await readAll(fast);
      assert.ok(got.length >= 16 * 1024 * 1024, `stream ${i} got ${got.length}`);
    }
    const session = await sessionOf(dialer);
    assert.ok(
      session.receiveBuffered <= 512 * 1024,
      `slow stream holds ${session.receiveBuffered} bytes (≈ one window)`,
    );
  });

  test('v1: a slow reader stalls the session at maxReceiveBuffer and memory stays bounded', async (t) => {
    const peer = await startGoPeer('server', []);
    const src = await sourceServer(64 * 1024 * 1024);
    const dialer = mwsDialer({ 'mux.maxReceiveBuffer': String(1024 * 1024), 'mux.maxStreamBuffer': '65536' });
    t.after(async () => (await dialer.close(), await peer.stop(), src.close()));
    const slow = await connectThrough(dialer, peer.addr, src.port);
    slow.pause();
    const session = await sessionOf(dialer);
    await waitFor(() => session.receiveBuffered >= 1024 * 1024 - 32 * 1024, 5000, 'the budget to fill');
    const rssBefore = process.memoryUsage().rss;
    await delay(1000);
    assert.ok(session.receiveBuffered <= 1024 * 1024 + 65536, `buffered ${session.receiveBuffered}`);
    assert.ok(session.undecodedBytes <= 1024 * 1024, `undecoded ${session.undecodedBytes}`);
    assert.ok(process.memoryUsage().rss - rssBefore < 32 * 1024 * 1024, 'no growth while stalled');
    // Documented head-of-line: reading the slow stream releases the session.
    const got = readAll(slow.resume());
    assert.ok((await got).length >= 64 * 1024 * 1024);
  });
});
