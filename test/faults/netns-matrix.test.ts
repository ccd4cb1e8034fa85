import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FaultBench, KEEPALIVE_TIMEOUT_MS, NETWORK_FAULTS, cycles } from './matrix.js';
import { netnsUsable } from './netns.js';

// The tunnel's two ends in separate network namespaces joined by a veth pair (root, iproute2 and
// iptables: CI runs as root and scripts/setup.sh --with-go installs them). `npm run faults` runs
// the 1,000-cycle version.
const unusable = netnsUsable();

describe('fault matrix (network namespaces)', () => {
  let bench: FaultBench;
  before(async () => {
    if (unusable !== undefined) throw new Error(`network namespaces unavailable: ${unusable}`);
    bench = await FaultBench.start();
  });
  after(() => bench?.stop());

  for (const fault of NETWORK_FAULTS) {
    it(`${fault}: downloads are reset within the keepalive timeout, the client carries on, the next dial works`, async () => {
      const r = await bench.cycle(fault);
      assert.deepEqual(r.endings, ['reset', 'reset'], `${fault}: endings ${r.endings.join(', ')}`);
      // xtaci checks once per timeout period, so silence is seen between 1 and 2 periods after it begins.
      assert.ok(r.failMs <= 2 * KEEPALIVE_TIMEOUT_MS + 3000, `${fault}: streams failed after ${r.failMs} ms`);
    });
  }

  it('30 cycles of faults leave the client holding no more descriptors or memory than after 10', async () => {
    const r = await cycles(bench, 30, 10, ['reset', 'kill']);
    for (const c of r.results)
      assert.deepEqual(c.endings, ['reset', 'reset'], `${c.fault}: ${c.endings.join(', ')}`);
    assert.ok(r.fdsEnd <= r.fdsWarm + 2, `descriptors ${r.fdsWarm} after 10 cycles, ${r.fdsEnd} after 30`);
    assert.ok(
      r.rssEnd <= r.rssWarm * 1.1 + 16 * 1024 * 1024,
      `RSS ${Math.round(r.rssWarm / 1048576)} MB after 10 cycles, ${Math.round(r.rssEnd / 1048576)} MB after 30`,
    );
  });
});
