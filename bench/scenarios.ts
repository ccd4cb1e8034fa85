/**
 * The scenarios, their sizes (full and `--quick`) and the table rows each one produces.
 */
import type { LoadResult } from './load-tool.js';
import type { RtcpKind, SetupName } from './setups.js';
import { RTCP_KINDS } from './setups.js';

export const SCENARIO_GROUPS = ['bulk', 'rate', 'latency', 'scale'] as const;
export type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

/**
 * Which tunnel a scenario runs through: the forward proxy (HTTP CONNECT port → mws → target) or a
 * reverse tunnel (published port on the server → bind stream → rtcp client → target).
 */
export type Tunnel = 'forward' | `rtcp-${RtcpKind}`;
/** `--only` tokens that pick tunnels: `rtcp` = both reverse tunnels. */
export const TUNNEL_TOKENS = ['forward', 'rtcp', ...RTCP_KINDS.map((k) => `rtcp-${k}` as const)] as const;

export interface Scenario {
  /** `--only` key. */
  name: string;
  group: ScenarioGroup;
  /** Row title prefix. */
  title: string;
  tunnel: Tunnel;
  /** `go-peer load` arguments besides -proxy/-target. */
  args: string[];
  /** Limit of one run (ms), passed to the load tool as well. */
  timeoutMs: number;
  /** Also run with smux v2 when `--mux-version 2` asks for the head-of-line comparison. */
  hol: boolean;
}

/** The measurements of one scenario on one setup. */
export interface ScenarioResult {
  setup: SetupName;
  scenario: string;
  mux: 1 | 2;
  /** Which round of a `--repeat` run (1 when there is one). */
  round: number;
  load?: LoadResult;
  error?: string;
  /** CPU seconds of the tunnel processes during the run (client, server); absent for direct. */
  cpuS?: { client: number; server: number };
  /** Scale: resident memory growth per open stream, bytes (client, server). */
  rssPerStream?: { client: number; server: number };
}

/** One table row: how to read a value out of a result. */
export interface Metric {
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  value: (r: ScenarioResult) => number | undefined;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/**
 * The scenarios in run order: the cold rate first (it needs processes that have served nothing
 * yet), scale last since it leaves the most to clean up.
 */
export function scenarios(quick: boolean): Scenario[] {
  const single = quick ? 64 * MiB : GiB;
  const parallel = quick ? 8 * MiB : 256 * MiB;
  const bulkTimeout = quick ? 60_000 : 180_000;
  const rate = quick ? 500 : 5000;
  const coldRate = quick ? 500 : 2000;
  const idleSamples = quick ? 300 : 2000;
  const busySamples = quick ? 300 : 1000;
  const busyTime = quick ? '2s' : '10s';
  const streams = quick ? 1000 : 10_000;
  const bulk = (name: string, title: string, mode: string, size: number, conns: number): Scenario => ({
    name,
    group: 'bulk',
    title,
    args: ['-mode', mode, '-size', String(size), '-conns', String(conns)],
    timeoutMs: bulkTimeout,
    hol: false,
    tunnel: 'forward',
  });
  const latency = (
    name: string,
    title: string,
    beside: string,
    samples: number,
    maxTime: string,
  ): Scenario => ({
    name,
    group: 'latency',
    title,
    args: ['-mode', 'latency', '-count', String(samples), '-msg', '1024', '-beside', beside].concat([
      '-max-time',
      maxTime,
    ]),
    timeoutMs: 60_000,
    hol: true,
    tunnel: 'forward',
  });
  return [
    // First on fresh processes: the connections a tunnel serves right after it started (JIT cold).
    {
      name: 'rate-cold',
      group: 'rate',
      title: `cold rate ${String(coldRate)} conn ×50`,
      args: [
        '-mode',
        'rate',
        '-rate-warmup',
        '0',
        '-count',
        String(coldRate),
        '-concurrency',
        '50',
        '-msg',
        '1024',
      ],
      timeoutMs: 120_000,
      hol: false,
      tunnel: 'forward',
    },
    bulk('bulk-up', `bulk up 1×${sizeName(single)}`, 'bulk-up', single, 1),
    bulk('bulk-down', `bulk down 1×${sizeName(single)}`, 'bulk-down', single, 1),
    bulk('bulk8-up', `bulk up 8×${sizeName(parallel)}`, 'bulk-up', parallel, 8),
    bulk('bulk8-down', `bulk down 8×${sizeName(parallel)}`, 'bulk-down', parallel, 8),
    {
      name: 'rate',
      group: 'rate',
      title: `rate ${String(rate)} conn ×50`,
      args: ['-mode', 'rate', '-count', String(rate), '-concurrency', '50', '-msg', '1024'],
      timeoutMs: 120_000,
      hol: false,
      tunnel: 'forward',
    },
    latency('latency-idle', 'echo 1K idle', 'none', idleSamples, '10s'),
    latency('latency-down', 'echo 1K + bulk down', 'down', busySamples, busyTime),
    latency('latency-up', 'echo 1K + bulk up', 'up', busySamples, busyTime),
    {
      name: 'scale',
      group: 'scale',
      title: `scale ${String(streams)} idle streams`,
      args: ['-mode', 'streams', '-count', String(streams), '-concurrency', '100'],
      timeoutMs: 180_000,
      hol: false,
      tunnel: 'forward',
    },
    // Reverse tunnels last: the load tool dials the published port, the tunnel carries it back.
    ...RTCP_KINDS.flatMap((kind): Scenario[] => {
      const tunnel = `rtcp-${kind}` as const;
      const title = `rtcp ${kind}:`;
      return [
        { ...bulk(`${tunnel}-up`, `${title} bulk up 1×${sizeName(single)}`, 'bulk-up', single, 1), tunnel },
        {
          ...bulk(`${tunnel}-down`, `${title} bulk down 1×${sizeName(single)}`, 'bulk-down', single, 1),
          tunnel,
        },
        {
          name: `${tunnel}-rate`,
          group: 'rate',
          title: `${title} rate ${String(rate)} conn ×50`,
          args: ['-mode', 'rate', '-count', String(rate), '-concurrency', '50', '-msg', '1024'],
          timeoutMs: 120_000,
          hol: false,
          tunnel,
        },
      ];
    }),
  ];
}

/**
 * Picks the scenarios `--only` tokens name (tokens that are setups are ignored here). Tunnel tokens
 * (`forward`, `rtcp`, `rtcp-socks5`, `rtcp-relay`) choose tunnels, scenario and group names choose
 * within them; with no token of a kind, that kind selects everything. Unknown tokens throw.
 */
export function selectScenarios(all: readonly Scenario[], tokens: readonly string[]): Scenario[] {
  const isTunnel = (t: string): boolean => (TUNNEL_TOKENS as readonly string[]).includes(t);
  for (const t of tokens) {
    if (
      !isTunnel(t) &&
      !all.some((s) => s.name === t) &&
      !(SCENARIO_GROUPS as readonly string[]).includes(t)
    ) {
      throw new Error(`--only: unknown setup, scenario or tunnel "${t}"`);
    }
  }
  const tunnels = tokens.filter(isTunnel);
  const names = tokens.filter((t) => !isTunnel(t));
  return all.filter(
    (s) =>
      (tunnels.length === 0 ||
        tunnels.includes(s.tunnel) ||
        (tunnels.includes('rtcp') && s.tunnel !== 'forward')) &&
      (names.length === 0 || names.includes(s.name) || names.includes(s.group)),
  );
}

function sizeName(bytes: number): string {
  return bytes >= GiB ? `${String(bytes / GiB)} GiB` : `${String(bytes / MiB)} MiB`;
}

/** CPU seconds of both tunnel ends per GiB moved. */
export function cpuPerGiB(r: ScenarioResult): number | undefined {
  if (r.cpuS === undefined || r.load === undefined || r.load.bytes <= 0) return undefined;
  return (r.cpuS.client + r.cpuS.server) / (r.load.bytes / GiB);
}

/** The rows a scenario contributes to the table. */
export function metricsOf(s: Scenario): Metric[] {
  const load =
    (f: (l: LoadResult) => number) =>
    (r: ScenarioResult): number | undefined =>
      r.load === undefined ? undefined : f(r.load);
  switch (s.group) {
    case 'bulk':
      return [
        { label: s.title, unit: 'MB/s', better: 'higher', value: load((l) => l.mbps) },
        { label: `${s.title}: CPU`, unit: 's/GiB', better: 'lower', value: cpuPerGiB },
      ];
    case 'rate':
      return [
        { label: s.title, unit: 'conn/s', better: 'higher', value: load((l) => l.opsPerSec) },
        { label: `${s.title}: p99`, unit: 'ms', better: 'lower', value: load((l) => l.p99Us / 1e3) },
      ];
    case 'latency': {
      const rows: Metric[] = [
        { label: `${s.title}: p50`, unit: 'ms', better: 'lower', value: load((l) => l.p50Us / 1e3) },
        { label: `${s.title}: p99`, unit: 'ms', better: 'lower', value: load((l) => l.p99Us / 1e3) },
      ];
      if (s.name !== 'latency-idle') {
        rows.push({
          label: `${s.title}: bulk`,
          unit: 'MB/s',
          better: 'higher',
          value: load((l) => l.besideMbps),
        });
      }
      return rows;
    }
    case 'scale':
      return [
        { label: `${s.title}: open all`, unit: 's', better: 'lower', value: load((l) => l.seconds) },
        {
          label: `${s.title}: RSS/stream client`,
          unit: 'KiB',
          better: 'lower',
          value: (r) => (r.rssPerStream === undefined ? undefined : r.rssPerStream.client / 1024),
        },
        {
          label: `${s.title}: RSS/stream server`,
          unit: 'KiB',
          better: 'lower',
          value: (r) => (r.rssPerStream === undefined ? undefined : r.rssPerStream.server / 1024),
        },
      ];
  }
}
