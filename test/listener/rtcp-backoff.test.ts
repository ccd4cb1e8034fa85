import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Binder, BoundTunnel, Conn } from '../../src/core/types.js';
import type { Logger } from '../../src/core/logger.js';
import { RtcpListener } from '../../src/listener/rtcp/listener.js';

/** A tunnel that closes when told to. */
function fakeTunnel(): BoundTunnel & { kill(): void } {
  let kill = (): void => undefined;
  const closed = new Promise<Error | undefined>((r) => (kill = () => r(new Error('session died'))));
  return { addr: '127.0.0.1:2222', accept: () => undefined, closed, close: () => kill(), kill: () => kill() };
}

it('rtcp: retries a failing bind with doubling delays up to the cap, one log line each; re-binds after a lost tunnel', async () => {
  const warns: Array<Record<string, unknown>> = [];
  const infos: string[] = [];
  const log: Logger = {
    trace: () => undefined,
    debug: () => undefined,
    info: (_o: object | string, m?: string) => void infos.push(m ?? ''),
    warn: (o: object | string) => void warns.push(o as Record<string, unknown>),
    error: () => undefined,
    child: () => log,
  };
  let calls = 0;
  const tunnels: Array<ReturnType<typeof fakeTunnel>> = [];
  let notify: (() => void) | undefined;
  const binder: Binder = {
    bind: () => {
      calls += 1;
      notify?.();
      // Fail 5 times, then succeed; after that tunnel is lost, fail once, then succeed again.
      if (calls <= 5 || calls === 7) return Promise.reject(new Error(`refused #${calls}`));
      const t = fakeTunnel();
      tunnels.push(t);
      return Promise.resolve(t);
    },
  };
  const until = (n: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bind was called ${calls} times, want ${n}`)), 10_000);
      notify = () => {
        if (calls >= n) {
          clearTimeout(timer);
          // Let the listener log the outcome of this call.
          setImmediate(resolve);
        }
      };
      notify();
    });
  const l = new RtcpListener({ addr: ':2222', binder, log, minBackoffMs: 10, maxBackoffMs: 50 });
  await l.listen((_c: Conn) => undefined);
  await until(6);
  assert.equal(l.binds, 1);
  assert.deepEqual(
    warns.map((w) => w.retryMs),
    [10, 20, 40, 50, 50],
  );
  tunnels[0]?.kill();
  await until(8);
  // Lost tunnel: back to the first step, then one failure doubles it.
  assert.deepEqual(
    warns.slice(5).map((w) => [w.retryMs, typeof w.reason === 'string' ? w.reason : w.err]),
    [
      [10, 'session died'],
      [20, 'refused #7'],
    ],
  );
  assert.equal(infos.filter((m) => m === 'rtcp: tunnel up').length, 2);
  await l.close();
  assert.equal(l.binds, 2);
});
