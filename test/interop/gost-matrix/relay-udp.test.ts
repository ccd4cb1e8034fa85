/**
 * UDP over the relay protocol against the real GOST (v3.2.6), both roles: `udp://` port forwarding
 * with `-F relay+mws://` (CONNECT with the UDP flag and the udp network feature, datagrams framed
 * `LEN(2, BE) data`), and the bytes each side puts on the stream beside GOST's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { startCli, freePort } from '../../helpers/cli.js';
import { startGost } from '../../helpers/gost.js';
import { MODERATE_PACE, exchange, freeUdpPort, udpEcho, waitForEcho } from '../../helpers/udp.js';
import { captureServer, readUpTo } from '../../helpers/net.js';
import { addrFeature, encodeRelayRequest, networkFeature } from '../../../src/proto/relay/codec.js';
import { CMD_BIND, CMD_CONNECT } from '../../../src/proto/relay/constants.js';

/** The first `n` bytes `s` sends, as hex (fewer if it closes first; bounded: 10 s). */
const readHex = async (s: net.Socket, n: number, what: string): Promise<string> =>
  (await readUpTo(s, n, what)).hex;

test('relay UDP CONNECT on the wire: gost-ts client and server send the real gost bytes', async (t) => {
  // Client side: what each client writes for its first datagram (request, then LEN data).
  const target = 'abcd';
  const seen: string[] = [];
  for (const start of [startGost, startCli] as const) {
    const cap = await captureServer();
    const up = await freeUdpPort();
    const client = await start([
      '-L',
      `udp://127.0.0.1:${up}/127.0.0.1:53?keepalive=true&ttl=30s`,
      '-F',
      `relay://u:p@127.0.0.1:${cap.port}`,
    ]);
    t.after(async () => (await client.stop(), cap.close()));
    const dgram = await import('node:dgram');
    const sock = dgram.createSocket('udp4');
    t.after(() => sock.close());
    sock.send(target, up, '127.0.0.1');
    const conn = await cap.first('relay client');
    // 4 head + network (3+2) + user auth (3+4) + addr (3+7) bytes, then 2 + 4.
    seen.push(
      await readHex(conn, 4 + 5 + 7 + 10 + 6, start === startGost ? 'gost client' : 'gost-ts client'),
    );
    conn.destroy();
  }
  assert.equal(seen[1], seen[0], `gost ${seen[0]}, gost-ts ${seen[1]}`);
  // 01 81 (CONNECT|UDP), FEALEN 22, network udp, user auth u/p, addr 127.0.0.1:53, LEN 4 "abcd".
  assert.equal(
    seen[0],
    '01810016' +
      '0400020001' +
      '01000401750170' +
      '02000701' +
      '7f0000010035' +
      '0004' +
      Buffer.from(target).toString('hex'),
  );

  // Server side: the answer to a UDP CONNECT and its first datagram, from each server.
  const echo = await udpEcho();
  t.after(() => echo.close());
  const answers: string[] = [];
  for (const start of [startGost, startCli] as const) {
    const port = await freePort();
    const server = await start(['-L', `relay://127.0.0.1:${port}`]);
    t.after(() => server.stop());
    const s = net.connect(port, '127.0.0.1');
    t.after(() => s.destroy());
    await once(s, 'connect');
    s.write(
      encodeRelayRequest({
        cmd: CMD_CONNECT,
        udp: true,
        features: [networkFeature('udp'), addrFeature('127.0.0.1', echo.port)],
      }),
    );
    s.write(Buffer.from('0005', 'hex'));
    s.write('hello');
    answers.push(await readHex(s, 4 + 2 + 5, start === startGost ? 'gost server' : 'gost-ts server'));
  }
  assert.equal(answers[1], answers[0], `gost ${answers[0]}, gost-ts ${answers[1]}`);
  assert.equal(answers[0], '01000000' + '0005' + Buffer.from('hello').toString('hex'));
});

test('relay UDP BIND while bind is off: gost-ts refuses with the real gost bytes (01 03)', async (t) => {
  const answers: string[] = [];
  for (const start of [startGost, startCli] as const) {
    const port = await freePort();
    const server = await start(['-L', `relay://127.0.0.1:${port}`]);
    t.after(() => server.stop());
    const s = net.connect(port, '127.0.0.1');
    t.after(() => s.destroy());
    await once(s, 'connect');
    s.write(
      encodeRelayRequest({
        cmd: CMD_BIND,
        udp: true,
        features: [networkFeature('udp'), addrFeature('0.0.0.0', 0)],
      }),
    );
    answers.push(await readHex(s, 4, start === startGost ? 'gost server' : 'gost-ts server'));
  }
  assert.equal(answers[1], answers[0], `gost ${answers[0]}, gost-ts ${answers[1]}`);
  assert.equal(answers[0], '01030000');
});

test('relay UDP CONNECT: only the target answers (a stray source is dropped), as gost', async (t) => {
  const dgram = await import('node:dgram');
  // The target first has a second socket send a stray datagram to the relay's UDP socket, then echoes.
  const target = dgram.createSocket('udp4');
  const stray = dgram.createSocket('udp4');
  target.bind(0, '127.0.0.1');
  stray.bind(0, '127.0.0.1');
  await Promise.all([once(target, 'listening'), once(stray, 'listening')]);
  t.after(() => (target.close(), stray.close()));
  target.on('message', (msg, r) => {
    stray.send('stray', r.port, r.address, () => target.send(msg, r.port, r.address));
  });
  const answers: string[] = [];
  for (const start of [startGost, startCli] as const) {
    const port = await freePort();
    const server = await start(['-L', `relay://127.0.0.1:${port}`]);
    t.after(() => server.stop());
    const s = net.connect(port, '127.0.0.1');
    t.after(() => s.destroy());
    await once(s, 'connect');
    s.write(
      encodeRelayRequest({
        cmd: CMD_CONNECT,
        udp: true,
        features: [networkFeature('udp'), addrFeature('127.0.0.1', target.address().port)],
      }),
    );
    s.write(Buffer.from('000568656c6c6f', 'hex'));
    answers.push(await readHex(s, 4 + 2 + 5, start === startGost ? 'gost server' : 'gost-ts server'));
  }
  assert.deepEqual(answers, Array(2).fill('01000000' + '0005' + Buffer.from('hello').toString('hex')));
});

test('gost-ts udp:// client → real gost relay+mws server: 500 paced datagrams, none lost', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startGost(['-L', `relay+mws://127.0.0.1:${sp}`]);
  const up = await freeUdpPort();
  const client = await startCli([
    '-L',
    `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}?keepalive=true&ttl=30s`,
    '-F',
    `relay+mws://127.0.0.1:${sp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  // Open the mws session and the relay stream first, so the measured run is about the relay.
  await waitForEcho(up);
  const r = await exchange(up, 500, MODERATE_PACE);
  assert.deepEqual(r, { sent: 500, echoed: 500 });
  // GOST's relay handler served it as UDP: its log says so when the stream ends.
  await client.stop();
  await server.waitForLine(/"network":"udp"/);
});

test('real gost udp:// client → gost-ts relay+mws server: 500 paced datagrams, none lost', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startCli(['-L', `relay+mws://127.0.0.1:${sp}`, '-D']);
  const up = await freeUdpPort();
  const client = await startGost([
    '-L',
    `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}?keepalive=true&ttl=30s`,
    '-F',
    `relay+mws://127.0.0.1:${sp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  await waitForEcho(up);
  const r = await exchange(up, 500, MODERATE_PACE);
  assert.deepEqual(r, { sent: 500, echoed: 500 }, client.lines.filter((l) => /discard/.test(l)).join('\n'));
  await server.waitForLine(/relay: UDP established/);
});

test('nodelay=true on both ends: gost-ts client waits for the real gost response, then relays', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startGost(['-L', `relay+mws://127.0.0.1:${sp}?nodelay=true`]);
  const up = await freeUdpPort();
  const client = await startCli([
    '-L',
    `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}?keepalive=true&ttl=30s`,
    '-F',
    `relay+mws://127.0.0.1:${sp}?nodelay=true`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  await waitForEcho(up);
  assert.deepEqual(await exchange(up, 100, MODERATE_PACE), { sent: 100, echoed: 100 });
});

test('README "### UDP": the relay form of udp:// forwarding runs as written (against a real gost relay+mws)', async (t) => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### UDP'));
  const body = section.slice(0, section.indexOf('\n## ', 5));
  const lines = [...body.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => (m[1] as string).split('\n'))
    .filter((l) => l.startsWith('gost-ts -L udp://') && l.includes('relay+mws://'));
  assert.equal(lines.length, 1, 'the section shows one relay UDP command');
  const echo = await udpEcho();
  const sp = await freePort();
  const up = await freeUdpPort();
  const server = await startGost(['-L', `relay+mws://127.0.0.1:${sp}`]);
  const args = (lines[0] as string)
    .replace(/\s+#.*$/, '')
    .replace(/^gost-ts\s+/, '')
    .split(/\s+/)
    .map((a) =>
      a
        .replace('server:8443', `127.0.0.1:${sp}`)
        .replace('udp://:5353/127.0.0.1:53', `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}`),
    );
  const client = await startCli(args);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  // As written (no keepalive): one query, one answer, a session each.
  for (let i = 0; i < 3; i++)
    assert.deepEqual(await exchange(up, 1, { waitMs: 5000 }), { sent: 1, echoed: 1 });
});
