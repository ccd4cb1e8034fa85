import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { runLoad } from '../../bench/load-tool.js';
import {
  RTCP_KINDS,
  RTCP_SETUPS,
  SETUP_NAMES,
  SIDES,
  startRtcpSetup,
  startSetup,
  startTarget,
} from '../../bench/setups.js';
import type { SetupName } from '../../bench/setups.js';
import { scenarios, selectScenarios } from '../../bench/scenarios.js';
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

test('every reverse tunnel gets bulk up, bulk down and a rate; --only picks tunnels and scenarios', () => {
  const all = scenarios(true);
  const names = (tokens: string[]): string[] => selectScenarios(all, tokens).map((s) => s.name);
  assert.deepEqual(names(['rtcp']), [
    'rtcp-socks5-up',
    'rtcp-socks5-down',
    'rtcp-socks5-rate',
    'rtcp-relay-up',
    'rtcp-relay-down',
    'rtcp-relay-rate',
  ]);
  assert.deepEqual(names(['rtcp-relay', 'rate']), ['rtcp-relay-rate']);
  assert.deepEqual(names(['forward', 'rate']), ['rate-cold', 'rate']);
  assert.equal(names([]).length, all.length);
  assert.throws(() => names(['rtcp-quic']), /unknown setup, scenario or tunnel "rtcp-quic"/);
  assert.ok(!(RTCP_SETUPS as readonly string[]).includes('go-pair'), 'go-peer has no bind');
});

// Real processes: the published port carries short echo connections and one bulk transfer each way
// to the target, for every pair and both protocols, as the benchmark drives them.
for (const kind of RTCP_KINDS) {
  for (const name of RTCP_SETUPS.filter((s) => s !== 'direct')) {
    test(`bench reverse setup ${name} over ${kind}: the published port reaches the target; stop() ends both ends`, async () => {
      const progs = programs();
      const target = await startTarget(progs);
      let setup: Awaited<ReturnType<typeof startRtcpSetup>> | undefined;
      try {
        setup = await startRtcpSetup(name, kind, progs, target.addr);
        assert.equal(setup.proxy, undefined);
        assert.ok(setup.entry !== undefined && setup.entry !== target.addr, 'no published port');
        const load = (args: string[]): ReturnType<typeof runLoad> =>
          runLoad(progs.goPeer, ['-target', setup?.entry ?? '', '-warmup', '1', ...args], 30_000);
        const rate = await load(['-mode', 'rate', '-rate-warmup', '0', '-count', '20']);
        assert.equal(rate.errors, 0, `rate errors: ${rate.firstError ?? ''}`);
        assert.equal(rate.ops, 20);
        for (const mode of ['bulk-up', 'bulk-down']) {
          const bulk = await load(['-mode', mode, '-size', String(1 << 20)]);
          assert.equal(bulk.errors, 0, `${mode} errors: ${bulk.firstError ?? ''}`);
          assert.equal(bulk.bytes, 1 << 20, `${mode}: bytes moved`);
        }
      } finally {
        await setup?.stop();
        await target.child.stop();
      }
      assert.equal(setup.client?.hasExited, true, 'rtcp client still running');
      assert.equal(setup.server?.hasExited, true, 'bind server still running');
    });
  }
}
