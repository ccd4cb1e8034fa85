import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { runLoad } from '../../bench/load-tool.js';
import { SETUP_NAMES, SIDES, startSetup, startTarget } from '../../bench/setups.js';
import type { SetupName } from '../../bench/setups.js';
import { scenarios } from '../../bench/scenarios.js';
import { ensureGost } from '../helpers/gost.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function programs(): { goPeer: string; gost: string; gostTs: string } {
  const build = spawnSync('bash', [join(ROOT, 'test/interop/go-peer/build.sh')], { encoding: 'utf8' });
  assert.equal(build.status, 0, `go-peer build failed: ${build.stderr}`);
  const gostTs = join(ROOT, 'dist/cli/main.js');
  assert.ok(existsSync(gostTs), `${gostTs} is missing: run npm run build`);
  return { goPeer: join(ROOT, '.cache/go-peer/go-peer'), gost: ensureGost(), gostTs };
}

test('every tunnel setup names its two ends; the real GOST pair and both mixed pairs are among them', () => {
  for (const name of SETUP_NAMES) {
    if (name === 'direct') continue;
    assert.ok(SIDES[name] !== undefined, `${name} has no ends`);
  }
  assert.deepEqual(SIDES.gost, { client: 'gost', server: 'gost' });
  assert.deepEqual(SIDES['ts-to-gost'], { client: 'ts', server: 'gost' });
  assert.deepEqual(SIDES['gost-to-ts'], { client: 'gost', server: 'ts' });
});

test('the cold rate runs first and without the untimed warm-up; the warm rate keeps it', () => {
  const all = scenarios(false);
  assert.equal(all[0]?.name, 'rate-cold');
  const arg = (name: string, flag: string): string | undefined => {
    const args = all.find((s) => s.name === name)?.args ?? [];
    const i = args.indexOf(flag);
    return i < 0 ? undefined : args[i + 1];
  };
  assert.equal(arg('rate-cold', '-rate-warmup'), '0');
  assert.equal(arg('rate-cold', '-count'), '2000');
  assert.equal(arg('rate', '-rate-warmup'), undefined, 'the warm rate uses the tool default (2 s)');
});

// Real processes: the load tool makes short CONNECT + echo connections through each new setup.
for (const name of ['gost', 'ts-to-gost', 'gost-to-ts'] as const satisfies readonly SetupName[]) {
  test(`bench setup ${name}: carries short connections, and stop() ends its processes`, async () => {
    const progs = programs();
    const target = await startTarget(progs);
    const setup = await startSetup(name, progs, 1);
    try {
      assert.ok(setup.proxy !== undefined);
      const r = await runLoad(
        progs.goPeer,
        ['-proxy', setup.proxy, '-target', target.addr, '-mode', 'rate', '-rate-warmup', '0', '-count', '20'],
        30_000,
      );
      assert.equal(r.errors, 0, `load errors: ${r.firstError ?? ''}`);
      assert.equal(r.ops, 20);
    } finally {
      await setup.stop();
      await target.child.stop();
    }
    assert.equal(setup.client?.hasExited, true, 'client process still running');
    assert.equal(setup.server?.hasExited, true, 'server process still running');
  });
}
