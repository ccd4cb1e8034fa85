import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cliPath, runCli, startCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/net.js';

/** Runs gost-ts expecting failure: exit code 1 and exactly one stderr line matching `re`. */
async function expectOneLineError(args: string[], re: RegExp, env?: NodeJS.ProcessEnv): Promise<void> {
  const r = await runCli(args, undefined, env);
  assert.equal(r.code, 1, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', /^gost-ts: /);
  assert.match(lines[0] ?? '', re);
}

const dir = mkdtempSync(join(tmpdir(), 'gost-ts-cli-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('a bad URL exits 1 naming it', () => expectOneLineError(['-L', 'http+mws://:99999?path=/ws'], /99999/));

test('an unknown option exits 1 naming the key', () =>
  expectOneLineError(['-L', 'http+mws://127.0.0.1:0?pth=/ws'], /pth.*unknown option/));

test('an ill-typed option exits 1 naming the key and the expected type', () =>
  expectOneLineError(['-L', 'http+mws://127.0.0.1:0?mux.version=abc'], /mux\.version.*integer/));

test('an impossible smux setting exits 1 naming it', () =>
  expectOneLineError(
    ['-L', ':0', '-F', 'http+mws://127.0.0.1:1?mux.maxFrameSize=70000'],
    /mux\.maxFrameSize: 70000 is larger than 65535/,
  ));

test('an unknown plugin type in a config file exits 1 naming it', () =>
  expectOneLineError(
    [
      '-C',
      file(
        'bad-type.yaml',
        'services:\n- name: a\n  addr: 127.0.0.1:0\n  handler: {type: http}\n  listener: {type: nosuch}\n',
      ),
    ],
    /services\[0\]\.listener\.type.*nosuch/,
  ));

test('an unknown config key exits 1 naming its path', () =>
  expectOneLineError(
    ['-C', file('bad-key.yaml', 'services:\n- name: a\n  adr: 127.0.0.1:0\n')],
    /services\[0\]\.adr/,
  ));

test('a GOST_TS_GC_HEADROOM that is not a whole number of MiB exits 1 naming it', async () => {
  for (const value of ['64M', '-1', '1048577']) {
    await expectOneLineError(['-L', '127.0.0.1:0'], new RegExp(`GOST_TS_GC_HEADROOM.*"${value}"`), {
      ...process.env,
      GOST_TS_GC_HEADROOM: value,
    });
  }
});

test('a missing config file exits 1 naming it', () =>
  expectOneLineError(['-C', join(dir, 'missing.yaml')], /missing\.yaml/));

test('nothing to run exits 1 with a hint', () => expectOneLineError([], /nothing to run/));

test('a port already in use exits 1 naming the address', async (t) => {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
  const port = (s.address() as net.AddressInfo).port;
  await expectOneLineError(['-L', `http+mws://127.0.0.1:${port}?path=/ws`], /EADDRINUSE/);
});

test('--help lists every mws parameter of the spec', async () => {
  const r = await runCli(['--help']);
  assert.equal(r.code, 0);
  for (const key of [
    'host',
    'path',
    'header',
    'keepAlive',
    'handshakeTimeout',
    'readHeaderTimeout',
    'readBufferSize',
    'writeBufferSize',
    'enableCompression',
    'muxKeepAliveDisabled',
    'muxKeepAliveInterval',
    'muxKeepAliveTimeout',
    'muxMaxFrameSize',
    'muxMaxReceiveBuffer',
    'muxMaxStreamBuffer',
    'mux.version',
  ]) {
    assert.ok(r.stdout.includes(key), `--help mentions ${key}`);
  }
});

test('-V prints the version', async () => {
  const r = await runCli(['-V']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^gost-ts \d+\.\d+\.\d+/);
});

test('-O yaml prints the normalised config of the spec command', async () => {
  const r = await runCli(['-L', ':8080', '-F', 'http+mws://:8443?path=/ws', '-O', 'yaml']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /type: mws/);
  assert.match(r.stdout, /path: \/ws/);
});

test('-O refuses a config that would not build, with one line naming the problem', () =>
  expectOneLineError(
    ['-L', ':0', '-F', 'http+mws://127.0.0.1:1?mux.maxFrameSize=70000', '-O', 'yaml'],
    /mux\.maxFrameSize: 70000 is larger than 65535/,
  ));

test('-O names a GOST type gost-ts does not implement', () =>
  expectOneLineError(['-L', 'ss+mws://:0', '-O', 'yaml'], /handler type "ss" is GOST's but not implemented/));

test('a typo in a scheme falls back as GOST does, with a warning naming it (-O: on stderr)', async () => {
  const r = await runCli(['-L', 'http+mwz://127.0.0.1:0', '-O', 'yaml']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /listener:\n\s+type: tcp/);
  assert.match(r.stderr, /^gost-ts: warning: unknown listener type "mwz"; using "tcp" as GOST does/m);
});

test('a typo in a scheme is a warn log line when the service runs', async (t) => {
  const cli = await startCli(['-L', 'http+mwz://127.0.0.1:0']);
  t.after(() => cli.stop());
  const line = await cli.waitForLine(/unknown listener type/);
  const entry = JSON.parse(line) as { level: number; listener: string; msg: string };
  assert.equal(entry.level, 40);
  assert.equal(entry.listener, 'mwz');
});

test('-C sources are checked together: a service in one file uses a chain from another', async () => {
  const chains = file('chains.yaml', 'chains:\n- name: c1\n  hops:\n  - nodes:\n    - addr: 127.0.0.1:1\n');
  const services = file(
    'services.yaml',
    'services:\n- addr: 127.0.0.1:0\n  handler: {type: http, chain: c1}\n',
  );
  const r = await runCli([
    '-C',
    chains,
    '-C',
    services,
    '-L',
    '127.0.0.1:0',
    '-F',
    'http://127.0.0.1:2',
    '-O',
    'json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout) as { services: Array<{ name: string; handler: { chain: string } }> };
  assert.deepEqual(
    c.services.map((s) => [s.name, s.handler.chain]),
    [
      ['service-0', 'c1'],
      ['service-1', 'chain-0'],
    ],
  );
});

test('log.output writes the log to a file; log.format text is warned about there', async (t) => {
  const logFile = join(dir, 'gost.log');
  const cfg = file(
    'log.yaml',
    `services:\n- addr: 127.0.0.1:0\nlog: {level: info, format: text, output: ${JSON.stringify(logFile)}}\n`,
  );
  const proc = spawn(process.execPath, [cliPath, '-C', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  t.after(() => proc.kill('SIGKILL'));
  const read = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  await waitFor(() => read().includes('gost-ts started'), 15_000, `"gost-ts started" in ${logFile}`);
  assert.match(
    read(),
    /log\.format \\"text\\" is not supported; writing JSON lines|log.format "text" is not supported/,
  );
  assert.equal(stderr, '', 'nothing on stderr');
});
