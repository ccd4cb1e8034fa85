/**
 * gost-ts/browser in headless Chromium: a page served on localhost tunnels through a gost-ts server
 * (an endpoint mounted in the page's own server) and through the real gost server, smux v1 and v2:
 * 1 MiB echoed and compared, 100 streams at once, backpressure from a page that does not read,
 * and a session closed by the server seen as an error.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import type { Page } from 'playwright-core';
import { createMwsEndpoint, type MwsEndpoint } from '../../src/index.js';
import { freePort } from '../helpers/cli.js';
import { startGost, type GostProcess } from '../helpers/gost.js';
import { echoServer } from '../helpers/net.js';
import { launchChromium, pageServer, type HeadlessBrowser } from '../helpers/browser.js';
import { waitFor } from '../helpers/net.js';

interface EchoResult {
  carrier: string;
  got: number;
  same: boolean;
}

/** A target that sends `total` bytes as fast as it is allowed to, counting what it handed to TCP. */
async function firehose(total: number): Promise<{ port: number; sent: () => number; close: () => void }> {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!s.write(chunk.subarray(0, n))) return void s.once('drain', pump);
      }
    };
    pump();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => sent,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Resolves once `value()` has not changed for `quietMs` (bounded by `timeoutMs`). */
async function settled(value: () => number, quietMs: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = value();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return now;
  }
  throw new Error(`value still changing after ${timeoutMs} ms (at ${last})`);
}

describe('gost-ts/browser in headless Chromium', () => {
  let chrome: HeadlessBrowser;
  let page: Page;
  let origin: string;
  let closePage: () => void;
  let endpoints: { v1: MwsEndpoint; v2: MwsEndpoint };
  let gost: { v1: GostProcess; v2: GostProcess; port1: number; port2: number };
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let target: string;

  before(async () => {
    echo = await echoServer();
    target = `127.0.0.1:${echo.port}`;
    const served = await pageServer();
    origin = served.origin;
    // The gost-ts server: endpoints mounted in the very server that serves the page.
    endpoints = {
      v1: createMwsEndpoint({ path: '/tunnel', handler: 'http' }).attach(served.server),
      v2: createMwsEndpoint({ path: '/tunnel2', handler: 'http', mux: { version: 2 } }).attach(served.server),
    };
    closePage = () => {
      served.server.closeAllConnections();
      served.server.close();
    };
    const port1 = await freePort();
    const port2 = await freePort();
    gost = {
      port1,
      port2,
      v1: await startGost(['-L', `http+mws://127.0.0.1:${port1}?path=/ws`]),
      v2: await startGost(['-L', `http+mws://127.0.0.1:${port2}?path=/ws&mux.version=2`]),
    };
    chrome = await launchChromium();
    page = await chrome.context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
  });

  after(async () => {
    await chrome?.close();
    await Promise.allSettled([
      endpoints?.v1.close(),
      endpoints?.v2.close(),
      gost?.v1.stop(),
      gost?.v2.stop(),
    ]);
    closePage?.();
    await echo?.close();
  });

  const run = <T>(fn: string, ...args: unknown[]): Promise<T> =>
    page.evaluate(
      ([name, list]) =>
        (globalThis as unknown as { tests: Record<string, (...a: unknown[]) => Promise<unknown>> }).tests[
          name
        ]!(...list),
      [fn, args] as const,
    ) as Promise<T>;

  const servers = (): [string, string, 1 | 2][] => [
    ['gost-ts', `ws://127.0.0.1:${new URL(origin).port}/tunnel`, 1],
    ['gost-ts', `ws://127.0.0.1:${new URL(origin).port}/tunnel2`, 2],
    ['gost', `ws://127.0.0.1:${gost.port1}/ws`, 1],
    ['gost', `ws://127.0.0.1:${gost.port2}/ws`, 2],
  ];

  test('1 MiB echoed through one stream, and 100 streams at once (gost-ts and gost servers, v1 and v2)', async () => {
    for (const [name, url, v] of servers()) {
      const r = await run<EchoResult>('echo', url, v, target, 1 << 20);
      assert.deepEqual(r, { carrier: 'WebSocketStream', got: 1 << 20, same: true }, `${name} v${v}`);
      assert.equal(
        await run<number>('manyStreams', url, v, target, 100),
        100,
        `${name} v${v}: streams that echoed intact`,
      );
    }
    assert.ok(
      endpoints.v1.stats.accepted >= 101 && endpoints.v2.stats.accepted >= 101,
      'the gost-ts endpoints served them',
    );
  });

  test('the plain WebSocket carrier (browsers without WebSocketStream): echo and 100 streams, v2', async () => {
    const url = `ws://127.0.0.1:${gost.port2}/ws`;
    const plain = { preferWebSocketStream: false };
    const r = await run<EchoResult>('echo', url, 2, target, 1 << 20, plain);
    assert.deepEqual(r, { carrier: 'WebSocket', got: 1 << 20, same: true });
    assert.equal(await run<number>('manyStreams', url, 2, target, 100, plain), 100);
  });

  test('v2: a page that does not read one stream holds back only that stream', async () => {
    const total = 32 << 20;
    const hose = await firehose(total);
    try {
      const url = `ws://127.0.0.1:${new URL(origin).port}/tunnel2`;
      const r = await run<{ side: { got: number; same: boolean } }>(
        'stallThenRead',
        url,
        2,
        `127.0.0.1:${hose.port}`,
        target,
      );
      assert.deepEqual(r.side, { got: 256 * 1024, same: true }, 'the other stream kept flowing');
      const stalledAt = await settled(hose.sent, 700, 20_000);
      assert.ok(
        stalledAt < 16 << 20,
        `the unread stream was not held back: ${stalledAt} of ${total} bytes sent`,
      );
      assert.equal(await run<number>('drainStalled', total), total, 'every byte arrived once the page read');
    } finally {
      hose.close();
    }
  });

  test('v1: a page that does not read pauses the session (WebSocketStream stops reading)', async () => {
    const total = 48 << 20;
    const hose = await firehose(total);
    try {
      const url = `ws://127.0.0.1:${gost.port1}/ws`;
      const r = await run<{ carrier: string }>('stallThenRead', url, 1, `127.0.0.1:${hose.port}`, target);
      assert.equal(r.carrier, 'WebSocketStream');
      const stalledAt = await settled(hose.sent, 700, 20_000);
      assert.ok(stalledAt < 32 << 20, `the session was not paused: ${stalledAt} of ${total} bytes sent`);
      assert.equal(await run<number>('drainStalled', total), total, 'every byte arrived once the page read');
    } finally {
      hose.close();
    }
  });

  test('a session the server closes is an error on the open stream, on closed and on dial', async () => {
    const gostUrl = `ws://127.0.0.1:${gost.port1}/ws`;
    assert.equal(await run<string>('holdOpen', gostUrl, 1, target), 'WebSocketStream');
    await gost.v1.stop('SIGKILL');
    const viaGost = await run<Record<string, string>>('afterServerClosed', target);
    for (const [what, msg] of Object.entries(viaGost)) assert.match(msg, /mws: /, `gost: ${what}: ${msg}`);

    const tsUrl = `ws://127.0.0.1:${new URL(origin).port}/tunnel`;
    await run<string>('holdOpen', tsUrl, 1, target);
    await waitFor(() => endpoints.v1.sessionCount === 1, 10_000, 'the page session');
    await endpoints.v1.close();
    const viaTs = await run<Record<string, string>>('afterServerClosed', target);
    for (const [what, msg] of Object.entries(viaTs)) assert.match(msg, /mws: /, `gost-ts: ${what}: ${msg}`);
  });
});
