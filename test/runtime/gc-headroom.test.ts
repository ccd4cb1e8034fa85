import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { DEFAULT_GC_HEADROOM, growingPercentFor } from '../../src/runtime/gc-headroom.js';
import { startCli } from '../helpers/cli.js';

const MiB = 1024 * 1024;

test('growing percent: a fixed headroom above a small old generation, never below a doubling, 0 when off', () => {
  assert.equal(DEFAULT_GC_HEADROOM, 64 * MiB);
  assert.equal(growingPercentFor(11 * MiB), 582); // 11 MiB × 6.82 ≈ 75 MiB: 64 MiB above
  assert.equal(growingPercentFor(32 * MiB), 200);
  assert.equal(growingPercentFor(512 * MiB), 100);
  assert.equal(growingPercentFor(0), 6400, 'an empty heap counts as 1 MiB');
  assert.equal(growingPercentFor(11 * MiB, 0), 0);
  assert.equal(growingPercentFor(11 * MiB, 16 * MiB), 146);
  assert.equal(growingPercentFor(MiB, 2 ** 50), 100_000_000, "capped within V8's 32-bit flag");
});

const moduleUrl = JSON.stringify(pathToFileURL(resolve('dist/runtime/gc-headroom.js')).href);

/** Runs `body` in a fresh `node --expose-gc` with installGcHeadroom/v8 in scope; returns its JSON line. */
function child<T>(body: string): Promise<T> {
  const source = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import { installGcHeadroom } from ${moduleUrl};
let major = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++;
}).observe({ entryTypes: ['gc'] });
// GC entries reach the observer asynchronously: let them arrive before reading the count.
const settle = () => new Promise((r) => setTimeout(r, 50));
const heap = () => v8.getHeapStatistics().used_heap_size;
globalThis.kept = [];
async function grow(bytes) {
  const from = heap();
  while (heap() - from < bytes) {
    for (let i = 0; i < 2000; i++) globalThis.kept.push({ a: i, b: [i, i], c: 'x' + i });
    await new Promise((r) => setImmediate(r));
  }
}
${body}
`;
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', source],
      { timeout: 60_000 },
      (err, stdout) => {
        if (err) fail(new Error(`child failed: ${err.message}`));
        else done(JSON.parse(stdout) as T);
      },
    );
  });
}

const MB = 1024 * 1024;

test('the full-GC trigger stays 64 MiB above a small old generation', async () => {
  // 40 MB of retained growth from a ~4 MB heap: past a 2.4× trigger, short of heap + 64 MiB.
  const run = (setup: string): Promise<{ major: number }> =>
    child(`${setup}
gc(); await settle();
const before = major;
await grow(${40 * MB});
await settle();
console.log(JSON.stringify({ major: major - before }));`);
  const pinned = await run("v8.setFlagsFromString('--heap-growing-percent=140');");
  const headroom = await run('installGcHeadroom();');
  assert.ok(pinned.major >= 1, `control: a 2.4× factor gave ${pinned.major} full GCs over 40 MB`);
  assert.equal(headroom.major, 0, 'with headroom: no full GC before the heap grew by 64 MiB');
});

test('the factor follows the old generation between full GCs (never the small-heap factor)', async () => {
  // Sized at a ~3 MB old generation the factor is ~22×. It then grows to ~48 MB with no full GC
  // (the trigger is ~3 + 64 MB); a full GC there must use a factor sized for ~48 MB (trigger
  // ~120-150 MB), not the 22× of the small heap (trigger ~1 GB): 150 MB more growth meets the first
  // and not the second.
  const r = await child<{ major: number; grownFrom: number; grownTo: number }>(`installGcHeadroom();
gc(); await settle();
await grow(${45 * MB});
gc(); await settle();
const before = major;
const grownFrom = heap();
await grow(${150 * MB});
await settle();
console.log(JSON.stringify({ major: major - before, grownFrom, grownTo: heap() }));`);
  const mb = (n: number): string => `${(n / MB).toFixed(0)} MB`;
  assert.ok(
    r.major >= 1,
    `no full GC while the heap grew from ${mb(r.grownFrom)} to ${mb(r.grownTo)}: the factor did not follow`,
  );
});

/**
 * A process shaped like a relay: ~16 MiB of long-lived heap, one full GC behind it, then 1 GiB of
 * 64 KiB Buffers of which only the last 16 are alive at any time. With V8's limit 2.4× the heap,
 * this falls into back-to-back full GCs when the machine is idle enough for concurrent marking to
 * finish quickly (15–23 per GiB here; 2–5 on a loaded machine, so the control is only reported).
 */
test('headroom: no run of full GCs from relayed Buffers in a small heap', async (t) => {
  const run = (setup: string): Promise<{ major: number }> =>
    child(`${setup}
globalThis.kept = Array.from({ length: 100000 }, (_, i) => ({ i, s: 'x' + i, a: [i] }));
const inFlight = [];
for (let n = 0; n < 16384; n += 16) {
  for (let k = 0; k < 16; k++) {
    inFlight.push(Buffer.allocUnsafe(65536));
    if (inFlight.length > 16) inFlight.shift();
  }
  if (n === 1024) gc();
  await new Promise((r) => setTimeout(r, 0));
}
await settle();
console.log(JSON.stringify({ major }));`);
  const pinned = await run("v8.setFlagsFromString('--heap-growing-percent=140');");
  const headroom = await run('installGcHeadroom();');
  t.diagnostic(`full GCs per GiB relayed: ${pinned.major} at a 2.4× factor, ${headroom.major} with headroom`);
  assert.ok(headroom.major <= 3, `with headroom: ${headroom.major} full GCs per GiB`);
});

test('the command line installs the headroom: 64 MiB by default, GOST_TS_GC_HEADROOM sets or disables it', async (t) => {
  const cases: [string | undefined, RegExp][] = [
    [undefined, /"mib":64,"msg":"GC headroom above the live heap"/],
    ['16', /"mib":16,"msg":"GC headroom above the live heap"/],
    ['0', /GC headroom off/],
  ];
  for (const [value, line] of cases) {
    const env = { ...process.env };
    delete env['GOST_TS_GC_HEADROOM'];
    if (value !== undefined) env['GOST_TS_GC_HEADROOM'] = value;
    const cli = await startCli(['-D', '-L', '127.0.0.1:0'], { env });
    t.after(() => cli.stop());
    assert.equal(cli.count(line), 1, `GOST_TS_GC_HEADROOM=${value ?? '(unset)'}`);
  }
});
