/**
 * `workers` scaling: one gost-ts mws server with 1 and then 2 workers, driven by several go-peer
 * client processes (one WebSocket session each), each with its own Go load tool, all at once.
 * Reports per worker count: short connections per second (sum over the clients), bulk download
 * MB/s (sum), and the server's CPU (primary + workers) per connection and per GiB.
 *
 *   npm run build && node --import tsx bench/workers.ts [--clients 4] [--count 3000] [--size 268435456]
 *
 * Every figure is the median of --repeat rounds (default 3), 1 and 2 workers alternating.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { readFileSync, readdirSync } from 'node:fs';
import { installCleanup, spawnChild, stopAll } from './children.js';
import type { Child } from './children.js';
import { runLoad } from './load-tool.js';
import { median } from './report.js';
import { startTarget } from './setups.js';
import { cpuSeconds } from './proc-stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GO_PEER = join(ROOT, '.cache/go-peer/go-peer');
const GOST_TS = join(ROOT, 'dist/cli/main.js');

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : Number(process.argv[i + 1]);
}

/** The server process and its workers (children whose parent is the primary). */
function familyPids(pid: number): number[] {
  const out = [pid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

async function startServer(workers: number): Promise<{ child: Child; addr: string }> {
  const child = spawnChild({
    name: `server-w${String(workers)}`,
    command: process.execPath,
    args: [GOST_TS, '-L', 'http+mws://127.0.0.1:0?path=/ws', '-workers', String(workers)],
  });
  const addr = await child.waitFor((line) => {
    if (!line.includes('gost-ts started')) return undefined;
    const s = (JSON.parse(line) as { services: string[] }).services[0] ?? '';
    return s.slice(s.lastIndexOf('@') + 1);
  }, 15_000);
  return { child, addr };
}

async function round(
  workers: number,
  clients: number,
  count: number,
  size: number,
): Promise<Record<string, number>> {
  const target = await startTarget({ goPeer: GO_PEER, gost: '', gostTs: GOST_TS });
  const server = await startServer(workers);
  const proxies: Child[] = [];
  try {
    const addrs: string[] = [];
    for (let i = 0; i < clients; i++) {
      const c = spawnChild({
        name: `client-${String(i)}`,
        command: GO_PEER,
        args: ['client', '-listen', '127.0.0.1:0', '-server', server.addr, '-path', '/ws'],
        env: { ...process.env, GO_PEER_EXIT_ON_STDIN_EOF: '1' },
      });
      proxies.push(c);
      addrs.push(
        await c.waitFor((l, s) => (s === 'stdout' ? /^LISTEN (\S+)$/.exec(l)?.[1] : undefined), 15_000),
      );
    }
    const pids = familyPids(server.child.pid);
    const cpu = (): number => pids.reduce((sum, p) => sum + cpuSeconds(p), 0);
    const all = async (
      args: (proxy: string) => string[],
    ): Promise<{ ops: number; bytes: number; s: number }> => {
      const t0 = performance.now();
      const rs = await Promise.all(addrs.map((p) => runLoad(GO_PEER, args(p), 180_000)));
      const errors = rs.reduce((n, r) => n + r.errors, 0);
      if (errors > 0)
        throw new Error(`${String(errors)} load errors: ${rs.find((r) => r.firstError)?.firstError ?? ''}`);
      return {
        ops: rs.reduce((n, r) => n + r.ops, 0),
        bytes: rs.reduce((n, r) => n + r.bytes, 0),
        s: (performance.now() - t0) / 1000,
      };
    };
    const short = (n: number) => (p: string) => [
      '-proxy',
      p,
      '-target',
      target.addr,
      '-mode',
      'rate',
      '-rate-warmup',
      '0',
      '-count',
      String(n),
      '-concurrency',
      '25',
    ];
    await all(short(Math.ceil(count / 3))); // untimed: JIT warm-up of every worker
    const c0 = cpu();
    const rate = await all(short(count));
    const c1 = cpu();
    const bulk = await all((p) => [
      '-proxy',
      p,
      '-target',
      target.addr,
      '-mode',
      'bulk-down',
      '-size',
      String(size),
    ]);
    const c2 = cpu();
    return {
      connPerS: rate.ops / rate.s,
      cpuMsPerConn: ((c1 - c0) * 1000) / rate.ops,
      mbps: bulk.bytes / 1e6 / bulk.s,
      cpuSPerGiB: (c2 - c1) / (bulk.bytes / 2 ** 30),
    };
  } finally {
    await Promise.all(proxies.map((p) => p.stop()));
    await server.child.stop();
    await target.child.stop();
  }
}

async function main(): Promise<void> {
  installCleanup();
  const clients = flag('clients', 4);
  const count = flag('count', 3000);
  const size = flag('size', 256 * 2 ** 20);
  const repeat = flag('repeat', 3);
  const results: Record<number, Record<string, number>[]> = { 1: [], 2: [] };
  for (let r = 1; r <= repeat; r++) {
    for (const w of [1, 2]) {
      const res = await round(w, clients, count, size);
      process.stderr.write(`round ${String(r)} workers ${String(w)}: ${JSON.stringify(res)}\n`);
      results[w]?.push(res);
    }
  }
  for (const w of [1, 2]) {
    const rs = results[w] ?? [];
    const med = (k: string): string => {
      const xs = rs.map((x) => x[k] ?? NaN);
      return `${(median(xs) ?? NaN).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
    };
    process.stdout.write(
      `workers ${String(w)}: conn/s ${med('connPerS')}, server CPU ms/conn ${med('cpuMsPerConn')}, ` +
        `bulk down MB/s ${med('mbps')}, server CPU s/GiB ${med('cpuSPerGiB')}\n`,
    );
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`workers bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
