import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfigText, toYaml } from '../../src/config/load.js';
import { buildConfigFromArgs, parseArgs } from '../../src/cli/args.js';
import { parseWorkers, resolveWorkers } from '../../src/config/workers.js';
import { ConfigError } from '../../src/core/errors.js';

test('workers: a count from 1 up, or auto = one per core; absent = 1', () => {
  assert.equal(parseWorkers(2, 'workers'), 2);
  assert.equal(parseWorkers('3', '-workers'), 3);
  assert.equal(parseWorkers('AUTO', '-workers'), 'auto');
  assert.equal(resolveWorkers('auto', 6), 6);
  assert.equal(resolveWorkers(4, 6), 4);
  assert.equal(resolveWorkers(undefined, 6), 1);
  for (const bad of [0, -1, 1.5, '2x', '', 'many', 10_000, true]) {
    assert.throws(
      () => parseWorkers(bad, 'workers'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /^workers: expected a number of worker processes from 1 to 256 or "auto"/);
        return true;
      },
    );
  }
});

test('workers in a config file, on the command line (which wins), and in -O output', async () => {
  const fromFile = parseConfigText('workers: auto\nservices: []\n', 'yaml');
  assert.equal(fromFile.workers, 'auto');
  assert.match(toYaml(fromFile), /^workers: auto$/m);
  const merged = await buildConfigFromArgs(
    parseArgs(['-C', '{"workers": 4}', '-L', 'http://127.0.0.1:0', '-workers', '2']),
  );
  assert.equal(merged.workers, 2);
  assert.throws(() => parseConfigText('workers: 0\n', 'yaml'), /workers: expected a number/);
  assert.throws(() => parseArgs(['-workers', 'lots']), /-workers: expected a number/);
});
