import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ChainRouter } from '../../src/chain/router.js';
import { Hop } from '../../src/chain/hop.js';
import { ChainNode } from '../../src/chain/node.js';
import { NodeSelector } from '../../src/chain/selector.js';
import { TunnelError, hasCode } from '../../src/core/errors.js';
import type { Conn, Connector, DialContext, Dialer } from '../../src/core/types.js';

type DialBehaviour = 'ok' | 'fail' | 'hang' | 'stale';

/** A dialer whose every dial does what `plan` says next (default: the last entry again). */
function fakeDialer(plan: DialBehaviour[]): Dialer & { dials: number } {
  const d = {
    dials: 0,
    dial(_addr: string, ctx: DialContext): Promise<Conn> {
      const what = plan[Math.min(d.dials, plan.length - 1)] ?? 'ok';
      d.dials += 1;
      if (what === 'ok') return Promise.resolve(new PassThrough());
      if (what === 'fail') return Promise.reject(new TunnelError('ERR_DIAL', 'refused'));
      if (what === 'stale')
        return Promise.reject(new TunnelError('ERR_SMUX_SESSION_CLOSED', 'smux: session closed'));
      return new Promise((_resolve, reject) => {
        ctx.signal?.addEventListener('abort', () =>
          reject(new TunnelError('ERR_ABORTED', 'aborted', { cause: ctx.signal?.reason })),
        );
      });
    },
    close: () => Promise.resolve(),
  };
  return d;
}

const passConnector: Connector = { connect: (conn) => Promise.resolve(conn) };

function node(name: string, dialer: Dialer, extra: { backup?: boolean } = {}): ChainNode {
  return new ChainNode({ name, addr: `${name}:1`, dialer, connector: passConnector, ...extra });
}

test('an attempt that takes longer than the timeout fails with ERR_DIAL_TIMEOUT', async () => {
  const router = new ChainRouter({ hops: [new Hop('h', [node('a', fakeDialer(['hang']))])], timeout: 150 });
  const started = Date.now();
  await assert.rejects(router.dial('tcp', 'x:1'), (e: unknown) => hasCode(e, 'ERR_DIAL_TIMEOUT'));
  assert.ok(Date.now() - started >= 140);
});

test("the caller's abort ends a dial with ERR_ABORTED", async () => {
  const router = new ChainRouter({ hops: [new Hop('h', [node('a', fakeDialer(['hang']))])], timeout: 5000 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(router.dial('tcp', 'x:1', { signal: ac.signal }), (e: unknown) =>
    hasCode(e, 'ERR_ABORTED'),
  );
});

test('retries make further attempts on other nodes', async () => {
  const bad = fakeDialer(['fail']);
  const good = fakeDialer(['ok']);
  const hop = new Hop('h', [node('bad', bad), node('good', good)], new NodeSelector({ strategy: 'fifo' }));
  const router = new ChainRouter({ hops: [hop], retries: 1 });
  await router.dial('tcp', 'x:1');
  assert.equal(bad.dials, 1);
  assert.equal(good.dials, 1);
  const noRetry = new ChainRouter({ hops: [new Hop('h', [node('bad', fakeDialer(['fail']))])] });
  await assert.rejects(noRetry.dial('tcp', 'x:1'), (e: unknown) => hasCode(e, 'ERR_DIAL'));
});

test('a session that died under the attempt gets one transparent retry even with retries=0', async () => {
  const d = fakeDialer(['stale', 'ok']);
  const router = new ChainRouter({ hops: [new Hop('h', [node('a', d)])] });
  await router.dial('tcp', 'x:1');
  assert.equal(d.dials, 2);
  const always = fakeDialer(['stale']);
  await assert.rejects(new ChainRouter({ hops: [new Hop('h', [node('a', always)])] }).dial('tcp', 'x:1'));
  assert.equal(always.dials, 2, 'only one extra attempt');
});

test('round robin takes nodes in turn and skips a failed node for failTimeout', () => {
  const a = node('a', fakeDialer(['ok']));
  const b = node('b', fakeDialer(['ok']));
  const c = node('c', fakeDialer(['ok']));
  const sel = new NodeSelector({ strategy: 'round', maxFails: 1, failTimeout: 60_000 });
  assert.deepEqual(
    [0, 1, 2, 3].map(() => sel.select([a, b, c])?.name),
    ['a', 'b', 'c', 'a'],
  );
  b.markFailed();
  assert.deepEqual([0, 1, 2, 3].map(() => sel.select([a, b, c])?.name).includes('b'), false);
  b.markHealthy();
  assert.ok([0, 1, 2].map(() => sel.select([a, b, c])?.name).includes('b'));
});

test('maxFails counts failures before a node is skipped; a lone node is never skipped', () => {
  const a = node('a', fakeDialer(['ok']));
  const b = node('b', fakeDialer(['ok']));
  const sel = new NodeSelector({ strategy: 'fifo', maxFails: 2, failTimeout: 60_000 });
  a.markFailed();
  assert.equal(sel.select([a, b])?.name, 'a', 'one failure of two allowed');
  a.markFailed();
  assert.equal(sel.select([a, b])?.name, 'b');
  assert.equal(sel.select([a])?.name, 'a', 'GOST only filters hops with more than one node');
});

test('backup nodes are used only when no normal node is alive', () => {
  const a = node('a', fakeDialer(['ok']));
  const spare = node('spare', fakeDialer(['ok']), { backup: true });
  const sel = new NodeSelector({ strategy: 'round', maxFails: 1, failTimeout: 60_000 });
  assert.deepEqual(
    [0, 1, 2].map(() => sel.select([a, spare])?.name),
    ['a', 'a', 'a'],
  );
  a.markFailed();
  assert.equal(sel.select([a, spare])?.name, 'spare');
});

test('hash picks the same node for the same key', () => {
  const nodes = ['a', 'b', 'c', 'd'].map((n) => node(n, fakeDialer(['ok'])));
  const sel = new NodeSelector({ strategy: 'hash' });
  const first = sel.select(nodes, 'example.com:443')?.name;
  for (let i = 0; i < 5; i++) assert.equal(sel.select(nodes, 'example.com:443')?.name, first);
});
