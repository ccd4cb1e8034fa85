/**
 * `npm run faults [-- --cycles 1000 --faults link-down,drop,... --keepalive-interval 250
 * --keepalive-timeout 1000 --warm 10 --serial]`: the fault matrix's long run. Each fault kind
 * (default: all seven, network and WebSocket) gets its own pair of namespaces and cycles there,
 * the kinds at the same time unless `--serial`. Every gost-ts process that lives through the run
 * (the client; the server too where the fault does not kill it) runs with the heap probe and is
 * sampled after `--warm` (10) cycles and after the last. Fails (exit 1) unless, for every kind,
 * every download was reset within twice the keepalive timeout (+3 s of slack for a loaded
 * machine; xtaci's check sees silence between one and two periods after it begins), and each
 * sampled process holds no more descriptors or active handles (+2) and no more RSS or heap after a
 * full GC less compiled code and bytecode (+10 %) after all cycles than after `--warm`.
 */
import { writeFileSync } from 'node:fs';
import { handleCount, heapData } from '../helpers/heap-probe.js';
import { FAULTS, FaultBench, cycles, peerFor, type CycleReport, type Fault } from './matrix.js';
import { netnsUsable } from './netns.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const total = Number(opt('--cycles') ?? 1000);
const warm = Math.min(Number(opt('--warm') ?? 10), total);
const faults = (opt('--faults')?.split(',') ?? [...FAULTS]) as Fault[];
const unknown = faults.filter((f) => !(FAULTS as readonly string[]).includes(f));
if (unknown.length > 0) {
  console.error(`faults: unknown fault kind(s) ${unknown.join(', ')} (known: ${FAULTS.join(', ')})`);
  process.exit(2);
}
const keepaliveIntervalMs = Number(opt('--keepalive-interval') ?? 250);
const keepaliveTimeoutMs = Number(opt('--keepalive-timeout') ?? 1000);
const jsonOut = opt('--json');
const unusable = netnsUsable();
if (unusable !== undefined) {
  console.error(`faults: network namespaces unavailable: ${unusable}`);
  process.exit(1);
}

const benches = new Set<FaultBench>();
// Ctrl-C or a kill still removes the namespaces (exit handlers do not run on a signal).
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void Promise.all([...benches].map((b) => b.stop())).finally(() => process.exit(130));
  });
}

const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;

async function runKind(fault: Fault): Promise<{ fault: Fault; report?: CycleReport; error?: string }> {
  const started = Date.now();
  let bench: FaultBench | undefined;
  try {
    bench = await FaultBench.start({
      peer: peerFor(fault),
      keepaliveIntervalMs,
      keepaliveTimeoutMs,
      probe: true,
    });
    benches.add(bench);
    const report = await cycles(bench, total, warm, [fault], { probe: true, log: (l) => console.log(l) });
    console.log(`${fault}: ${total} cycles in ${Math.round((Date.now() - started) / 1000)} s`);
    return { fault, report };
  } catch (err) {
    console.log(
      `${fault}: FAILED after ${Math.round((Date.now() - started) / 1000)} s: ${(err as Error).message}`,
    );
    return { fault, error: (err as Error).message };
  } finally {
    if (bench !== undefined) {
      benches.delete(bench);
      await bench.stop();
    }
  }
}

const serial = args.includes('--serial');
const outcomes: Awaited<ReturnType<typeof runKind>>[] = [];
if (serial) for (const f of faults) outcomes.push(await runKind(f));
else outcomes.push(...(await Promise.all(faults.map(runKind))));

const problems: string[] = [];
const limitMs = 2 * keepaliveTimeoutMs + 3000;
console.log(
  `\nfaults: ${total} cycles per kind, keepalive ${keepaliveIntervalMs} ms / ${keepaliveTimeoutMs} ms, ` +
    `${serial ? 'kinds one after another' : 'kinds at the same time'}`,
);
for (const o of outcomes) {
  if (o.report === undefined) {
    problems.push(`${o.fault}: ${o.error ?? 'no report'}`);
    continue;
  }
  const { results, processes } = o.report;
  const notReset = results.filter((c) => c.endings.some((e) => e !== 'reset'));
  const fail = results.map((c) => c.failMs).sort((a, b) => a - b);
  const p50 = fail[Math.floor(fail.length / 2)] ?? 0;
  const max = fail.at(-1) ?? 0;
  const recoverMax = Math.max(...results.map((c) => c.recoverMs));
  console.log(
    `${o.fault}: ${results.length} cycles, ${notReset.length} not reset; streams failed after ` +
      `${p50} ms (median), ${max} ms (max); next dial ok within ${recoverMax} ms of recovery`,
  );
  if (notReset.length > 0)
    problems.push(`${o.fault}: ${notReset.length} cycles not reset, e.g. ${JSON.stringify(notReset[0])}`);
  if (max > limitMs) problems.push(`${o.fault}: a stream failed only after ${max} ms (limit ${limitMs} ms)`);
  for (const p of processes) {
    const hw = p.warm.heap;
    const he = p.end.heap;
    const handlesWarm = hw === undefined ? 0 : handleCount(hw);
    const handlesEnd = he === undefined ? 0 : handleCount(he);
    console.log(
      `  ${p.role}: after ${warm} / ${total} cycles: descriptors ${p.warm.fds} / ${p.end.fds}, ` +
        `active handles ${handlesWarm} / ${handlesEnd}, RSS ${mb(p.warm.rss)} / ${mb(p.end.rss)}, ` +
        `heap after GC ${mb(hw?.heapUsed ?? 0)} / ${mb(he?.heapUsed ?? 0)} ` +
        `(compiled code and bytecode with metadata ${mb(hw?.jitUsed ?? 0)} / ${mb(he?.jitUsed ?? 0)}; ` +
        `the rest ${mb(hw === undefined ? 0 : heapData(hw))} / ${mb(he === undefined ? 0 : heapData(he))}), ` +
        `V8 heap committed ${mb(hw?.heapTotal ?? 0)} / ${mb(he?.heapTotal ?? 0)}, ` +
        `external ${mb(hw?.external ?? 0)} / ${mb(he?.external ?? 0)}`,
    );
    const who = `${o.fault} ${p.role}`;
    if (p.end.fds > p.warm.fds + 2) problems.push(`${who}: descriptors ${p.warm.fds} -> ${p.end.fds}`);
    if (handlesEnd > handlesWarm + 2) problems.push(`${who}: active handles ${handlesWarm} -> ${handlesEnd}`);
    if (p.end.rss > p.warm.rss * 1.1) problems.push(`${who}: RSS ${mb(p.warm.rss)} -> ${mb(p.end.rss)}`);
    // Compiled code, bytecode and their metadata grow as V8 optimizes more of the code paths
    // (bounded by the program's size); what must not grow is the rest: the objects the process keeps.
    if (hw !== undefined && he !== undefined && heapData(he) > heapData(hw) * 1.1)
      problems.push(`${who}: heap after GC less compiled code ${mb(heapData(hw))} -> ${mb(heapData(he))}`);
  }
}
if (jsonOut !== undefined) writeFileSync(jsonOut, JSON.stringify(outcomes, null, 1));
for (const p of problems) console.log(`FAIL ${p}`);
console.log(problems.length === 0 ? 'faults: passed' : 'faults: FAILED');
process.exit(problems.length === 0 ? 0 : 1);
