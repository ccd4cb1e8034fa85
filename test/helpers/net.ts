import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';

/** A connected pair of loopback TCP sockets. */
export async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [serverSide] = await accepted;
  server.close();
  return [client, serverSide];
}

/**
 * Reads a stream to its end, resolving with all bytes (rejects on error). Unlike `for await`, it
 * leaves the stream alive afterwards, so a half-closed Duplex can still be written.
 */
export function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** Resolves after ms milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 10 ms until true, failing after timeoutMs. */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** A loopback TCP echo server; returns its port and a close function. */
export async function echoServer(): Promise<{
  port: number;
  close: () => Promise<void>;
  connections: () => number;
}> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    count += 1;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => count,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Resolves with what `p` gives, or rejects naming `what` after ms: a test that waits for an event
 * fails fast with a message when the event never comes, instead of at the runner's timeout.
 */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads what `s` sends until it has `n` bytes or closes (bounded: 10 s); returns the bytes as hex
 * and whether the stream had closed by then.
 */
export async function readUpTo(
  s: net.Socket,
  n: number,
  what: string,
): Promise<{ hex: string; closed: boolean }> {
  let buf = Buffer.alloc(0);
  let closed = s.destroyed;
  const onData = (c: Buffer): void => void (buf = Buffer.concat([buf, c]));
  const onClose = (): void => void (closed = true);
  s.on('data', onData);
  s.once('close', onClose);
  try {
    const deadline = Date.now() + 10_000;
    while (buf.length < n && !closed) {
      if (Date.now() > deadline) throw new Error(`${what}: only ${buf.toString('hex')} within 10 s`);
      await delay(20);
    }
    return { hex: buf.subarray(0, n).toString('hex'), closed };
  } finally {
    s.off('data', onData);
    s.off('close', onClose);
  }
}

/**
 * A TCP server on 127.0.0.1 that never answers: `first()` is its first connection (rejects after
 * 10 s naming `what`), to read what a client sends.
 */
export async function captureServer(): Promise<{
  port: number;
  first: (what: string) => Promise<net.Socket>;
  close: () => void;
}> {
  const server = net.createServer();
  const first = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    first: (what) => bounded(first, 10_000, `${what}: no connection`),
    close: () => server.close(),
  };
}

/** The text a `/metrics` endpoint on loopback `port` serves. */
export function scrapeMetrics(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${port}/metrics`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}
