/**
 * `npm run faults [-- --cycles 1000 --faults reset,kill]`: the fault matrix's long run. Cycles the
 * given faults (default: every network fault in turn) and fails (exit 1) unless every download was
 * reset and the client holds no more descriptors or memory (±10 % + 16 MB of allocator slack)
 * after all cycles than after 10.
 */
import { FaultBench, NETWORK_FAULTS, cycles, type NetworkFault } from './matrix.js';
import { netnsUsable } from './netns.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const total = Number(opt('--cycles') ?? 1000);
const faults = (opt('--faults')?.split(',') ?? [...NETWORK_FAULTS]) as NetworkFault[];
const unusable = netnsUsable();
if (unusable !== undefined) {
  console.error(`faults: network namespaces unavailable: ${unusable}`);
  process.exit(1);
}
const bench = await FaultBench.start();
// Ctrl-C or a kill still removes the namespaces (exit handlers do not run on a signal).
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void bench.stop().finally(() => process.exit(130));
  });
}
let ok = false;
try {
  const r = await cycles(bench, total, Math.min(10, total), faults, (l) => console.log(l));
  const notReset = r.results.filter((c) => c.endings.some((e) => e !== 'reset'));
  const slowest = Math.max(...r.results.map((c) => c.failMs));
  console.log(
    `faults: ${total} cycles (${faults.join(',')}); slowest failure ${slowest} ms; ` +
      `descriptors ${r.fdsWarm} after 10, ${r.fdsEnd} at the end; ` +
      `RSS ${Math.round(r.rssWarm / 1048576)} MB after 10, ${Math.round(r.rssEnd / 1048576)} MB at the end`,
  );
  for (const c of notReset) console.log(`not reset: ${JSON.stringify(c)}`);
  ok = notReset.length === 0 && r.fdsEnd <= r.fdsWarm + 2 && r.rssEnd <= r.rssWarm * 1.1 + 16 * 1024 * 1024;
} finally {
  await bench.stop();
}
console.log(ok ? 'faults: passed' : 'faults: FAILED');
process.exit(ok ? 0 : 1);
