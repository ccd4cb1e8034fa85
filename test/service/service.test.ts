import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { PassThrough } from 'node:stream';
import type { Conn, Handler, HandlerContext, Listener, Router } from '../../src/core/types.js';
import { silentLogger } from '../../src/core/logger.js';
import { Service } from '../../src/service/service.js';

/** A listener whose connections the test hands in. */
class ManualListener implements Listener {
  onConn: ((conn: Conn) => void) | undefined;
  listen(onConn: (conn: Conn) => void): Promise<void> {
    this.onConn = onConn;
    return Promise.resolve();
  }
  address(): string {
    return '127.0.0.1:0';
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Holds every connection until its signal aborts, listening on it as handlers do. */
class HoldingHandler implements Handler {
  readonly signals: AbortSignal[] = [];
  handle(_conn: Conn, ctx: HandlerContext): Promise<void> {
    this.signals.push(ctx.signal);
    return new Promise((resolve) => ctx.signal?.addEventListener('abort', () => resolve(), { once: true }));
  }
}

const router: Router = {
  dial: () => Promise.reject(new Error('not used')),
  close: () => Promise.resolve(),
};

function newConn(): Conn {
  return new PassThrough();
}

test('each connection gets its own abort signal; closing the service aborts them all', async () => {
  const listener = new ManualListener();
  const handler = new HoldingHandler();
  const service = new Service({ name: 'svc', listener, handler, router, log: silentLogger });
  await service.start();
  const conns = Array.from({ length: 50 }, newConn);
  for (const conn of conns) listener.onConn?.(conn);
  assert.equal(service.stats.active, 50);
  assert.equal(new Set(handler.signals).size, 50, 'one signal per connection');
  // What each connection listens on stays its own: a new connection does not pay for the open ones.
  for (const signal of handler.signals) assert.equal(getEventListeners(signal, 'abort').length, 1);
  assert.ok(handler.signals.every((s) => !s.aborted));

  await service.close();
  assert.ok(handler.signals.every((s) => s.aborted));
  assert.ok(conns.every((c) => c.destroyed));
  await new Promise((r) => setImmediate(r));
  assert.equal(service.stats.active, 0);
});

test('a finished connection leaves the service; the others stay open', async () => {
  const listener = new ManualListener();
  let finishFirst: (() => void) | undefined;
  const handler: Handler = {
    handle: (_conn, ctx) =>
      new Promise<void>((resolve) => {
        finishFirst ??= resolve;
        ctx.signal?.addEventListener('abort', () => resolve(), { once: true });
      }),
  };
  const service = new Service({ name: 'svc', listener, handler, router, log: silentLogger });
  await service.start();
  const a = newConn();
  const b = newConn();
  listener.onConn?.(a);
  listener.onConn?.(b);
  finishFirst?.();
  await new Promise((r) => setImmediate(r));
  assert.ok(a.destroyed, 'the finished connection is destroyed');
  assert.ok(!b.destroyed);
  assert.equal(service.stats.active, 1);
  await service.close();
  assert.ok(b.destroyed);
});
