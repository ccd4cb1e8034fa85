/**
 * The two settings that keep a long-running gost-ts's RSS at what it holds: the young-generation
 * cap (src/runtime/young-generation.ts) and the allocator trim after full GCs
 * (src/runtime/allocator-trim.ts). Each runs in a fresh node, against a control without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { loadMallocTrim } from '../../src/runtime/allocator-trim.js';
import { runCli, startCli } from '../helpers/cli.js';
import { heapSample, probeEnv } from '../helpers/heap-probe.js';

const MB = 1024 * 1024;
const url = (file: string): string => JSON.stringify(pathToFileURL(resolve('dist/runtime', file)).href);

/** Runs `body` in a fresh `node --expose-gc` (ES module); returns the JSON line it prints. */
function child<T>(body: string): Promise<T> {
  const source = `
import v8 from 'node:v8';
import { capYoungGeneration, newSpaceBytes } from ${url('young-generation.js')};
import { installAllocatorTrim } from ${url('allocator-trim.js')};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
${body}
`;
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', source],
      { timeout: 120_000, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => {
        if (err) fail(new Error(`child failed: ${err.message} ${stderr}`));
        else done(JSON.parse(stdout) as T);
      },
    );
  });
}

/** Many objects that survive a few scavenges each: what makes V8 grow its young generation. */
const CHURN = `
const keep = [];
for (let r = 0; r < 40; r++) {
  const a = [];
  for (let i = 0; i < 50000; i++) a.push({ i, s: 'x' + i });
  keep.push(a);
  if (keep.length > 5) keep.shift();
  await sleep(0); // let the GC observer run
}
console.log(JSON.stringify({ newSpace: newSpaceBytes() }));`;

test('young generation: grows no further than the cap once it reaches it; V8 alone grows it far beyond', async () => {
  const capped = await child<{ newSpace: number }>(`capYoungGeneration(${4 * MB});${CHURN}`);
  const control = await child<{ newSpace: number }>(`capYoungGeneration(0);${CHURN}`);
  assert.ok(control.newSpace >= 16 * MB, `control: V8 grew new space to ${control.newSpace / MB} MB only`);
  // V8 doubles it at each growth; one doubling may land before the observer sees the cap reached.
  assert.ok(capped.newSpace <= 8 * MB, `capped at 4 MB, new space reached ${capped.newSpace / MB} MB`);
});

/**
 * 96 MB of 48 KB Buffers (malloc'd, below glibc's mmap threshold), every 16th kept: the kept ones
 * pin the heap's top, so glibc keeps the freed ones resident. After the full GC that frees them,
 * the trim returns them; without it RSS stays up.
 */
const FRAGMENT = (install: boolean): string => `
${install ? 'installAllocatorTrim();' : ''}
const bufs = [];
for (let i = 0; i < 2048; i++) bufs.push(Buffer.allocUnsafeSlow(48 * 1024).fill(i));
const kept = bufs.filter((_, i) => i % 16 === 15);
bufs.length = 0;
gc();
await sleep(300); // the trim that follows the full GC (the last one was over a second ago at start)
gc();
await sleep(1200); // and the deferred one after the second
const rssAfter = process.memoryUsage.rss();
console.log(JSON.stringify({ rssAfter, kept: kept.length }));`;

test('allocator trim: memory freed by a full GC goes back to the system', async () => {
  // The suite runs where gost-ts is deployed: Linux with glibc (koffi is a dependency).
  assert.ok(loadMallocTrim() !== undefined, 'malloc_trim unavailable: glibc and koffi expected');
  const trimmed = await child<{ rssAfter: number }>(FRAGMENT(true));
  const kept = await child<{ rssAfter: number }>(FRAGMENT(false));
  assert.ok(
    kept.rssAfter - trimmed.rssAfter >= 48 * MB,
    `RSS after the GC: ${(trimmed.rssAfter / MB).toFixed(0)} MB with the trim, ` +
      `${(kept.rssAfter / MB).toFixed(0)} MB without: expected at least 48 MB returned`,
  );
});

/**
 * 40 MB of Buffers (short of the 64 MB of external memory that makes V8 collect) that lived long enough to reach V8's old generation, then became garbage while
 * the process went quiet: no full GC comes by itself. The check sees RSS 8 MB above its level
 * after the last trim, collects and trims; without it the garbage stays resident.
 */
const IDLE_GARBAGE = (install: boolean): string => `
${install ? `installAllocatorTrim(undefined, { checkIntervalMs: 200, checkGrowthBytes: ${8 * MB} });` : ''}
let held = [];
for (let i = 0; i < 160; i++) held.push(Buffer.allocUnsafeSlow(256 * 1024).fill(i));
gc({ type: 'minor' });
gc({ type: 'minor' }); // survived twice: promoted, so only a full GC can free them
const rssHeld = process.memoryUsage.rss();
held = undefined;
await sleep(2000);
console.log(JSON.stringify({ rssHeld, rssAfter: process.memoryUsage.rss() }));`;

test('allocator trim: garbage left by traffic is collected and returned once RSS has grown, with no full GC of its own', async () => {
  const checked = await child<{ rssHeld: number; rssAfter: number }>(IDLE_GARBAGE(true));
  const left = await child<{ rssHeld: number; rssAfter: number }>(IDLE_GARBAGE(false));
  const mb = (n: number): string => `${(n / MB).toFixed(0)} MB`;
  assert.ok(
    left.rssHeld - left.rssAfter < 8 * MB,
    `control: RSS fell from ${mb(left.rssHeld)} to ${mb(left.rssAfter)} without the check`,
  );
  assert.ok(
    checked.rssHeld - checked.rssAfter >= 32 * MB,
    `with the check: RSS ${mb(checked.rssHeld)} -> ${mb(checked.rssAfter)}, expected 32 MB or more returned`,
  );
});

test('GOST_TS_YOUNG_GENERATION and GOST_TS_MALLOC_TRIM: a bad value exits 1 naming the variable', async () => {
  for (const [name, value] of [
    ['GOST_TS_YOUNG_GENERATION', 'big'],
    ['GOST_TS_YOUNG_GENERATION', '4096'],
    ['GOST_TS_MALLOC_TRIM', 'yes'],
  ] as const) {
    const r = await runCli(['-L', 'http://127.0.0.1:0'], 15_000, { ...process.env, [name]: value });
    assert.equal(r.code, 1, `${name}=${value}: exit code`);
    assert.match(r.stderr, new RegExp(`${name}: `), `${name}=${value}: ${r.stderr}`);
  }
});

test('the command line caps the young generation (4 MiB; GOST_TS_YOUNG_GENERATION) and trims after full GCs (GOST_TS_MALLOC_TRIM)', async (t) => {
  const start = async (vars: Record<string, string>) => {
    const env = probeEnv({ ...process.env });
    delete env['GOST_TS_YOUNG_GENERATION'];
    delete env['GOST_TS_MALLOC_TRIM'];
    const cli = await startCli(['-D', '-L', '127.0.0.1:0'], { env: { ...env, ...vars } });
    t.after(() => cli.stop());
    return cli;
  };
  const trimmed = /"reason":"gc".*"msg":"returned freed memory to the system"/;

  const byDefault = await start({});
  assert.equal(byDefault.count(/"mib":4,"msg":"young generation capped"/), 1);
  assert.equal(byDefault.count(/allocator trim on/), 1);
  const before = byDefault.count(trimmed);
  // The probe forces full GCs, then waits out the trim's once-a-second spacing.
  await heapSample(byDefault.proc.pid as number, byDefault.lines);
  await byDefault.waitForLine(trimmed, 10_000);
  assert.ok(byDefault.count(trimmed) > before, 'a full GC was followed by a trim');

  const set = await start({ GOST_TS_YOUNG_GENERATION: '16', GOST_TS_MALLOC_TRIM: '0' });
  assert.equal(set.count(/"mib":16,"msg":"young generation capped"/), 1);
  assert.equal(set.count(/allocator trim off/), 1);
  await heapSample(set.proc.pid as number, set.lines);
  assert.equal(set.count(trimmed), 0, 'trim off: no trim after the full GCs');

  const off = await start({ GOST_TS_YOUNG_GENERATION: '0' });
  assert.equal(off.count(/young generation: V8's own limit/), 1);
});
