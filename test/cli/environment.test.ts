import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENVIRONMENT, readEnvironment } from '../../src/cli/environment.js';
import { helpText } from '../../src/cli/help.js';

const MiB = 1024 * 1024;

test('environment: unset or empty gives every default', () => {
  const unset = readEnvironment({});
  assert.deepEqual(readEnvironment({ GOST_TS_STOP_GRACE: '', GOST_TS_MALLOC_TRIM: '' }), unset);
  assert.deepEqual(unset, {
    stopGraceMs: 10_000,
    gcHeadroom: 64 * MiB,
    youngGeneration: 4 * MiB,
    mallocTrim: true,
    maxUdpAssociations: 4096,
  });
});

test('environment: values as a user writes them', () => {
  const e = readEnvironment({
    GOST_TS_STOP_GRACE: '1m30s',
    GOST_TS_GC_HEADROOM: '0',
    GOST_TS_YOUNG_GENERATION: '16',
    GOST_TS_MALLOC_TRIM: '0',
    GOST_TS_MAX_UDP_ASSOCIATIONS: '100',
  });
  assert.deepEqual(e, {
    stopGraceMs: 90_000,
    gcHeadroom: 0,
    youngGeneration: 16 * MiB,
    mallocTrim: false,
    maxUdpAssociations: 100,
  });
});

test('environment: a bad value throws naming the variable, what it expects and what it got', () => {
  const cases: [string, string, RegExp][] = [
    ['GOST_TS_STOP_GRACE', 'soon', /^GOST_TS_STOP_GRACE: not a duration: "soon"$/],
    ['GOST_TS_GC_HEADROOM', '-1', /^GOST_TS_GC_HEADROOM: not a whole number of MiB from 0 to 1048576: "-1"$/],
    [
      'GOST_TS_YOUNG_GENERATION',
      '2048',
      /^GOST_TS_YOUNG_GENERATION: not a whole number of MiB from 0 to 1024/,
    ],
    ['GOST_TS_MALLOC_TRIM', 'true', /^GOST_TS_MALLOC_TRIM: not 0 or 1: "true"$/],
    ['GOST_TS_MAX_UDP_ASSOCIATIONS', '1e3', /^GOST_TS_MAX_UDP_ASSOCIATIONS: not a whole number: "1e3"$/],
  ];
  for (const [name, value, message] of cases)
    assert.throws(() => readEnvironment({ [name]: value }), { message }, `${name}=${value}`);
});

test('--help lists every variable with its default, from the same table', () => {
  const help = helpText();
  for (const e of Object.values(ENVIRONMENT)) {
    assert.ok(help.includes(`  ${e.name}  (default ${e.def})\n      ${e.meaning}`), `--help lists ${e.name}`);
  }
});
