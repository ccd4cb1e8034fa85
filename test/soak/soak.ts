import type net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { freePort, startCli, type CliProcess } from '../helpers/cli.js';
import { startGost, type GostProcess } from '../helpers/gost.js';
import { echoServer } from '../helpers/net.js';
import { connectVia } from '../faults/support.js';

export interface SoakOptions {
  /** Streams per pair. */
  streams: number;
  /** Stop earlier once this many ms have passed (0 = no time bound). */
  maxMs: number;
  /** Streams in flight per pair. */
  concurrency: number;
  /** Largest payload of one stream (bytes). */
  maxSize: number;
  /** Share of streams the application aborts midway (0..1). */
  abortRate: number;
  log?: (line: string) => void;
}

export interface PairReport {
  pair: string;
  completed: number;
  aborted: number;
  /** Completed streams whose echo differed from what was sent (lost or altered bytes). */
  corrupted: number;
  /** Streams that failed without being aborted (the tunnel refused or broke them). */
  failed: number;
  bytes: number;
  /** gost-ts client process: RSS and open descriptors after warm-up and at the end. */
  rssWarm: number;
  rssEnd: number;
  fdsWarm: number;
  fdsEnd: number;
}

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** One stream: send `size` random bytes, read the echo, compare digests; or abort midway. */
async function oneStream(
  proxy: number,
  target: string,
  size: number,
  abort: boolean,
): Promise<'ok' | 'aborted' | 'corrupt' | 'failed'> {
  let s: net.Socket;
  try {
    s = await connectVia(proxy, target);
  } catch {
    return 'failed';
  }
  const data = randomBytes(size);
  const want = createHash('sha256').update(data).digest('hex');
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let got = 0;
    let settled = false;
    const done = (r: 'ok' | 'aborted' | 'corrupt' | 'failed'): void => {
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
      if (abort && got >= size / 2) {
        s.resetAndDestroy();
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

async function churn(
  name: string,
  client: CliProcess,
  proxy: number,
  target: string,
  o: SoakOptions,
  started: number,
): Promise<PairReport> {
  const pid = client.proc.pid as number;
  const report: PairReport = {
    pair: name,
    completed: 0,
    aborted: 0,
    corrupted: 0,
    failed: 0,
    bytes: 0,
    rssWarm: 0,
    rssEnd: 0,
    fdsWarm: 0,
    fdsEnd: 0,
  };
  let issued = 0;
  const warmAt = Math.floor(o.streams / 5);
  const worker = async (): Promise<void> => {
    while (issued < o.streams && (o.maxMs === 0 || Date.now() - started < o.maxMs)) {
      issued += 1;
      if (issued === warmAt) {
        report.rssWarm = rss(pid);
        report.fdsWarm = fds(pid);
      }
      const size = Math.floor(Math.random() * o.maxSize);
      const r = await oneStream(proxy, target, size, Math.random() < o.abortRate);
      if (r === 'ok') {
        report.completed += 1;
        report.bytes += size;
      } else if (r === 'aborted') report.aborted += 1;
      else if (r === 'corrupt') report.corrupted += 1;
      else report.failed += 1;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  // Let closing streams settle before the final sample.
  await new Promise((r) => setTimeout(r, 500));
  report.rssEnd = rss(pid);
  report.fdsEnd = fds(pid);
  if (report.rssWarm === 0) {
    report.rssWarm = report.rssEnd;
    report.fdsWarm = report.fdsEnd;
  }
  o.log?.(`${name}: ${JSON.stringify(report)}`);
  return report;
}

/** gost-ts ↔ gost-ts and gost-ts client ↔ real GOST server, churned in turn through one echo target. */
export async function soak(o: SoakOptions): Promise<PairReport[]> {
  const echo = await echoServer();
  const target = `127.0.0.1:${echo.port}`;
  const started = Date.now();
  const procs: (CliProcess | GostProcess)[] = [];
  try {
    const reports: PairReport[] = [];
    const tsPort = await freePort();
    procs.push(await startCli(['-L', `http+mws://127.0.0.1:${tsPort}?path=/ws`]));
    const gostPort = await freePort();
    procs.push(await startGost(['-L', `http+mws://127.0.0.1:${gostPort}?path=/ws`]));
    for (const [name, port] of [
      ['gost-ts <-> gost-ts', tsPort],
      ['gost-ts <-> gost', gostPort],
    ] as const) {
      const proxy = await freePort();
      const client = await startCli([
        '-L',
        `http://127.0.0.1:${proxy}`,
        '-F',
        `http+mws://127.0.0.1:${port}?path=/ws`,
      ]);
      procs.push(client);
      reports.push(await churn(name, client, proxy, target, o, started));
    }
    return reports;
  } finally {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await echo.close();
  }
}
