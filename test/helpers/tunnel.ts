// Test helpers for tunnels seen from outside: a payload echoed through an HTTP proxy (CONNECT) or
// through an already tunnelled connection, checked by hash, every wait bounded.
import net from 'node:net';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Writes `payload` to `conn` and resolves with the hash of as many bytes coming back. */
export function echoDigest(
  conn: Duplex,
  payload: Buffer,
  timeoutMs = 20_000,
  already?: Buffer,
): Promise<string> {
  const h = createHash('sha256');
  let got = 0;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`echo: ${got} of ${payload.length} bytes after ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      conn.off('data', onData);
      conn.off('close', onClose);
      if (err) reject(err);
      else resolve(h.digest('hex'));
    };
    const onData = (c: Buffer): void => {
      h.update(c);
      got += c.length;
      if (got >= payload.length) finish();
    };
    const onClose = (): void =>
      finish(new Error(`echo: connection closed after ${got} of ${payload.length} bytes`));
    conn.on('data', onData);
    conn.once('close', onClose);
    if (already && already.length > 0) onData(already);
    conn.write(payload);
  });
}

/** CONNECTs through the HTTP proxy at 127.0.0.1:`proxyPort`; resolves with the socket once 200 came. */
export async function connectVia(
  proxyPort: number,
  target: string,
  timeoutMs = 10_000,
): Promise<{ socket: net.Socket; rest: Buffer }> {
  const s = net.connect(proxyPort, '127.0.0.1');
  s.on('error', () => undefined);
  const timer = setTimeout(
    () => s.destroy(new Error(`CONNECT ${target} via :${proxyPort}: no reply in ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await once(s, 'connect');
    s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    let head = Buffer.alloc(0);
    while (!head.includes('\r\n\r\n')) {
      const [chunk] = (await once(s, 'data')) as [Buffer];
      head = Buffer.concat([head, chunk]);
    }
    const end = head.indexOf('\r\n\r\n') + 4;
    const status = head.subarray(0, end).toString('latin1');
    if (!/^HTTP\/1\.[01] 200/.test(status)) throw new Error(`CONNECT ${target}: ${status.split('\r\n')[0]}`);
    return { socket: s, rest: head.subarray(end) };
  } catch (err) {
    s.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** CONNECT through the proxy, echo `payload`, close; resolves with the hash of what came back. */
export async function echoViaProxy(proxyPort: number, target: string, payload: Buffer): Promise<string> {
  const { socket, rest } = await connectVia(proxyPort, target);
  try {
    return await echoDigest(socket, payload, 20_000, rest);
  } finally {
    socket.destroy();
  }
}

/** `promise`, or a rejection naming `what` after `ms` (the timer is cleared either way). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
