/**
 * `npm run soak [-- --minutes 30 --streams 10000 --concurrency 8 --rate 25]`: for `--minutes`,
 * churns streams of random sizes, some aborted at a random point, through gost-ts ↔ gost-ts and
 * gost-ts ↔ GOST at the same time (`--rate`: streams started per second per pair at most, 25 by
 * default so that a shared machine keeps some CPU; 0: as fast as they go). Fails (exit 1) on any
 * lost or altered byte, any stream the tunnel broke, fewer than `--streams` streams in all, RSS of
 * a gost-ts process beyond +10 % of its value after warm-up (a fifth of the run), or descriptors or
 * active handles left once every stream is closed beyond those before the first one (+2: the
 * pair's WebSocket session).
 */
import { soak, type PairReport } from './soak.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const minutes = opt('--minutes', 30);
const minStreams = opt('--streams', 10_000);
const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;
const reports: PairReport[] = await soak({
  streams: Infinity,
  maxMs: minutes * 60_000,
  concurrency: opt('--concurrency', 8),
  maxSize: opt('--max-size', 512 * 1024),
  abortRate: opt('--abort-rate', 0.1),
  rate: opt('--rate', 25),
  sampleMs: opt('--sample-seconds', 60) * 1000,
  log: (l) => console.log(l),
});
const problems: string[] = [];
let streams = 0;
for (const r of reports) {
  streams += r.issued;
  console.log(
    `${r.pair}: ${r.issued} streams, ${r.completed} completed (${mb(r.bytes)} echoed intact), ` +
      `${r.aborted} aborted, ${r.corrupted} corrupted, ${r.failed} failed`,
  );
  if (r.corrupted > 0) problems.push(`${r.pair}: ${r.corrupted} completed streams lost or altered bytes`);
  if (r.failed > 0) problems.push(`${r.pair}: ${r.failed} streams broken by the tunnel`);
  for (const p of r.processes) {
    console.log(
      `  ${p.role}: RSS ${mb(p.rssWarm)} after warm-up, ${mb(p.rssEnd)} at the end (max ${mb(p.rssMax)}); ` +
        `heap after GC ${mb(p.heapWarm)} -> ${mb(p.heapEnd)}; ` +
        `descriptors ${p.fdsBase} before, ${p.fdsWarm} warm, ${p.fdsEnd} end, ${p.fdsIdle} idle; ` +
        `active handles ${p.handlesBase} before, ${p.handlesWarm} warm, ${p.handlesEnd} end, ${p.handlesIdle} idle`,
    );
    if (p.rssEnd > p.rssWarm * 1.1)
      problems.push(`${r.pair} ${p.role}: RSS ${mb(p.rssWarm)} -> ${mb(p.rssEnd)} (over +10 %)`);
    if (p.fdsIdle > p.fdsBase + 2)
      problems.push(`${r.pair} ${p.role}: descriptors ${p.fdsBase} before, ${p.fdsIdle} idle after`);
    if (p.handlesIdle > p.handlesBase + 2)
      problems.push(
        `${r.pair} ${p.role}: active handles ${p.handlesBase} before, ${p.handlesIdle} idle after`,
      );
  }
}
if (streams < minStreams) problems.push(`only ${streams} streams churned (wanted ${minStreams})`);
for (const p of problems) console.log(`FAIL ${p}`);
console.log(problems.length > 0 ? 'soak: FAILED' : 'soak: passed');
process.exit(problems.length > 0 ? 1 : 0);
