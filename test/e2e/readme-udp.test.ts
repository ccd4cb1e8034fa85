/**
 * The README's "Reverse tunnels and UDP" / "UDP" commands and config, run as written (addresses moved to
 * loopback ports, targets to a UDP echo server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli, freePort } from '../helpers/cli.js';
import {
  MODERATE_PACE,
  exchange,
  freeUdpPort,
  socks5Associate,
  socks5UdpHeader,
  stripSocks5UdpHeader,
  udpEcho,
  waitForEcho,
} from '../helpers/udp.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = readme.slice(readme.indexOf('### UDP'));
const body = section.slice(0, section.indexOf('\n## ', 5));

/** The fenced blocks of the section with the given info string. */
function blocks(lang: string): string[] {
  return [...body.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1] as string);
}

/** `gost-ts a "b c"` → ['a', 'b c'] (the quoting the README uses), comment dropped. */
function argv(line: string): string[] {
  const cmd = line.replace(/\s+#.*$/, '').replace(/^gost-ts\s+/, '');
  return [...cmd.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? (m[2] as string));
}

test('README: the UDP commands run as shown (server, udp://, rudp://, SOCKS5 UDP ASSOCIATE)', async (t) => {
  const lines = (blocks('sh')[0] ?? '').split('\n').filter((l) => l.startsWith('gost-ts '));
  assert.equal(lines.length, 4, 'the section shows four commands');
  const echo = await udpEcho();
  t.after(() => echo.close());
  const sp = await freePort();
  const up = await freeUdpPort();
  const rp = await freeUdpPort();
  const cp = await freePort();
  const local = (a: string): string =>
    a
      .replace('server:8443', `127.0.0.1:${sp}`)
      .replace('://:8443', `://127.0.0.1:${sp}`)
      .replace('udp://:5353/1.1.1.1:53', `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}`)
      .replace('rudp://:5353/127.0.0.1:53', `rudp://127.0.0.1:${rp}/127.0.0.1:${echo.port}`)
      .replace('://:1080', `://127.0.0.1:${cp}`);
  const procs = [];
  for (const line of lines) {
    const p = await startCli(argv(line).map(local));
    procs.push(p);
    t.after(() => p.stop());
  }
  // udp:// without keepalive: one query, one answer (a session each).
  for (let i = 0; i < 3; i++)
    assert.deepEqual(await exchange(up, 1, { waitMs: 5000 }), { sent: 1, echoed: 1 });
  // rudp://: the server's port reaches the echo target behind the client.
  await waitForEcho(rp);
  assert.deepEqual(await exchange(rp, 100, MODERATE_PACE), { sent: 100, echoed: 100 });
  // SOCKS5 UDP ASSOCIATE at :1080.
  const { relayPort, control } = await socks5Associate(cp);
  t.after(() => control.destroy());
  const r = await exchange(relayPort, 100, {
    batch: 10,
    intervalMs: 5,
    wrap: socks5UdpHeader(echo.port),
    unwrap: stripSocks5UdpHeader,
  });
  assert.deepEqual(r, { sent: 100, echoed: 100 });
});

test('README: the UDP config file runs as shown', async (t) => {
  const yaml = blocks('yaml').at(-1) ?? '';
  assert.match(yaml, /type: rudp/);
  const echo = await udpEcho();
  t.after(() => echo.close());
  const sp = await freePort();
  const up = await freeUdpPort();
  const rp = await freeUdpPort();
  const dir = mkdtempSync(join(tmpdir(), 'gost-ts-udp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'udp.yaml');
  writeFileSync(
    file,
    yaml
      .replace("':5353'", `'127.0.0.1:${up}'`)
      .replace("':5354'", `'127.0.0.1:${rp}'`)
      .replace("'1.1.1.1:53'", `'127.0.0.1:${echo.port}'`)
      .replace("'127.0.0.1:53'", `'127.0.0.1:${echo.port}'`)
      .replace("'server:8443'", `'127.0.0.1:${sp}'`),
  );
  const server = await startCli(['-L', `socks5+mws://127.0.0.1:${sp}?udp=true&bind=true`]);
  t.after(() => server.stop());
  const client = await startCli(['-C', file]);
  t.after(() => client.stop());
  await waitForEcho(up);
  assert.deepEqual(await exchange(up, 100, MODERATE_PACE), { sent: 100, echoed: 100 });
  await waitForEcho(rp);
  assert.deepEqual(await exchange(rp, 100, MODERATE_PACE), { sent: 100, echoed: 100 });
});
