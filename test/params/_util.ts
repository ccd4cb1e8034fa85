// Shared set-up for the parameter tests: a TS mws dialer against the raw WebSocket server, and a TS
// mws listener against the raw WebSocket client.
import type { TestContext } from 'node:test';
import type { Conn } from '../../src/core/types.js';
import type { MwsDialer } from '../../src/dialer/mws/dialer.js';
import type { MwsListener } from '../../src/listener/mws/listener.js';
import { mwsDialer, mwsListener, tcpDialContext } from '../helpers/mws.js';
import {
  openRawWsClient,
  startRawWsServer,
  type RawWsClientOptions,
  type RawWsPeer,
  type RawWsServer,
  type RawWsServerOptions,
} from '../helpers/raw-ws.js';

export interface DialerRig {
  server: RawWsServer;
  dialer: MwsDialer;
  /** The first dial (opens stream 3); never rejects unhandled. */
  stream: Promise<Conn>;
  /** The server side of the dialer's connection. */
  peer: RawWsPeer;
}

/** A dialer built from `md`, dialing a raw WebSocket server; torn down after the test. */
export async function dialerRig(
  t: TestContext,
  md: Record<string, unknown>,
  serverOpts: RawWsServerOptions = {},
  dialAddr?: (server: RawWsServer) => string,
): Promise<DialerRig> {
  const server = await startRawWsServer(serverOpts);
  const dialer = mwsDialer(md);
  t.after(async () => {
    await server.close(); // first: a pending handshake then fails instead of waiting 15 s
    await dialer.close();
  });
  const stream = dialer.dial(dialAddr?.(server) ?? server.addr, tcpDialContext());
  stream.then(
    (s) => {
      s.on('error', () => {});
      t.after(() => s.destroy());
    },
    () => {},
  );
  const peer = await server.nextConnection();
  return { server, dialer, stream, peer };
}

export interface ListenerRig {
  listener: MwsListener;
  port: number;
  /** Streams the listener handed out, in order. */
  conns: Conn[];
}

/**
 * A listener built from `md` on 127.0.0.1:0. `onConn` defaults to echoing every stream.
 */
export async function listenerRig(
  t: TestContext,
  md: Record<string, unknown>,
  onConn?: (c: Conn) => void,
): Promise<ListenerRig> {
  const conns: Conn[] = [];
  const listener = await mwsListener(md, (c) => {
    conns.push(c);
    c.on('error', () => {});
    if (onConn !== undefined) onConn(c);
    else c.pipe(c);
  });
  t.after(() => listener.close());
  const port = Number(listener.address().split(':').pop());
  return { listener, port, conns };
}

/** An upgraded raw client, destroyed after the test. */
export async function rawClient(
  t: TestContext,
  port: number,
  o: RawWsClientOptions = {},
): Promise<RawWsPeer> {
  const peer = await openRawWsClient(port, o);
  t.after(() => peer.destroy());
  return peer;
}

/** Milliseconds between consecutive timestamps. */
export function gaps(ts: number[]): number[] {
  return ts.slice(1).map((x, i) => x - (ts[i] as number));
}

/** Resolves with what `p` gives, or `fallback` after ms. */
export async function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<F>((r) => (timer = setTimeout(() => r(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads from `c` until `n` bytes have arrived (or rejects after ms). */
export function readBytes(c: Conn, n: number, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => {
      c.off('data', on);
      c.pause();
      reject(new Error(`readBytes: ${got}/${n} bytes within ${ms} ms`));
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
