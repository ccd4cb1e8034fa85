import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRows, median } from '../../bench/report.js';
import { GiB, scenarios, type ScenarioResult } from '../../bench/scenarios.js';
import type { LoadResult } from '../../bench/load-tool.js';
import type { SetupName } from '../../bench/setups.js';

function load(over: Partial<LoadResult>): LoadResult {
  return {
    mode: 'bulk-up',
    proxy: '',
    seconds: 1,
    bytes: GiB,
    mbps: 0,
    ops: 1,
    opsPerSec: 0,
    p50Us: 0,
    p99Us: 0,
    maxUs: 0,
    besideBytes: 0,
    besideMbps: 0,
    errors: 0,
    loadCpuS: 0,
    ...over,
  };
}

function bulkUp(setup: SetupName, round: number, mbps: number, cpu: number): ScenarioResult {
  return {
    setup,
    scenario: 'bulk-up',
    mux: 1,
    round,
    load: load({ mbps }),
    cpuS: { client: cpu, server: 0 },
  };
}

test('median: odd and even counts, empty', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([]), undefined);
});

test('with several rounds each figure is the median, a failed round left out', () => {
  const only = scenarios(false).filter((s) => s.name === 'bulk-up');
  const results: ScenarioResult[] = [
    bulkUp('gost-ts', 1, 500, 2),
    bulkUp('gost-ts', 2, 900, 4),
    bulkUp('gost-ts', 3, 600, 3),
    bulkUp('go-pair', 1, 300, 5),
    { setup: 'go-pair', scenario: 'bulk-up', mux: 1, round: 2, error: 'crashed' },
    bulkUp('go-pair', 3, 400, 6),
  ];
  const rows = buildRows(only, results, [1]);
  const speed = rows.find((r) => r.unit === 'MB/s');
  assert.equal(speed?.values['gost-ts'], 600);
  assert.equal(speed?.values['go-pair'], 350, 'the failed round is not a value');
  assert.equal(speed?.oursOverGo, 600 / 350);
  const cpu = rows.find((r) => r.metric === 'all bulk: CPU');
  assert.equal(cpu?.values['gost-ts'], 3, 'per-round CPU per GiB, then the median');
  assert.equal(cpu?.values['go-pair'], 5.5);
});

test('a single round reads as before', () => {
  const only = scenarios(false).filter((s) => s.name === 'bulk-up');
  const rows = buildRows(only, [bulkUp('gost-ts', 1, 500, 2), bulkUp('go-pair', 1, 250, 4)], [1]);
  assert.equal(rows.find((r) => r.unit === 'MB/s')?.oursOverGo, 2);
  assert.equal(rows.find((r) => r.metric === 'all bulk: CPU')?.values['gost-ts'], 2);
});

test('ratios are taken against the real GOST pair first, the Go-library pair second', () => {
  const only = scenarios(false).filter((s) => s.name === 'bulk-up');
  const rows = buildRows(
    only,
    [bulkUp('gost-ts', 1, 600, 2), bulkUp('gost', 1, 400, 4), bulkUp('go-pair', 1, 300, 4)],
    [1],
  );
  const speed = rows.find((r) => r.unit === 'MB/s');
  assert.equal(speed?.oursOverGost, 1.5);
  assert.equal(speed?.oursOverGo, 2);
  assert.equal(speed?.verdict, 'win');
  const cpu = rows.find((r) => r.metric === 'all bulk: CPU');
  assert.equal(cpu?.oursOverGost, 0.5);
  assert.equal(cpu?.verdict, 'win', 'less CPU is better');
});

test('without a GOST figure there is no verdict, even with a Go-pair figure', () => {
  const only = scenarios(false).filter((s) => s.name === 'bulk-up');
  const rows = buildRows(only, [bulkUp('gost-ts', 1, 600, 2), bulkUp('go-pair', 1, 300, 4)], [1]);
  const speed = rows.find((r) => r.unit === 'MB/s');
  assert.equal(speed?.oursOverGost, null);
  assert.equal(speed?.verdict, null);
});
