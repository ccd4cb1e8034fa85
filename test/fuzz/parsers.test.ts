import { describe, it } from 'node:test';
import { FUZZ_TARGETS, fuzzAll } from './targets.js';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { parseConfigText } from '../../src/config/load.js';

// The suite runs a short version; `npm run fuzz` runs 100,000 inputs per parser.
describe('fuzz: every parser rejects bad input with a clear error and never crashes', () => {
  it('covers each parser', () => {
    assert.ok(FUZZ_TARGETS.length >= 13);
  });
  it('2,000 generated inputs per parser (valid, cut, mutated, garbage)', (t) => {
    fuzzAll(2000, undefined, (line) => t.diagnostic(line));
  });
});

describe('inputs the fuzzer found', () => {
  it('a YAML alias before its anchor is a clear config error, not a ReferenceError', () => {
    assert.throws(
      () => parseConfigText('*!', 'yaml'),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, `got ${String(err)}`);
        assert.match(err.message, /invalid YAML: Unresolved alias/);
        return true;
      },
    );
  });
});
