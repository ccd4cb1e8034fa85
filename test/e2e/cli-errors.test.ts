import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

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
