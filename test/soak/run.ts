/**
 * `npm run soak [-- --minutes 30 --streams 10000]`: churns streams of random sizes, some aborted at
 * random, through gost-ts ↔ gost-ts and gost-ts ↔ GOST; fails (exit 1) on any lost or altered byte,
 * any stream the tunnel broke, RSS of the client beyond ±10 % of its warm value (plus 16 MB of
 * allocator slack) or descriptor growth.
 */
import { soak } from './soak.js';

const args = process.argv.slice(2);
const opt = (name: string, d: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : d;
};
const minutes = opt('--minutes', 30);
const reports = await soak({
  streams: opt('--streams', 10_000),
  maxMs: minutes * 60_000,
  concurrency: opt('--concurrency', 16),
  maxSize: opt('--max-size', 512 * 1024),
  abortRate: 0.1,
  log: (l) => console.log(l),
});
let bad = false;
for (const r of reports) {
  const rssOk = r.rssEnd <= r.rssWarm * 1.1 + 16 * 1024 * 1024;
  const fdOk = r.fdsEnd <= r.fdsWarm + 2;
  if (r.corrupted > 0 || r.failed > 0 || !rssOk || !fdOk) {
    bad = true;
    console.log(
      `FAIL ${r.pair}: corrupted ${r.corrupted}, failed ${r.failed}, rss ok ${rssOk}, fds ok ${fdOk}`,
    );
  }
}
console.log(bad ? 'soak: FAILED' : 'soak: passed');
process.exit(bad ? 1 : 0);
