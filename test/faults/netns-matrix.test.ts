import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { handleCount } from '../helpers/heap-probe.js';
import { FaultBench, KEEPALIVE_TIMEOUT_MS, NETWORK_FAULTS, WS_FAULTS, cycles } from './matrix.js';
import { netnsUsable } from './netns.js';

// The tunnel's two ends in separate network namespaces joined by a veth pair (root, iproute2 and
// iptables: CI runs as root and scripts/setup.sh --with-go installs them). `npm run faults` runs
// the 1,000-cycle version of every kind.
const unusable = netnsUsable();

for (const [peer, faults] of [
  ['gost-ts', NETWORK_FAULTS],
  ['raw-ws', WS_FAULTS],
] as const) {
  describe(`fault matrix (network namespaces, far end ${peer})`, () => {
    let bench: FaultBench;
    before(async () => {
      if (unusable !== undefined) throw new Error(`network namespaces unavailable: ${unusable}`);
      bench = await FaultBench.start({ peer, probe: true });
    });
    after(() => bench?.stop());

    for (const fault of faults) {
      it(`${fault}: downloads are reset within the keepalive timeout, the client carries on, the next dial works`, async () => {
        const r = await bench.cycle(fault);
        assert.deepEqual(r.endings, ['reset', 'reset'], `${fault}: endings ${r.endings.join(', ')}`);
        // xtaci checks once per timeout period, so silence is seen between 1 and 2 periods after it begins.
        assert.ok(
          r.failMs <= 2 * KEEPALIVE_TIMEOUT_MS + 3000,
          `${fault}: streams failed after ${r.failMs} ms`,
        );
      });
    }

    // Kept short for the suite (the close frame: the fastest WebSocket fault); `npm run faults` does 1,000 of each.
    const [total, kinds] =
      peer === 'gost-ts' ? [30, ['reset', 'kill'] as const] : [15, ['close-frame'] as const];
    it(`${total} cycles of ${kinds.join(', ')} leave gost-ts holding no more descriptors, handles or memory than after 10`, async () => {
      const r = await cycles(bench, total, 10, kinds, { probe: true });
      for (const c of r.results)
        assert.deepEqual(c.endings, ['reset', 'reset'], `${c.fault}: ${c.endings.join(', ')}`);
      assert.ok(r.processes.length > 0, 'some gost-ts process was sampled');
      for (const p of r.processes) {
        const [hw, he] = [p.warm.heap, p.end.heap];
        assert.ok(hw !== undefined && he !== undefined, `${p.role}: the heap probe answered`);
        assert.ok(
          p.end.fds <= p.warm.fds + 2,
          `${p.role}: descriptors ${p.warm.fds} after 10 cycles, ${p.end.fds} after ${total}`,
        );
        assert.ok(
          handleCount(he) <= handleCount(hw) + 2,
          `${p.role}: active handles ${handleCount(hw)} after 10 cycles, ${handleCount(he)} after ${total}`,
        );
        assert.ok(
          p.end.rss <= p.warm.rss * 1.1 + 16 * 1024 * 1024,
          `${p.role}: RSS ${Math.round(p.warm.rss / 1048576)} MB after 10 cycles, ${Math.round(p.end.rss / 1048576)} MB after ${total}`,
        );
      }
    });
  });
}
