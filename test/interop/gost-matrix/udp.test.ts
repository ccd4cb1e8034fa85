/**
 * UDP through a chain against the real GOST (v3.2.6), both roles: `udp://` port forwarding over
 * SOCKS5 UDP-TUN (0xF3) on mws, reverse UDP (`rudp://`, UDP-TUN bind), a plain SOCKS5 UDP client
 * (UDP ASSOCIATE) at the client's port, and the handler's replies byte for byte beside GOST's.
 * Datagrams are numbered and checked byte for byte when they come back from a UDP echo target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { startCli, freePort, runCli } from '../../helpers/cli.js';
import { runGost, startGost } from '../../helpers/gost.js';
import {
  MODERATE_PACE,
  associateExchange,
  exchange,
  freeUdpPort,
  udpEcho,
  waitForEcho,
} from '../../helpers/udp.js';

/** Greets a SOCKS5 server with no auth, sends `request` (hex) and returns the reply bytes. */
async function probe(port: number, request: string): Promise<Buffer> {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  let buf = Buffer.alloc(0);
  const need = async (n: number): Promise<Buffer> => {
    while (buf.length < n) {
      const [chunk] = (await Promise.race([
        once(s, 'data'),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`reply to ${request}: ${buf.toString('hex')} so far`)), 10_000),
        ),
      ])) as [Buffer];
      buf = Buffer.concat([buf, chunk]);
    }
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  s.write(Buffer.from('050100', 'hex'));
  assert.equal((await need(2)).toString('hex'), '0500');
  s.write(Buffer.from(request, 'hex'));
  const head = await need(4);
  const rest = await need(head[3] === 4 ? 18 : 6);
  s.destroy();
  return Buffer.concat([head, rest]);
}

test('UDP-TUN and UDP ASSOCIATE replies: gost-ts answers with the real gost bytes', async (t) => {
  for (const query of ['', '?udp=true', '?bind=true']) {
    const gp = await freePort();
    const tp = await freePort();
    const gost = await startGost(['-L', `socks5://127.0.0.1:${gp}${query}`]);
    const ts = await startCli(['-L', `socks5://127.0.0.1:${tp}${query}`]);
    t.after(async () => (await gost.stop(), await ts.stop()));
    const bindG = await freeUdpPort();
    const bindT = await freeUdpPort();
    const port = (p: number): string => p.toString(16).padStart(4, '0');
    const cases: Array<[string, string, string]> = [
      ['UDP-TUN relay', '05f30001000000000000', '05f30001000000000000'],
      ['UDP-TUN bind', `05f3000100000000${port(bindG)}`, `05f3000100000000${port(bindT)}`],
      ['UDP ASSOCIATE', '05030001000000000000', '05030001000000000000'],
    ];
    for (const [what, reqG, reqT] of cases) {
      const g = await probe(gp, reqG);
      const s = await probe(tp, reqT);
      // Everything but the bound port (GOST's and ours are different sockets) must be equal.
      assert.equal(
        s.length,
        g.length,
        `${what} ${query}: gost ${g.toString('hex')}, gost-ts ${s.toString('hex')}`,
      );
      assert.equal(
        s.subarray(0, -2).toString('hex'),
        g.subarray(0, -2).toString('hex'),
        `${what} ${query}: gost ${g.toString('hex')}, gost-ts ${s.toString('hex')}`,
      );
      if (what === 'UDP-TUN bind' && g[1] === 0) {
        assert.equal(g.readUInt16BE(g.length - 2), bindG);
        assert.equal(s.readUInt16BE(s.length - 2), bindT);
      }
    }
  }
});

test('gost-ts udp:// client → real gost socks5+mws server: 2,000 paced datagrams, none lost', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startGost(['-L', `socks5+mws://127.0.0.1:${sp}?udp=true`]);
  const up = await freeUdpPort();
  const client = await startCli([
    '-L',
    `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}?keepalive=true&ttl=30s`,
    '-F',
    `socks5+mws://127.0.0.1:${sp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  // A new session queues 128 datagrams (readQueueSize) while its tunnel opens: open the mws
  // session first so that the measured run is about the relay, not the first dial.
  await waitForEcho(up);
  const r = await exchange(up, 2000, MODERATE_PACE);
  assert.deepEqual(r, { sent: 2000, echoed: 2000 });
  // GOST's socks5 handler served it over UDP: its log says so when the session's stream ends.
  await client.stop();
  await server.waitForLine(/"msg":"[^"]* >< [^"]*".*"network":"udp"/);
});

test('real gost udp:// client → gost-ts socks5+mws server: 2,000 paced datagrams, none lost', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startCli(['-L', `socks5+mws://127.0.0.1:${sp}?udp=true`, '-D']);
  const up = await freeUdpPort();
  const client = await startGost([
    '-L',
    `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}?keepalive=true&ttl=30s`,
    '-F',
    `socks5+mws://127.0.0.1:${sp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  // GOST's udp listener queues 128 datagrams per new session while it dials and discards the rest
  // ("recv queue is full"): open the mws session first so that the measured run is not about that.
  await waitForEcho(up);
  const r = await exchange(up, 2000, MODERATE_PACE);
  assert.deepEqual(r, { sent: 2000, echoed: 2000 }, client.lines.filter((l) => /discard/.test(l)).join('\n'));
  await server.waitForLine(/socks5: UDP-TUN established.*"mode":"relay"|"mode":"relay".*UDP-TUN established/);
});

test('gost-ts udp:// without keepalive: one session per answer, as GOST', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startGost(['-L', `socks5+mws://127.0.0.1:${sp}?udp=true`]);
  const up = await freeUdpPort();
  const client = await startCli([
    '-L',
    `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}`,
    '-F',
    `socks5+mws://127.0.0.1:${sp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  // One at a time from one socket (a DNS client's pattern): each answer ends its session, so the
  // next query from the same peer opens a new one.
  const sock = dgram.createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  t.after(() => sock.close());
  for (let i = 0; i < 5; i++)
    assert.deepEqual(await exchange(up, 1, { waitMs: 5000, socket: sock }), { sent: 1, echoed: 1 });
  // Five UDP-TUN streams reached GOST and ended, one per answered query.
  const ended = /"msg":"[^"]* >< [^"]*".*"network":"udp"/;
  const deadline = Date.now() + 5000;
  while (server.count(ended) < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(server.count(ended), 5, server.lines.join('\n'));
});

test('rudp: gost-ts client → real gost server (bind=true): peers reach the target behind the client', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startGost(['-L', `socks5+mws://127.0.0.1:${sp}?bind=true`]);
  const rp = await freeUdpPort();
  const client = await startCli([
    '-L',
    `rudp://127.0.0.1:${rp}/127.0.0.1:${echo.port}`,
    '-F',
    `socks5+mws://127.0.0.1:${sp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  await client.waitForLine(/rudp: bound on the remote node/);
  await waitForEcho(rp);
  assert.deepEqual(await exchange(rp, 500, MODERATE_PACE), { sent: 500, echoed: 500 });
});

test('rudp: real gost client → gost-ts server (bind=true)', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startCli(['-L', `socks5+mws://127.0.0.1:${sp}?bind=true`]);
  const rp = await freeUdpPort();
  const client = await startGost([
    '-L',
    `rudp://127.0.0.1:${rp}/127.0.0.1:${echo.port}`,
    '-F',
    `socks5+mws://127.0.0.1:${sp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  await waitForEcho(rp);
  assert.deepEqual(await exchange(rp, 500, MODERATE_PACE), { sent: 500, echoed: 500 });
});

for (const serverKind of ['gost', 'gost-ts'] as const) {
  test(`a plain SOCKS5 UDP client at gost-ts socks5://?udp=true → ${serverKind} socks5+mws server`, async (t) => {
    const echo = await udpEcho();
    const sp = await freePort();
    const serverArgs = ['-L', `socks5+mws://127.0.0.1:${sp}?udp=true`];
    const server = serverKind === 'gost' ? await startGost(serverArgs) : await startCli(serverArgs);
    const cp = await freePort();
    const client = await startCli([
      '-L',
      `socks5://127.0.0.1:${cp}?udp=true`,
      '-F',
      `socks5+mws://127.0.0.1:${sp}`,
    ]);
    t.after(async () => (await client.stop(), await server.stop(), echo.close()));
    // `05 00 00 01 127.0.0.1 PORT`: the address the client reached us at, as GOST answers; every
    // answer names the echo target as its source.
    assert.deepEqual(await associateExchange(cp, echo.port, 500), {
      replyHead: '050000017f000001',
      wrongSource: 0,
      result: { sent: 500, echoed: 500 },
    });
  });
}

test('-O json: udp:// and rudp:// services have the shape the real gost prints', async () => {
  const args = [
    '-L',
    'udp://:5353/1.1.1.1:53?keepalive=true&ttl=30s',
    '-L',
    'rudp://:5354/127.0.0.1:53?readBufferSize=1500',
    '-F',
    'socks5+mws://server:8443',
    '-O',
    'json',
  ];
  const g = await runGost(args);
  const s = await runCli(args);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(s.code, 0, s.stderr);
  type Svc = { handler: unknown; listener: unknown; forwarder: unknown; addr: string };
  const pick = (out: string): Svc[] =>
    (JSON.parse(out) as { services: Svc[] }).services.map(({ addr, handler, listener, forwarder }) => ({
      addr,
      handler,
      listener,
      forwarder,
    }));
  assert.deepEqual(pick(s.stdout), pick(g.stdout));
  // The chain: rudp's on its listener, udp's on its handler.
  assert.match(s.stdout, /"type":\s*"rudp",\s*"chain":\s*"chain-0"/);
});

test('a udp:// or rudp:// service without a target is refused at start-up', async () => {
  for (const url of ['udp://:5353', 'rudp://:5353']) {
    const r = await runCli(['-L', url, '-F', 'socks5+mws://server:8443']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /needs a target/);
  }
});
