// A scripted TCP peer for connector tests: each accepted socket is handed to `script`.
import net from 'node:net';
import type { TestContext } from 'node:test';
import { SocketSet, closeServer, listen } from './proxy-test-utils.js';

export interface FakeServer {
  port: number;
  /** Everything each connection sent, in accept order. */
  received: Buffer[];
  /** Client connection for the test to hand to a connector. */
  dial(): Promise<net.Socket>;
}

export async function fakeServer(
  t: TestContext,
  script: (s: net.Socket, index: number) => void,
): Promise<FakeServer> {
  const sockets = new SocketSet();
  const received: Buffer[] = [];
  let n = 0;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    const i = n++;
    received[i] = Buffer.alloc(0);
    s.on('data', (c: Buffer) => (received[i] = Buffer.concat([received[i] ?? Buffer.alloc(0), c])));
    script(s, i);
  });
  const port = await listen(server);
  t.after(async () => {
    sockets.destroyAll();
    await closeServer(server);
  });
  return {
    port,
    received,
    dial: () =>
      new Promise((resolve, reject) => {
        const c = sockets.add(net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }));
        c.once('connect', () => resolve(c));
        c.once('error', reject);
      }),
  };
}

/** Counts write() calls on a socket (to check "one write" claims). */
export function countWrites(s: net.Socket): { count: number } {
  const counter = { count: 0 };
  const orig = s.write.bind(s) as (...args: unknown[]) => boolean;
  (s as unknown as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
    counter.count++;
    return orig(...args);
  };
  return counter;
}
