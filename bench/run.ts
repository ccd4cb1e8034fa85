/**
 * Benchmark runner: gost-ts against the Go libraries GOST uses, on loopback.
 *
 * For each setup (direct TCP, gost-ts pair, Go pair, and the two mixed pairs) it starts the tunnel
 * processes and a `go-peer target`, runs every scenario with the Go load generator, samples CPU
 * and memory of the tunnel processes from /proc, stops everything, and prints one table. The JSON
 * document is always saved to bench-results/<timestamp>.json; `--json` prints it instead of the
 * table. See bench/README.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchOptions } from './args.js';
import { USAGE, parseBenchArgs } from './args.js';
import { installCleanup, stopAll } from './children.js';
import type { LoadHooks } from './load-tool.js';
import { runLoad } from './load-tool.js';
import { cpuSeconds, rssBytes } from './proc-stats.js';
import { LEGEND, buildRows, formatNumber, renderTable } from './report.js';
import type { Scenario, ScenarioResult } from './scenarios.js';
import type { Tunnel } from './scenarios.js';
import { cpuPerGiB, scenarios, selectScenarios } from './scenarios.js';
import type { Programs, RunningSetup, SetupName } from './setups.js';
import { SETUP_NAMES, hasRtcp, startRtcpSetup, startSetup, startTarget } from './setups.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Pause between scenarios so closed connections are gone before the next one starts (ms). */
const SETTLE_MS = 300;
/** After the last stream opened, wait this long before reading RSS (ms). */
const RSS_SETTLE_MS = 1000;

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Builds GOST and the Go peer if older than their sources (a no-op otherwise) and checks gost-ts. */
function preparePrograms(): Programs {
  for (const [what, script] of [
    ['GOST', 'test/interop/gost/build.sh'],
    ['go-peer', 'test/interop/go-peer/build.sh'],
  ] as const) {
    const build = spawnSync('bash', [join(ROOT, script)], { stdio: ['ignore', 2, 2] });
    if (build.status !== 0) throw new Error(`${what} build failed (see above)`);
  }
  const progs = {
    goPeer: join(ROOT, '.cache/go-peer/go-peer'),
    gost: join(ROOT, '.cache/gost/gost'),
    // Another build of gost-ts (e.g. of an older commit) to compare against, in the same conditions.
    gostTs: process.env.BENCH_GOST_TS ?? join(ROOT, 'dist/cli/main.js'),
  };
  if (!existsSync(progs.gostTs)) throw new Error(`${progs.gostTs} is missing: run npm run build`);
  return progs;
}

/** Splits `--only` tokens into setups and scenarios; unknown tokens are an error. */
function select(opts: BenchOptions, all: readonly Scenario[]): { setups: SetupName[]; scs: Scenario[] } {
  const isSetup = (t: string): t is SetupName => (SETUP_NAMES as readonly string[]).includes(t);
  const setupTokens = opts.only.filter(isSetup);
  return {
    setups: setupTokens.length > 0 ? SETUP_NAMES.filter((s) => setupTokens.includes(s)) : [...SETUP_NAMES],
    scs: selectScenarios(
      all,
      opts.only.filter((t) => !isSetup(t)),
    ),
  };
}

/** Runs one scenario on a started setup, sampling the tunnel processes around it. */
async function measure(
  setup: RunningSetup,
  sc: Scenario,
  target: string,
  progs: Programs,
  mux: 1 | 2,
  round: number,
): Promise<ScenarioResult> {
  const base = { setup: setup.name, scenario: sc.name, mux, round };
  const { client, server } = setup;
  const cpu = (): { client: number; server: number } | undefined =>
    client !== undefined && server !== undefined
      ? { client: cpuSeconds(client.pid), server: cpuSeconds(server.pid) }
      : undefined;

  let rssBefore: { client: number; server: number } | undefined;
  let rssPerStream: { client: number; server: number } | undefined;
  const hooks: LoadHooks = {};
  if (sc.group === 'scale' && client !== undefined && server !== undefined) {
    hooks.onWarm = async () => {
      await sleep(RSS_SETTLE_MS / 2);
      rssBefore = { client: rssBytes(client.pid), server: rssBytes(server.pid) };
    };
    hooks.onOpen = async (info) => {
      await sleep(RSS_SETTLE_MS);
      if (rssBefore === undefined || info.open === 0) return;
      rssPerStream = {
        client: (rssBytes(client.pid) - rssBefore.client) / info.open,
        server: (rssBytes(server.pid) - rssBefore.server) / info.open,
      };
    };
  }

  const args = [
    ...(setup.proxy === undefined ? [] : ['-proxy', setup.proxy]),
    '-target',
    setup.entry ?? target,
    ...sc.args,
  ];
  try {
    const c0 = cpu();
    const load = await runLoad(progs.goPeer, args, sc.timeoutMs, hooks);
    const c1 = cpu();
    return {
      ...base,
      load,
      ...(c0 !== undefined && c1 !== undefined
        ? { cpuS: { client: c1.client - c0.client, server: c1.server - c0.server } }
        : {}),
      ...(rssPerStream !== undefined ? { rssPerStream } : {}),
    };
  } catch (err) {
    return { ...base, error: errorText(err) };
  }
}

/** One progress line per scenario, on stderr. */
function describe(sc: Scenario, r: ScenarioResult): string {
  if (r.error !== undefined) return `FAILED: ${r.error.split('\n')[0] ?? ''}`;
  const l = r.load;
  if (l === undefined) return '?';
  const ms = (us: number): string => `${formatNumber(us / 1e3)} ms`;
  let text: string;
  switch (sc.group) {
    case 'bulk': {
      const cpu = cpuPerGiB(r);
      text = `${formatNumber(l.mbps)} MB/s in ${l.seconds.toFixed(1)} s`;
      if (cpu !== undefined) text += `, CPU ${formatNumber(cpu)} s/GiB`;
      break;
    }
    case 'rate':
      text = `${formatNumber(l.opsPerSec)} conn/s, p50 ${ms(l.p50Us)}, p99 ${ms(l.p99Us)}`;
      break;
    case 'latency':
      text = `p50 ${ms(l.p50Us)}, p99 ${ms(l.p99Us)} over ${String(l.ops)} samples`;
      if (l.besideBytes > 0) text += `, bulk beside ${formatNumber(l.besideMbps)} MB/s`;
      break;
    case 'scale':
      text = `${String(l.ops)} streams in ${l.seconds.toFixed(2)} s`;
      if (r.rssPerStream !== undefined) {
        const kib = (b: number): string => formatNumber(b / 1024);
        text += `, RSS/stream ${kib(r.rssPerStream.client)} / ${kib(r.rssPerStream.server)} KiB`;
      }
      break;
  }
  return l.errors > 0 ? `${text} (${String(l.errors)} errors: ${l.firstError ?? ''})` : text;
}

/** Starts one setup, runs the scenarios on it in order, and stops it whatever happens. */
async function runSetup(
  name: SetupName,
  tunnel: Tunnel,
  mux: 1 | 2,
  scs: readonly Scenario[],
  progs: Programs,
  round: { n: number; of: number },
): Promise<ScenarioResult[]> {
  const roundTag = round.of > 1 ? ` round ${String(round.n)}/${String(round.of)}` : '';
  const via = tunnel === 'forward' ? '' : ` ${tunnel}`;
  const tag = `[${name}${via}${name === 'direct' ? '' : ` smux v${String(mux)}`}${roundTag}]`;
  const out: ScenarioResult[] = [];
  const fail = (sc: Scenario, error: string): ScenarioResult => ({
    setup: name,
    scenario: sc.name,
    mux,
    round: round.n,
    error,
  });
  // A fresh target per setup: connections of earlier setups linger in TIME_WAIT on the old port.
  let target: Awaited<ReturnType<typeof startTarget>> | undefined;
  let setup: RunningSetup | undefined;
  try {
    target = await startTarget(progs);
    setup =
      tunnel === 'forward'
        ? await startSetup(name, progs, mux)
        : await startRtcpSetup(name, tunnel === 'rtcp-socks5' ? 'socks5' : 'relay', progs, target.addr);
    const at = setup.proxy ?? setup.entry;
    log(
      `${tag} up${at === undefined ? '' : `, ${setup.proxy === undefined ? 'published port' : 'proxy'} ${at}`}`,
    );
    for (const sc of scs) {
      const dead = [setup.client, setup.server, target.child].find((c) => c?.hasExited === true);
      const r =
        dead !== undefined
          ? fail(sc, `${dead.name} exited earlier\n${dead.tail()}`)
          : await measure(setup, sc, target.addr, progs, mux, round.n);
      log(`${tag} ${sc.name}: ${describe(sc, r)}`);
      out.push(r);
      await sleep(SETTLE_MS);
    }
  } catch (err) {
    log(`${tag} cannot start: ${errorText(err)}`);
    for (const sc of scs) {
      if (!out.some((r) => r.scenario === sc.name)) out.push(fail(sc, errorText(err)));
    }
  } finally {
    await setup?.stop();
    await target?.child.stop();
  }
  return out;
}

function hostInfo(): Record<string, unknown> {
  let go = 'unknown';
  try {
    go = execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    // Go is only needed to build the peer; a prebuilt one still runs.
  }
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, go };
}

async function main(): Promise<void> {
  installCleanup();
  const opts = parseBenchArgs(process.argv.slice(2));
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const progs = preparePrograms();
  const all = scenarios(opts.quick);
  const { setups, scs } = select(opts, all);
  const started = new Date();
  // Other processes compete with the tunnels for CPU: record how busy the host was before we began.
  const loadBefore = loadavg()[0] ?? 0;
  if (loadBefore > 1)
    log(`bench: WARNING: load average ${loadBefore.toFixed(2)} before start: figures will be noisy`);
  log(`bench: ${opts.quick ? 'quick' : 'full'} run, setups ${setups.join(', ')}`);
  log(`bench: scenarios ${scs.map((s) => s.name).join(', ')}`);

  const results: ScenarioResult[] = [];
  for (let n = 1; n <= opts.repeat; n++) {
    for (const mux of opts.muxVersions) {
      const todo = mux === 1 ? scs : scs.filter((s) => s.hol);
      // One setup per tunnel: the forward proxy first, then each reverse tunnel.
      for (const tunnel of [...new Set(todo.map((s) => s.tunnel))]) {
        const these = todo.filter((s) => s.tunnel === tunnel);
        for (const name of setups) {
          if (mux === 2 && name === 'direct') continue;
          if (tunnel !== 'forward' && !hasRtcp(name)) continue;
          results.push(...(await runSetup(name, tunnel, mux, these, progs, { n, of: opts.repeat })));
        }
      }
    }
  }

  const rows = buildRows(scs, results, opts.muxVersions);
  const finished = new Date();
  const doc = {
    schema: 'gost-ts-bench/1',
    startedAt: started.toISOString(),
    durationS: (finished.getTime() - started.getTime()) / 1000,
    options: { quick: opts.quick, only: opts.only, muxVersions: opts.muxVersions, repeat: opts.repeat },
    host: { ...hostInfo(), loadAvgBefore: loadBefore, loadAvgAfter: loadavg()[0] ?? 0 },
    scenarios: scs.map(({ name, group, title, args }) => ({ name, group, title, args })),
    results,
    rows,
  };
  const dir = join(ROOT, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);

  if (opts.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    process.stdout.write(`\n${renderTable(rows)}\n\n${LEGEND}\n`);
    const failed = results.filter((r) => r.error !== undefined || (r.load?.errors ?? 0) > 0);
    for (const r of failed) {
      const why = r.error ?? `${String(r.load?.errors)} errors: ${r.load?.firstError ?? ''}`;
      process.stdout.write(`! ${r.setup} ${r.scenario} v${String(r.mux)}: ${why.split('\n')[0] ?? ''}\n`);
    }
  }
  log(`bench: done in ${doc.durationS.toFixed(0)} s; results in ${file}`);
}

main()
  .catch((err: unknown) => {
    log(`bench: ${errorText(err)}`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
