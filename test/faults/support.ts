import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** How a connection ended, as an application sees it. */
export interface Ending {
  /** `reset`: ECONNRESET (or EPIPE); `end`: a clean end of stream (FIN); `error`: another error. */
  kind: 'reset' | 'end' | 'error';
  code?: string | undefined;
  bytes: number;
}

/** Resolves with how `s` ended (never rejects); bytes received are counted and discarded. */
export function ending(s: net.Socket): Promise<Ending> {
  return new Promise((resolve) => {
    let bytes = 0;
    let done = false;
    const finish = (e: Ending): void => {
      if (done) return;
      done = true;
      resolve(e);
    };
    s.on('data', (c: Buffer) => (bytes += c.length));
    s.once('end', () => finish({ kind: 'end', bytes }));
    s.once('error', (err: NodeJS.ErrnoException) =>
      finish({
        kind: err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error',
        code: err.code,
        bytes,
      }),
    );
    s.once('close', () => finish({ kind: 'end', bytes }));
    s.resume();
  });
}

/** Bounds `p` with a clear failure message. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A TCP server that sends an endless stream to every connection (honouring backpressure) and
 * discards what it receives; `endings` records how each connection ended from its side. With
 * `send: false` it only receives (an upload sink).
 */
export async function endlessSource(
  host = '127.0.0.1',
  send = true,
): Promise<{
  port: number;
  endings: Ending[];
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  const endings: Ending[] = [];
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const server = net.createServer((s) => {
    sockets.add(s);
    void ending(s).then((e) => endings.push(e));
    s.once('close', () => sockets.delete(s));
    const pump = (): void => {
      while (!s.destroyed && s.write(chunk));
    };
    if (!send) return;
    s.on('drain', pump);
    pump();
  });
  server.listen(0, host);
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    endings,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Opens an HTTP CONNECT tunnel to `target` through the proxy at `proxyPort`; resolves after the 200. */
export async function connectVia(proxyPort: number, target: string, host = '127.0.0.1'): Promise<net.Socket> {
  const s = net.connect({ host, port: proxyPort });
  s.on('error', () => {});
  await once(s, 'connect');
  s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  let head = Buffer.alloc(0);
  for (;;) {
    const [c] = (await within(once(s, 'data'), 10_000, `CONNECT ${target} reply`)) as [Buffer];
    head = Buffer.concat([head, c]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) continue;
    const status = head.subarray(0, head.indexOf('\r\n')).toString();
    if (!/^HTTP\/1\.[01] 200/.test(status)) {
      s.destroy();
      throw new Error(`CONNECT ${target}: ${status}`);
    }
    s.pause();
    if (head.length > end + 4) s.unshift(head.subarray(end + 4));
    return s;
  }
}

/** Writes to `s` without end (honouring backpressure) until it is closed. */
export function uploadForever(s: net.Socket): void {
  const chunk = Buffer.alloc(64 * 1024, 0x33);
  const pump = (): void => {
    while (!s.destroyed && s.write(chunk));
  };
  s.on('drain', pump);
  pump();
}

/** Resolves once `s` has received at least `n` bytes (counted by the caller's ending() listener). */
export async function received(s: net.Socket, n: number, ms = 10_000): Promise<void> {
  let got = 0;
  const onData = (c: Buffer): void => {
    got += c.length;
  };
  s.on('data', onData);
  s.resume();
  const deadline = Date.now() + ms;
  while (got < n) {
    if (s.destroyed) throw new Error(`connection closed after ${got} of ${n} bytes`);
    if (Date.now() > deadline) throw new Error(`only ${got} of ${n} bytes within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  s.off('data', onData);
}

/**
 * A download by download.py (plain recv(2)) through the HTTP proxy on 127.0.0.1:`proxyPort`:
 * `flowing` resolves once 256 KiB arrived, `ended` with how it ended. Used where a reset must be
 * told from a clean end: a Node reader may see a reset that arrives right after a read that left
 * data behind as a clean end (libuv reports EOF on the hang-up without reading the error).
 */
export function recvDownload(
  proxyPort: number,
  target: string,
): { flowing: Promise<void>; ended: Promise<Ending> } {
  const script = fileURLToPath(new URL('./download.py', import.meta.url));
  const app = spawn('python3', [script, '127.0.0.1', String(proxyPort), target], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let onFlowing: () => void = () => {};
  const flowing = new Promise<void>((r) => (onFlowing = r));
  const ended = new Promise<Ending>((resolve) => {
    createInterface({ input: app.stdout }).on('line', (line) => {
      const [kind, bytes] = line.split(' ');
      if (kind === 'flowing') onFlowing();
      else if (kind === 'end' || kind === 'reset') resolve({ kind, bytes: Number(bytes) });
      else resolve({ kind: 'error', code: line, bytes: Number(bytes) });
    });
    app.once('exit', () => resolve({ kind: 'error', code: 'exited without a result', bytes: 0 }));
  });
  void ended.then(() => onFlowing());
  return { flowing, ended };
}
