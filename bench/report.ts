/**
 * Turns scenario results into table rows (one per metric, one column per setup, plus the ratios of
 * the gost-ts pair to the real GOST pair, to the Go-library pair and to direct TCP) and renders them.
 */
import type { Metric, Scenario, ScenarioResult } from './scenarios.js';
import { GiB, metricsOf } from './scenarios.js';
import type { SetupName } from './setups.js';
import { SETUP_LABELS, SETUP_NAMES } from './setups.js';

export interface Row {
  metric: string;
  unit: string;
  better: 'higher' | 'lower';
  /** null: not run, failed, or not applicable (e.g. CPU of direct). */
  values: Record<SetupName, number | null>;
  /** Setups whose value comes from a run with errors (some connections failed). */
  withErrors: SetupName[];
  /** gost-ts ÷ the real GOST pair (the reference), ÷ go-pair (second reference) and ÷ direct. */
  oursOverGost: number | null;
  oursOverGo: number | null;
  oursOverDirect: number | null;
  /** How gost-ts compares with the GOST pair, with a ±5 % dead band. */
  verdict: 'win' | 'lose' | '≈' | null;
}

/** A ratio within this factor of 1 counts as a tie. */
const TIE = 0.05;

/** A cell before formatting: the value and whether its run had failed connections. */
interface Cell {
  value: number | undefined;
  withErrors: boolean;
}

/** The median of `xs` (the mean of the middle two for an even count); undefined when empty. */
export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A cell over the rounds of a `--repeat` run: the median of the rounds that produced a value. */
function medianCell(cells: readonly Cell[]): Cell | undefined {
  if (cells.length === 0) return undefined;
  const values = cells.flatMap((c) => (c.value === undefined ? [] : [c.value]));
  return { value: median(values), withErrors: cells.some((c) => c.withErrors) };
}

/**
 * One row per metric of every scenario, for every smux version the scenario ran with, then the CPU
 * of all bulk scenarios together. Direct TCP has no smux, so its v1 result also fills v2 rows. With
 * several rounds, each cell is the median over the rounds (ratios are of those medians).
 */
export function buildRows(
  scenarios: readonly Scenario[],
  results: readonly ScenarioResult[],
  muxVersions: readonly (1 | 2)[],
): Row[] {
  const rows: Row[] = [];
  const findAll = (setup: SetupName, scenario: string, mux: 1 | 2): ScenarioResult[] =>
    results.filter(
      (r) => r.setup === setup && r.scenario === scenario && (setup === 'direct' || r.mux === mux),
    );
  for (const s of scenarios) {
    for (const mux of muxVersions) {
      const ran = results.some((r) => r.scenario === s.name && r.mux === mux);
      if (mux === 2 && (!s.hol || !ran)) continue;
      const suffix = muxVersions.length > 1 && s.hol ? ` [smux v${String(mux)}]` : '';
      for (const m of metricsOf(s)) {
        rows.push(
          makeRow(`${m.label}${suffix}`, m, (setup) =>
            medianCell(
              findAll(setup, s.name, mux).map((r) => ({
                value: r.error === undefined ? m.value(r) : undefined,
                withErrors: (r.load?.errors ?? 0) > 0,
              })),
            ),
          ),
        );
      }
    }
  }
  // The forward proxy's bulk scenarios only: the reverse tunnels have CPU rows of their own.
  const bulk = new Set(
    scenarios.filter((s) => s.group === 'bulk' && s.tunnel === 'forward').map((s) => s.name),
  );
  if (bulk.size > 0) {
    const metric = { label: 'all bulk: CPU', unit: 's/GiB', better: 'lower' } as const;
    const rounds = [...new Set(results.map((r) => r.round))];
    rows.push(
      makeRow(metric.label, metric, (setup) =>
        medianCell(
          rounds.flatMap((round) => {
            const rs = results.filter(
              (r) => r.setup === setup && r.mux === 1 && r.round === round && bulk.has(r.scenario),
            );
            if (rs.length === 0) return [];
            return [bulkCpuCell(rs)];
          }),
        ),
      ),
    );
  }
  return rows;
}

/** CPU seconds per GiB over the bulk scenarios of one round; no value if any of them failed. */
function bulkCpuCell(rs: readonly ScenarioResult[]): Cell {
  let cpu = 0;
  let bytes = 0;
  for (const r of rs) {
    if (r.cpuS === undefined || r.load === undefined || r.error !== undefined) {
      return { value: undefined, withErrors: rs.some((x) => (x.load?.errors ?? 0) > 0) };
    }
    cpu += r.cpuS.client + r.cpuS.server;
    bytes += r.load.bytes;
  }
  return {
    value: bytes > 0 ? cpu / (bytes / GiB) : undefined,
    withErrors: rs.some((r) => (r.load?.errors ?? 0) > 0),
  };
}

function makeRow(
  label: string,
  m: Pick<Metric, 'unit' | 'better'>,
  cellOf: (setup: SetupName) => Cell | undefined,
): Row {
  const values = {} as Record<SetupName, number | null>;
  const withErrors: SetupName[] = [];
  for (const setup of SETUP_NAMES) {
    const c = cellOf(setup);
    values[setup] = c?.value === undefined || !Number.isFinite(c.value) ? null : c.value;
    if (c?.withErrors === true) withErrors.push(setup);
  }
  const ratio = (a: number | null, b: number | null): number | null =>
    a === null || b === null || b === 0 ? null : a / b;
  const oursOverGost = ratio(values['gost-ts'], values.gost);
  let verdict: Row['verdict'] = null;
  if (oursOverGost !== null && oursOverGost > 0) {
    const ahead = m.better === 'higher' ? oursOverGost : 1 / oursOverGost;
    verdict = ahead > 1 + TIE ? 'win' : ahead < 1 - TIE ? 'lose' : '≈';
  }
  return {
    metric: label,
    unit: m.unit,
    better: m.better,
    values,
    withErrors,
    oursOverGost,
    oursOverGo: ratio(values['gost-ts'], values['go-pair']),
    oursOverDirect: ratio(values['gost-ts'], values.direct),
    verdict,
  };
}

/** 3 significant digits, whole numbers from 1000 up. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return Math.round(v).toString();
  return Number(v.toPrecision(3)).toString();
}

/** The table as fixed-width text. */
export function renderTable(rows: readonly Row[]): string {
  const head = [
    'metric',
    'unit',
    'better',
    ...SETUP_NAMES.map((s) => SETUP_LABELS[s]),
    'ours/gost',
    'ours/go',
    'ours/direct',
    'vs gost',
  ];
  const body = rows.map((r) => [
    r.metric,
    r.unit,
    r.better === 'higher' ? '↑ higher' : '↓ lower',
    ...SETUP_NAMES.map((s) => {
      const v = r.values[s];
      const cell = v === null ? '—' : formatNumber(v);
      return r.withErrors.includes(s) ? `${cell}*` : cell;
    }),
    r.oursOverGost === null ? '—' : `${r.oursOverGost.toFixed(2)}x`,
    r.oursOverGo === null ? '—' : `${r.oursOverGo.toFixed(2)}x`,
    r.oursOverDirect === null ? '—' : `${r.oursOverDirect.toFixed(2)}x`,
    r.verdict ?? '—',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        // Text columns left-aligned, figures right-aligned.
        return i < 3 ? c.padEnd(w) : c.padStart(w);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(head), rule, ...body.map(line)].join('\n');
}

/** The legend printed under the table. */
export const LEGEND = [
  'ours = the gost-ts pair; ratio = ours ÷ other. ↑ rows: ratio > 1 means ours is ahead;',
  '↓ rows: ratio < 1 means ours is ahead. gost = the real GOST v3 pair (the reference);',
  'go = GOST\'s libraries in go-peer (a second reference). "vs gost": win/lose beyond ±5 %, else ≈.',
  'CPU = user+system seconds of both tunnel processes per GiB moved (direct: no tunnel).',
  '* = some connections of that run failed (see "errors" in the JSON). — = not run or n/a.',
  'With --repeat N, every figure is the median of the N rounds (each round in the JSON).',
].join('\n');
