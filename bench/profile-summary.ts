// Summarises a directory of .cpuprofile files (the newest): busy time by module, then the hottest
// functions by self time, and our functions by inclusive time. Startup shows up as node:modules.
import { readFileSync, readdirSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const dir = process.argv[2];
if (dir === undefined) {
  console.error('usage: node --import tsx bench/profile-summary.ts DIR');
  process.exit(1);
}
const file = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .sort()
  .at(-1);
if (file === undefined) {
  console.error(`no .cpuprofile in ${dir}`);
  process.exit(1);
}
const profile = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as CpuProfile;
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const where = (cf: CallFrame): string =>
  cf.url
    ? cf.url
        .replace(/^.*node_modules\//, 'npm:')
        .replace(/^.*\/dist\//, 'ours:')
        .replace(/^node:internal\//, 'node:')
    : `native:${cf.functionName}`;
const label = (cf: CallFrame): string => `${cf.functionName || '(anon)'} ${where(cf)}:${cf.lineNumber}`;
const add = (m: Map<string, number>, k: string, t: number): void => {
  m.set(k, (m.get(k) ?? 0) + t);
};

const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
let busy = 0;
const byModule = new Map<string, number>();
const bySelf = new Map<string, number>();
const byIncl = new Map<string, number>();
for (const [id, t] of self) {
  const cf = (nodes.get(id) as ProfileNode).callFrame;
  if (cf.functionName === '(idle)') continue;
  busy += t;
  add(byModule, where(cf), t);
  add(bySelf, label(cf), t);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = label((nodes.get(cur) as ProfileNode).callFrame);
    if (!seen.has(k)) {
      seen.add(k);
      add(byIncl, k, t);
    }
  }
}
const top = (m: Map<string, number>, n: number): string[] =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, t]) => `${((t / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
const ours = new Map([...byIncl].filter(([k]) => k.includes('ours:')));
console.log(`busy ${(busy / 1000).toFixed(0)} ms (${file})`);
console.log(
  [
    '-- by module',
    ...top(byModule, 12),
    '-- self',
    ...top(bySelf, 20),
    '-- inclusive, ours',
    ...top(ours, 15),
  ].join('\n'),
);
