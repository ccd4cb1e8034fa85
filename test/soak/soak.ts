import type net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { freePort, startCli, type CliProcess } from '../helpers/cli.js';
import { startGost, type GostProcess } from '../helpers/gost.js';
import { heapSample, probeEnv, handleCount, type HeapSample } from '../helpers/heap-probe.js';
import { echoServer } from '../helpers/net.js';
import { connectVia } from '../faults/support.js';

export interface SoakOptions {
  /** Streams per pair: stop once this many were issued (Infinity: only the time bound stops). */
  streams: number;
  /** Stop once this many ms have passed (0 = no time bound). */
  maxMs: number;
  /** Streams in flight per pair (both pairs churn at the same time). */
  concurrency: number;
  /** Largest payload of one stream (bytes). */
  maxSize: number;
  /** Share of streams the application aborts at a random point (0..1). */
  abortRate: number;
  /** Streams started per second per pair at most (0: as fast as the tunnel goes). */
  rate?: number;
  /** How often to log RSS and descriptors of every gost-ts process (ms). */
  sampleMs?: number;
  log?: (line: string) => void;
}

/** One gost-ts process of a pair, sampled after warm-up and at the end. */
export interface ProcessReport {
  role: string;
  rssWarm: number;
  rssEnd: number;
  rssMax: number;
  fdsWarm: number;
  fdsEnd: number;
  /** Descriptors and active handles before the first stream and once every stream was closed. */
  fdsBase: number;
  fdsIdle: number;
  handlesBase: number;
  handlesIdle: number;
  pid: number;
  /** Heap used right after a full GC (heap probe), after warm-up and at the end. */
  heapWarm: number;
  heapEnd: number;
  /** Active libuv handles and requests, after warm-up and at the end. */
  handlesWarm: number;
  handlesEnd: number;
}

export interface PairReport {
  pair: string;
  issued: number;
  completed: number;
  aborted: number;
  /** Completed streams whose echo differed from what was sent (lost or altered bytes). */
  corrupted: number;
  /** Streams that failed without being aborted (the tunnel refused or broke them). */
  failed: number;
  /** Bytes sent and echoed back intact on completed streams. */
  bytes: number;
  /** Every gost-ts process of the pair (the client, and the server where it is gost-ts). */
  processes: ProcessReport[];
}

type Outcome = 'ok' | 'aborted' | 'corrupt' | 'failed';

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/**
 * One stream: send `size` random bytes and compare the echo's digest with what was sent. An
 * aborted stream ends once `abortAt` bytes of the echo arrived, half the time with a reset and
 * half with a plain close (which resets too when unread data is pending).
 */
async function oneStream(
  proxy: number,
  target: string,
  size: number,
  abortAt: number | undefined,
): Promise<Outcome> {
  let s: net.Socket;
  try {
    s = await connectVia(proxy, target);
  } catch {
    return 'failed';
  }
  const data = randomBytes(size);
  const want = createHash('sha256').update(data).digest('hex');
  const abort = abortAt !== undefined;
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let got = 0;
    let settled = false;
    const done = (r: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('failed'), 30_000);
    s.on('error', () => done(abort ? 'aborted' : 'failed'));
    s.on('data', (c: Buffer) => {
      hash.update(c);
      got += c.length;
      if (abort && got >= abortAt) {
        if (Math.random() < 0.5) s.resetAndDestroy();
        done('aborted');
        return;
      }
      if (got >= size) done(got === size && hash.digest('hex') === want ? 'ok' : 'corrupt');
    });
    s.on('close', () => done(abort ? 'aborted' : got === size ? 'ok' : 'failed'));
    s.resume();
    if (size === 0) {
      done('ok');
      return;
    }
    s.write(data);
  });
}

interface Watched {
  role: string;
  proc: CliProcess;
  base?: HeapSample;
  warm?: { rss: number; fds: number; heap: HeapSample };
  rssMax: number;
}

const pidOf = (w: Watched): number => w.proc.proc.pid as number;

async function sampleEnd(w: Watched): Promise<ProcessReport> {
  const pid = w.proc.proc.pid as number;
  const heap = await heapSample(pid, w.proc.lines);
  const end = { rss: rss(pid), fds: fds(pid), heap };
  const warm = w.warm ?? end;
  return {
    role: w.role,
    rssWarm: warm.rss,
    rssEnd: end.rss,
    rssMax: Math.max(w.rssMax, end.rss),
    fdsWarm: warm.fds,
    fdsEnd: end.fds,
    fdsBase: w.base?.fds ?? 0,
    fdsIdle: end.fds,
    handlesBase: w.base === undefined ? 0 : handleCount(w.base),
    handlesIdle: handleCount(end.heap),
    pid,
    heapWarm: warm.heap.heapUsed,
    heapEnd: end.heap.heapUsed,
    handlesWarm: handleCount(warm.heap),
    handlesEnd: handleCount(end.heap),
  };
}

async function sampleWarm(w: Watched): Promise<void> {
  const pid = w.proc.proc.pid as number;
  const heap = await heapSample(pid, w.proc.lines);
  w.warm = { rss: rss(pid), fds: fds(pid), heap };
}

async function churn(
  name: string,
  watched: Watched[],
  proxy: number,
  target: string,
  o: SoakOptions,
  started: number,
): Promise<PairReport> {
  const report: PairReport = {
    pair: name,
    issued: 0,
    completed: 0,
    aborted: 0,
    corrupted: 0,
    failed: 0,
    bytes: 0,
    processes: [],
  };
  // Warm-up ends at a fifth of the run: of its streams or of its time, whichever comes first.
  const warmStreams = Number.isFinite(o.streams) ? Math.floor(o.streams / 5) : Infinity;
  const warmMs = o.maxMs > 0 ? o.maxMs / 5 : Infinity;
  let warming: Promise<void> | undefined;
  // The end sample is taken like the warm one, with streams still in flight: as the run stops.
  let ending: Promise<ProcessReport[]> | undefined;
  const more = (): boolean => {
    if (report.issued < o.streams && (o.maxMs === 0 || Date.now() - started < o.maxMs)) return true;
    ending ??= (warming ?? Promise.resolve()).then(() => Promise.all(watched.map(sampleEnd)));
    return false;
  };
  const worker = async (): Promise<void> => {
    while (more()) {
      const slot = o.rate ? started + (report.issued / o.rate) * 1000 : 0;
      report.issued += 1;
      if (slot > Date.now()) await new Promise((r) => setTimeout(r, slot - Date.now()));
      if (warming === undefined && (report.issued >= warmStreams || Date.now() - started >= warmMs))
        warming = Promise.all(watched.map(sampleWarm)).then(() => {});
      const size = Math.floor(Math.random() * o.maxSize);
      const abortAt = Math.random() < o.abortRate ? Math.floor(Math.random() * size) : undefined;
      const r = await oneStream(proxy, target, size, abortAt);
      if (r === 'ok') {
        report.completed += 1;
        report.bytes += size;
      } else if (r === 'aborted') report.aborted += 1;
      else if (r === 'corrupt') report.corrupted += 1;
      else report.failed += 1;
    }
  };
  const sampler = setInterval(() => {
    const parts = watched.map((w) => {
      const pid = w.proc.proc.pid as number;
      const r = rss(pid);
      w.rssMax = Math.max(w.rssMax, r);
      return `${w.role} rss ${Math.round(r / 1048576)} MB fds ${fds(pid)}`;
    });
    o.log?.(
      `${name} ${Math.round((Date.now() - started) / 1000)} s: ${report.issued} streams ` +
        `(${report.completed} ok, ${report.aborted} aborted, ${report.corrupted} corrupt, ${report.failed} failed); ` +
        parts.join('; '),
    );
  }, o.sampleMs ?? 60_000);
  try {
    await Promise.all(Array.from({ length: o.concurrency }, worker));
  } finally {
    clearInterval(sampler);
  }
  report.processes = (await ending) ?? [];
  // Once every stream is closed, descriptors are back to the idle count.
  await new Promise((r) => setTimeout(r, 1000));
  for (const [i, w] of watched.entries()) {
    const p = report.processes[i] as ProcessReport;
    const idle = await heapSample(p.pid, w.proc.lines);
    p.fdsIdle = idle.fds;
    p.handlesIdle = handleCount(idle);
  }
  o.log?.(`${name}: ${JSON.stringify(report)}`);
  return report;
}

/**
 * gost-ts ↔ gost-ts and gost-ts client ↔ real GOST server, churned at the same time through one
 * echo target. Every gost-ts process runs with the heap probe, so heap use after a full GC and
 * active handles are sampled after warm-up and at the end, besides RSS and descriptors.
 */
export async function soak(o: SoakOptions): Promise<PairReport[]> {
  const echo = await echoServer();
  const target = `127.0.0.1:${echo.port}`;
  const procs: (CliProcess | GostProcess)[] = [];
  try {
    const tsPort = await freePort();
    const tsServer = await startCli(['-L', `http+mws://127.0.0.1:${tsPort}?path=/ws`], { env: probeEnv() });
    procs.push(tsServer);
    const gostPort = await freePort();
    procs.push(await startGost(['-L', `http+mws://127.0.0.1:${gostPort}?path=/ws`]));
    const pairs: { name: string; watched: Watched[]; proxy: number }[] = [];
    for (const [name, port, server] of [
      ['gost-ts <-> gost-ts', tsPort, tsServer],
      ['gost-ts <-> gost', gostPort, undefined],
    ] as const) {
      const proxy = await freePort();
      const client = await startCli(
        ['-L', `http://127.0.0.1:${proxy}`, '-F', `http+mws://127.0.0.1:${port}?path=/ws`],
        { env: probeEnv() },
      );
      procs.push(client);
      const watched: Watched[] = [{ role: 'client', proc: client, rssMax: 0 }];
      if (server !== undefined) watched.push({ role: 'server', proc: server, rssMax: 0 });
      pairs.push({ name, watched, proxy });
    }
    for (const p of pairs) for (const w of p.watched) w.base ??= await heapSample(pidOf(w), w.proc.lines);
    const started = Date.now();
    return await Promise.all(pairs.map((p) => churn(p.name, p.watched, p.proxy, target, o, started)));
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await echo.close();
  }
}
