import { it } from 'node:test';
import assert from 'node:assert/strict';
import { soak } from './soak.js';

// A short version of `npm run soak` (300 streams per pair, bounded to 40 s in all on a loaded
// 2-core machine): no byte lost or altered, no stream broken by the tunnel, and every gost-ts
// process holds no more descriptors or active handles once the streams are closed than before.
it('soak (short): random sizes and aborts through gost-ts <-> gost-ts and gost-ts <-> gost', async (t) => {
  const reports = await soak({
    streams: 300,
    maxMs: 40_000,
    concurrency: 8,
    maxSize: 256 * 1024,
    abortRate: 0.1,
    log: (l) => t.diagnostic(l),
  });
  assert.equal(reports.length, 2, 'both pairs were churned');
  for (const r of reports) {
    assert.ok(r.completed > 0, `${r.pair}: some streams completed`);
    assert.ok(r.aborted > 0, `${r.pair}: some streams were aborted`);
    assert.equal(r.corrupted, 0, `${r.pair}: bytes lost or altered`);
    assert.equal(r.failed, 0, `${r.pair}: streams broken by the tunnel`);
    for (const p of r.processes) {
      assert.ok(p.fdsIdle <= p.fdsBase + 2, `${r.pair} ${p.role}: descriptors ${p.fdsBase} -> ${p.fdsIdle}`);
      assert.ok(
        p.handlesIdle <= p.handlesBase + 2,
        `${r.pair} ${p.role}: active handles ${p.handlesBase} -> ${p.handlesIdle}`,
      );
    }
  }
});
