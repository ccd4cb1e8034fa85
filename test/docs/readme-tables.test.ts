// The README's tables are generated (`npm run docs`) from the sources the code runs on: the option
// table (src/config/keys.ts), the registries, the selector's strategies and ERROR_CODES. This fails
// when someone edits one side only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { README, renderReadme, sections } from '../../scripts/docs.js';
import { ERROR_CODES } from '../../src/core/errors.js';
import { allOptions } from '../../src/config/keys.js';

test('README tables are what npm run docs generates', async () => {
  const readme = await readFile(README, 'utf8');
  assert.equal(await renderReadme(readme), readme, 'README.md is out of date: run npm run docs');
});

test('the generated tables hold every error code and every option key', () => {
  const s = sections();
  for (const code of Object.keys(ERROR_CODES)) assert.ok(s['errors']?.includes(`\`${code}\``), code);
  const all = Object.values(s).join('\n');
  for (const [id, o] of allOptions()) {
    for (const key of o.keys) assert.ok(all.includes(`\`${key}\``), `${id}: ${key}`);
  }
});

test('a README without a marked section is refused, not silently left stale', async () => {
  await assert.rejects(renderReadme('# nothing here\n'), /no "<!-- generated:flags -->" section/);
});
