import { describe, it } from 'node:test';
import { FUZZ_TARGETS, fuzzAll } from './targets.js';
import assert from 'node:assert/strict';

// The suite runs a short version; `npm run fuzz` runs 100,000 inputs per parser.
describe('fuzz: every parser rejects bad input with a clear error and never crashes', () => {
  it('covers each parser', () => {
    assert.ok(FUZZ_TARGETS.length >= 8);
  });
  it('2,000 generated inputs per parser (valid, cut, mutated, garbage)', (t) => {
    fuzzAll(2000, undefined, (line) => t.diagnostic(line));
  });
});
