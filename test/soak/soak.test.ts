import { it } from 'node:test';
import assert from 'node:assert/strict';
import { soak } from './soak.js';

// The 2-minute version of `npm run soak` (both pairs churned at once, 15 streams/s each): no byte
// lost or altered, no stream broken by the tunnel, every gost-ts process holds no more descriptors
// or active handles once the streams are closed than before, and its heap after a full GC grows by
// at most 2 MiB from the end of warm-up (V8's compiled code grows by about 1 MiB in that time; a
// leak of 2 KB per stream over the ~1,400 streams after warm-up would cross it).
const HEAP_SLACK = 2 * 1048576;
it('soak (2 minutes): random sizes and aborts through gost-ts <-> gost-ts and gost-ts <-> gost', async (t) => {
  const reports = await soak({
    streams: Infinity,
    maxMs: 120_000,
    rate: 15,
    concurrency: 8,
    maxSize: 256 * 1024,
    abortRate: 0.1,
    log: (l) => t.diagnostic(l),
  });
  assert.equal(reports.length, 2, 'both pairs were churned');
  for (const r of reports) {
    assert.ok(r.completed >= 200, `${r.pair}: only ${r.completed} streams completed in 2 minutes`);
    assert.ok(r.aborted > 0, `${r.pair}: some streams were aborted`);
    assert.equal(r.corrupted, 0, `${r.pair}: bytes lost or altered`);
    assert.equal(r.failed, 0, `${r.pair}: streams broken by the tunnel`);
    for (const p of r.processes) {
      assert.ok(p.fdsIdle <= p.fdsBase + 2, `${r.pair} ${p.role}: descriptors ${p.fdsBase} -> ${p.fdsIdle}`);
      assert.ok(
        p.handlesIdle <= p.handlesBase + 2,
        `${r.pair} ${p.role}: active handles ${p.handlesBase} -> ${p.handlesIdle}`,
      );
      assert.ok(
        p.heapEnd <= p.heapWarm + HEAP_SLACK,
        `${r.pair} ${p.role}: heap after GC ${p.heapWarm} -> ${p.heapEnd} bytes after warm-up`,
      );
    }
  }
});
