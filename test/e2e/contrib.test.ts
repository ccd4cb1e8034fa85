/**
 * contrib/: the systemd unit is one systemd accepts, restarts on failure, is hardened and reads its
 * config from /etc; the example config loads; the README points at every file. (The nginx site is
 * run by test/e2e/nginx.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runCli } from '../helpers/cli.js';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const unitPath = resolve(repoRoot, 'contrib', 'systemd', 'gost-ts.service');

test('the systemd unit: accepted by systemd-analyze, Restart=, hardening, config in /etc', async () => {
  const unit = readFileSync(unitPath, 'utf8');
  const settings = new Map(
    unit
      .split('\n')
      .filter((l) => /^\w+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  assert.equal(settings.get('Restart'), 'on-failure');
  assert.match(settings.get('ExecStart') ?? '', /gost-ts -C \/etc\/gost-ts\/gost-ts\.yaml$/);
  for (const [key, value] of [
    ['DynamicUser', 'yes'],
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['CapabilityBoundingSet', 'CAP_NET_BIND_SERVICE'],
  ] as const)
    assert.equal(settings.get(key), value, `${key}=`);
  // systemd's own parser: every key known, in the right section (the binary itself is not installed here).
  const verify = await run('systemd-analyze', ['verify', unitPath], { timeout: 30_000 }).then(
    (r) => r.stdout + r.stderr,
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
  );
  const complaints = verify.split('\n').filter((l) => l.trim() !== '' && !/is not executable/.test(l));
  assert.deepEqual(complaints, [], 'systemd-analyze verify');
});

test('the example config in contrib/systemd loads', async () => {
  const r = await runCli(['-C', resolve(repoRoot, 'contrib', 'systemd', 'gost-ts.yaml'), '-O', 'yaml']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /type: mws/);
});

test('the README points at every contrib file', () => {
  const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');
  for (const f of [
    'contrib/nginx/gost-ts.conf',
    'contrib/caddy/Caddyfile',
    'contrib/systemd/gost-ts.service',
    'contrib/systemd/gost-ts.yaml',
  ])
    assert.ok(readme.includes(`](${f})`), `README has no link to ${f}`);
});
