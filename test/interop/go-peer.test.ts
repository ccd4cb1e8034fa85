// Smoke test of the Go interop peer: its client and server modes must talk to each other through
// real gorilla/websocket + smux, in HTTP-proxy mode, in -forward mode and with smux version 2.
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { goPeerMissingReason, startGoPeer } from '../helpers/go-peer.js';
import type { GoPeer } from '../helpers/go-peer.js';
import { bounded } from '../helpers/net.js';

const skip = goPeerMissingReason();

async function startEchoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((sock) => {
    sock.on('error', () => undefined);
    sock.pipe(sock);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { server, port: (server.address() as AddressInfo).port };
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = connect(port, '127.0.0.1', () => res(s));
    s.once('error', rej);
  });
}

/** Collects incoming bytes and lets the test wait until a condition on them holds. */
class Reader {
  private buf = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;
  constructor(sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    sock.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }
  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  /** Waits until `n` bytes are available and returns (and consumes) them. */
  async take(n: number, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.ended) throw new Error(`socket closed after ${this.buf.length}/${n} bytes`);
      if (Date.now() > deadline) throw new Error(`timeout: ${this.buf.length}/${n} bytes`);
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 200);
      });
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  /** Waits for `\r\n\r\n` and returns the head (consumed). */
  async head(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.buf.indexOf('\r\n\r\n');
      if (i >= 0) {
        const h = this.buf.subarray(0, i + 4).toString('latin1');
        this.buf = this.buf.subarray(i + 4);
        return h;
      }
      if (this.ended) throw new Error(`socket closed before a response head: ${this.buf.toString('latin1')}`);
      if (Date.now() > deadline) throw new Error('timeout waiting for a response head');
      await new Promise<void>((res) => {
        this.waiters.push(res);
        setTimeout(res, 200);
      });
    }
  }
}

async function echoRoundTrip(sock: Socket, reader: Reader, size: number): Promise<void> {
  const payload = randomBytes(size);
  sock.write(payload);
  const back = await reader.take(size, 20_000);
  assert.ok(back.equals(payload), `echoed ${size} bytes differ`);
}

/** Runs `body` with a Go server + Go client pair and an echo server; always cleans up. */
async function withPair(
  serverArgs: string[],
  clientArgs: (serverAddr: string, echoPort: number) => string[],
  body: (ctx: { server: GoPeer; client: GoPeer; echoPort: number }) => Promise<void>,
): Promise<void> {
  const echo = await startEchoServer();
  const peers: GoPeer[] = [];
  try {
    const server = await startGoPeer('server', ['-listen', '127.0.0.1:0', ...serverArgs]);
    peers.push(server);
    const client = await startGoPeer('client', [
      '-listen',
      '127.0.0.1:0',
      ...clientArgs(server.addr, echo.port),
    ]);
    peers.push(client);
    await body({ server, client, echoPort: echo.port });
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
    echo.server.close();
  }
}

void test('go-peer: client proxy mode, HTTP CONNECT through the Go server', { skip }, async () => {
  await withPair(
    ['-path', '/ws', '-header', 'X-Reply: yes'],
    (srv) => ['-server', srv, '-path', '/ws', '-header', 'X-Test: 1', '-host', 'tunnel.example:8443'],
    async ({ server, client, echoPort }) => {
      const sock = await connectTo(client.port);
      const reader = new Reader(sock);
      try {
        sock.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`);
        const head = await reader.head();
        assert.match(head, /^HTTP\/1\.1 200 Connection established\r\n/);
        await echoRoundTrip(sock, reader, 11);
        await echoRoundTrip(sock, reader, 200_000); // > one 32 KiB smux frame, > 4 KiB WS fragments

        // The upgrade carried our custom header and Host override; the first client stream is 3.
        const up = await server.waitForLine(/^UPGRADE /);
        const hdrs = JSON.parse(up.slice('UPGRADE '.length)) as Record<string, string[]>;
        assert.deepEqual(hdrs['X-Test'], ['1']);
        assert.deepEqual(hdrs['Host'], ['tunnel.example:8443']);
        await server.waitForLine(/^SESSION_OPEN \S+$/);
        await server.waitForLine(/^STREAM_OPEN 3$/);
        await client.waitForLine(/^SESSION_OPEN \S+$/);
      } finally {
        sock.destroy();
      }
      await server.waitForLine(/^STREAM_CLOSED 3$/);

      // A second connection reuses the one session (stream 5, still a single SESSION_OPEN).
      const sock2 = await connectTo(client.port);
      const reader2 = new Reader(sock2);
      try {
        sock2.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`);
        assert.match(await reader2.head(), /^HTTP\/1\.1 200 /);
        await echoRoundTrip(sock2, reader2, 1000);
        await server.waitForLine(/^STREAM_OPEN 5$/);
        assert.equal(server.lines.filter((l) => l.startsWith('SESSION_OPEN')).length, 1);
      } finally {
        sock2.destroy();
      }
    },
  );
});

void test('go-peer: -forward mode', { skip }, async () => {
  await withPair(
    [],
    (srv, echoPort) => ['-server', srv, '-forward', `127.0.0.1:${echoPort}`],
    async ({ server, client }) => {
      const sock = await connectTo(client.port);
      const reader = new Reader(sock);
      try {
        await echoRoundTrip(sock, reader, 5);
        await echoRoundTrip(sock, reader, 100_000);
        await server.waitForLine(/^STREAM_OPEN 3$/);
      } finally {
        sock.destroy();
      }
    },
  );
});

void test('go-peer: smux version 2 on both ends (flow control, 2 MiB)', { skip }, async () => {
  await withPair(
    ['-mux-version', '2'],
    (srv) => ['-server', srv, '-mux-version', '2'],
    async ({ client, echoPort }) => {
      const sock = await connectTo(client.port);
      const reader = new Reader(sock);
      try {
        sock.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`);
        assert.match(await reader.head(), /^HTTP\/1\.1 200 /);
        await echoRoundTrip(sock, reader, 2 * 1024 * 1024); // well beyond the 256 KiB initial window
      } finally {
        sock.destroy();
      }
    },
  );
});

void test('go-peer: version mismatch fails cleanly (server closes the session)', { skip }, async () => {
  await withPair(
    ['-mux-version', '1'],
    (srv, echoPort) => ['-server', srv, '-mux-version', '2', '-forward', `127.0.0.1:${echoPort}`],
    async ({ server, client }) => {
      const sock = await connectTo(client.port);
      const closed = new Promise<void>((res) => sock.on('close', () => res()));
      sock.on('error', () => undefined);
      await server.waitForLine(/^SESSION_CLOSED accept: invalid protocol$/);
      // The forward's CONNECT fails, so the local connection is closed.
      await bounded(closed, 10_000, 'the local connection to close');
      await client.waitForLine(/^SESSION_READ_ERROR /);
    },
  );
});

void test('go-peer: stop() is idempotent and pause()/resume() work', { skip }, async () => {
  const peer = await startGoPeer('server', ['-listen', '127.0.0.1:0', '-handler', 'echo']);
  peer.pause();
  peer.resume();
  peer.pause(); // stop() must also end a paused peer
  await Promise.all([peer.stop(), peer.stop()]);
  await peer.stop();
  assert.notEqual(peer.proc.exitCode ?? peer.proc.signalCode, null);
});
