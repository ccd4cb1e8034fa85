/**
 * Relay BIND with the UDP flag (`01 82`) against the real GOST (v3.2.6), both roles: reverse UDP
 * (`rudp://` with `-F relay+mws://`) and GOST's target-less UDP association (a SOCKS5 front end with
 * `udp=true` whose chain ends in a relay node). The requests each client writes and the responses
 * each server gives are compared byte for byte with GOST's; datagrams are numbered and checked byte
 * for byte when they come back from a UDP echo target.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { startCli, freePort } from '../../helpers/cli.js';
import { startGost } from '../../helpers/gost.js';
import {
  MODERATE_PACE,
  associateExchange,
  exchange,
  freeUdpPort,
  udpEcho,
  waitForEcho,
} from '../../helpers/udp.js';
import { captureServer, readUpTo } from '../../helpers/net.js';
import { curl } from '../../helpers/curl.js';
import {
  addrFeature,
  encodeRelayRequest,
  networkFeature,
  userAuthFeature,
  type RelayFeature,
} from '../../../src/proto/relay/codec.js';
import { CMD_BIND } from '../../../src/proto/relay/constants.js';

type Start = typeof startGost | typeof startCli;
const both: ReadonlyArray<readonly [string, Start]> = [
  ['gost', startGost],
  ['gost-ts', startCli],
];

const hex16 = (n: number): string => n.toString(16).padStart(4, '0');

test('relay BIND|UDP requests on the wire: gost-ts clients send the real gost bytes (rudp and association)', async (t) => {
  const rudp: string[] = [];
  const assoc: string[] = [];
  for (const [name, start] of both) {
    // rudp: the client asks its relay node to receive UDP on 127.0.0.1:PORT.
    const cap = await captureServer();
    t.after(() => cap.close());
    const rp = await freeUdpPort();
    const client = await start([
      '-L',
      `rudp://127.0.0.1:${rp}/127.0.0.1:53`,
      '-F',
      `relay://u:p@127.0.0.1:${cap.port}`,
    ]);
    t.after(() => client.stop());
    const conn = await cap.first(`${name} rudp`);
    // 4 head + user auth (3+4) + network (3+2) + addr (3+7).
    // The bound ports differ (two free ports): compare with the port replaced.
    const req = (await readUpTo(conn, 4 + 7 + 5 + 10, `${name} rudp request`)).hex;
    rudp.push(req.slice(0, -4) + (req.slice(-4) === hex16(rp) ? 'PORT' : req.slice(-4)));
    conn.destroy();

    // The association: a SOCKS5 UDP ASSOCIATE at a front end whose chain ends in a relay node.
    const cap2 = await captureServer();
    t.after(() => cap2.close());
    const sp = await freePort();
    const front = await start([
      '-L',
      `socks5://127.0.0.1:${sp}?udp=true`,
      '-F',
      `relay://u:p@127.0.0.1:${cap2.port}`,
    ]);
    t.after(() => front.stop());
    const s = net.connect(sp, '127.0.0.1');
    t.after(() => s.destroy());
    await once(s, 'connect');
    s.write(Buffer.from('050100' + '05030001000000000000', 'hex'));
    const conn2 = await cap2.first(`${name} association`);
    // 4 head + user auth (3+4) + network (3+2) + addr (3+4: an empty domain, port 0).
    assoc.push((await readUpTo(conn2, 4 + 7 + 5 + 7, `${name} association request`)).hex);
    conn2.destroy();
  }
  assert.equal(rudp[1], rudp[0], `gost ${rudp[0]}, gost-ts ${rudp[1]}`);
  assert.equal(assoc[1], assoc[0], `gost ${assoc[0]}, gost-ts ${assoc[1]}`);
  // 01 82 (BIND|UDP), FEALEN, user auth u/p, network udp, address.
  assert.equal(rudp[0], '01820016' + '01000401750170' + '0400020001' + '020007017f000001PORT');
  assert.equal(assoc[0], '01820013' + '01000401750170' + '0400020001' + '02000403000000');
});

/** Sends a BIND|UDP request for `host:port` (with `u:pass` auth) and reads the answer. */
async function udpBind(
  port: number,
  host: string,
  bindPort: number,
  pass: string | undefined,
  what: string,
  n: number,
): Promise<{ hex: string; closed: boolean; s: net.Socket }> {
  const s = net.connect(port, '127.0.0.1');
  await once(s, 'connect');
  const features: RelayFeature[] = pass === undefined ? [] : [userAuthFeature('u', pass)];
  features.push(networkFeature('udp'), addrFeature(host, bindPort));
  s.write(encodeRelayRequest({ cmd: CMD_BIND, udp: true, features }));
  try {
    return { ...(await readUpTo(s, n, what)), s };
  } catch (err) {
    s.destroy();
    throw err;
  }
}

test('relay BIND|UDP responses: gost-ts answers as the real gost (OK, association, unauthorized); refusals', async (t) => {
  const answers: Record<string, Array<{ hex: string; closed: boolean; port: number }>> = {};
  const record = (k: string, v: { hex: string; closed: boolean; port: number }): void =>
    void (answers[k] ??= []).push(v);
  for (const [name, start] of both) {
    const port = await freePort();
    const server = await start(['-L', `relay://u:p@127.0.0.1:${port}?bind=true`]);
    t.after(() => server.stop());
    // Response lengths: 4 head + an IPv4 (3+7) or IPv6 (3+19) address feature, or none.
    for (const [k, host, pass, n] of [
      ['ipv4', '127.0.0.1', 'p', 14],
      ['any', '', 'p', 26],
      ['wrong password', '127.0.0.1', 'x', 4],
    ] as const) {
      const bp = await freeUdpPort();
      const r = await udpBind(port, host, bp, pass, `${name} ${k}`, n);
      r.s.destroy();
      record(k, { hex: r.hex, closed: r.closed, port: bp });
    }
    const a = await udpBind(port, '', 0, 'p', `${name} association`, 26);
    a.s.destroy();
    record('association', { hex: a.hex, closed: a.closed, port: 0 });

    // A port in use: GOST closes the stream without a response; gost-ts answers 01 05.
    const busy = dgram.createSocket('udp4');
    busy.bind(0, '127.0.0.1');
    await once(busy, 'listening');
    t.after(() => busy.close());
    const b = await udpBind(port, '127.0.0.1', busy.address().port, 'p', `${name} port in use`, 4);
    b.s.destroy();
    if (name === 'gost-ts') await server.waitForLine(/port \d+ is already in use.*relay: UDP BIND failed/);
    record('in use', { hex: b.hex, closed: b.closed, port: busy.address().port });
  }
  const [gIpv4, tIpv4] = answers['ipv4'] ?? [];
  // `01 00 000a` + addr IPv4 127.0.0.1 and the bound port.
  assert.equal(gIpv4?.hex, '0100000a' + '02000701' + '7f000001' + hex16(gIpv4?.port ?? 0));
  assert.equal(tIpv4?.hex, '0100000a' + '02000701' + '7f000001' + hex16(tIpv4?.port ?? 0));
  // `:PORT` binds every interface; both name it [::]:PORT.
  const [gAny, tAny] = answers['any'] ?? [];
  const anyHex = (p: number): string => '01000016' + '02001304' + '00'.repeat(16) + hex16(p);
  assert.equal(gAny?.hex, anyHex(gAny?.port ?? 0));
  assert.equal(tAny?.hex, anyHex(tAny?.port ?? 0));
  // The association: an ephemeral port on every interface.
  const [gA, tA] = answers['association'] ?? [];
  assert.equal(tA?.hex.slice(0, -4), gA?.hex.slice(0, -4), `gost ${gA?.hex}, gost-ts ${tA?.hex}`);
  assert.equal(gA?.hex.slice(0, -4), '01000016' + '02001304' + '00'.repeat(16));
  assert.notEqual(tA?.hex.slice(-4), '0000');
  const [gWrong, tWrong] = answers['wrong password'] ?? [];
  assert.deepEqual([gWrong?.hex, tWrong?.hex], ['01020000', '01020000']);
  const [gBusy, tBusy] = answers['in use'] ?? [];
  assert.deepEqual({ hex: gBusy?.hex, closed: gBusy?.closed }, { hex: '', closed: true });
  assert.equal(tBusy?.hex, '01050000');

  // Beyond GOST: bind.allow. A port outside it is refused 01 03, and the log says why.
  const port = await freePort();
  const server = await startCli(['-L', `relay://127.0.0.1:${port}?bind=true&bind.allow=40000-40010`]);
  t.after(() => server.stop());
  const out = await udpBind(port, '127.0.0.1', 39999, undefined, 'outside bind.allow', 4);
  out.s.destroy();
  assert.equal(out.hex, '01030000');

  // publicAddr replaces the host the OK response names, as for a TCP bind.
  const pp = await freePort();
  const pub = await startCli(['-L', `relay://127.0.0.1:${pp}?bind=true&relay.publicAddr=203.0.113.5`]);
  t.after(() => pub.stop());
  const bp = await freeUdpPort();
  const ok = await udpBind(pp, '127.0.0.1', bp, undefined, 'publicAddr', 14);
  ok.s.destroy();
  assert.equal(ok.hex, '0100000a' + '02000701' + 'cb007105' + hex16(bp));
  await server.waitForLine(
    /relay: UDP BIND refused.*39999 is not in bind\.allow|39999 is not in bind\.allow.*relay: UDP BIND refused/,
  );
});

for (const [clientName, startClient, startServer] of [
  ['gost-ts', startCli, startGost],
  ['gost', startGost, startCli],
] as const) {
  const serverName = clientName === 'gost' ? 'gost-ts' : 'gost';
  test(`rudp over relay: ${clientName} client → ${serverName} relay+mws server (bind=true), 500 paced datagrams`, async (t) => {
    const echo = await udpEcho();
    t.after(() => echo.close());
    const sp = await freePort();
    const server = await startServer(['-L', `relay+mws://127.0.0.1:${sp}?bind=true`]);
    t.after(() => server.stop());
    const rp = await freeUdpPort();
    const client = await startClient([
      '-L',
      `rudp://127.0.0.1:${rp}/127.0.0.1:${echo.port}`,
      '-F',
      `relay+mws://127.0.0.1:${sp}`,
    ]);
    t.after(() => client.stop());
    // The server's log names the UDP bind (GOST: "bind on 127.0.0.1:PORT OK").
    await server.waitForLine(serverName === 'gost' ? /bind on 127\.0\.0\.1:\d+ OK/ : /relay: UDP BIND OK/);
    await waitForEcho(rp);
    assert.deepEqual(await exchange(rp, 500, MODERATE_PACE), { sent: 500, echoed: 500 });
  });
}

for (const [clientName, startClient, startServer] of [
  ['gost-ts', startCli, startGost],
  ['gost', startGost, startCli],
] as const) {
  const serverName = clientName === 'gost' ? 'gost-ts' : 'gost';
  test(`UDP association through a relay last node: ${clientName} socks5?udp=true → ${serverName} relay+mws (bind=true)`, async (t) => {
    const echo = await udpEcho();
    t.after(() => echo.close());
    const sp = await freePort();
    const server = await startServer(['-L', `relay+mws://127.0.0.1:${sp}?bind=true`]);
    const cp = await freePort();
    const client = await startClient([
      '-L',
      `socks5://127.0.0.1:${cp}?udp=true`,
      '-F',
      `relay+mws://127.0.0.1:${sp}`,
    ]);
    t.after(async () => (await client.stop(), await server.stop()));
    assert.deepEqual(await associateExchange(cp, echo.port, 500), {
      replyHead: '050000017f000001',
      wrongSource: 0,
      result: { sent: 500, echoed: 500 },
    });
    // The server served it as a UDP BIND on an ephemeral port (GOST's association).
    if (serverName === 'gost-ts') await server.waitForLine(/"bind":":0".*relay: UDP BIND OK/);
    else await server.waitForLine(/"cmd":"bind".*"network":"udp"|"network":"udp".*"cmd":"bind"/);
  });
}

test('README "### UDP": rudp and UDP ASSOCIATE over relay run as written (against a real gost relay+mws)', async (t) => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### UDP'));
  const body = section.slice(0, section.indexOf('\n## ', 5));
  const lines = [...body.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => (m[1] as string).split('\n'))
    .filter((l) => l.startsWith('gost-ts ') && /(rudp|socks5):\/\/.*-F "relay\+mws:/.test(l));
  assert.equal(lines.length, 2, 'the section shows rudp and SOCKS5 UDP over relay');
  const echo = await udpEcho();
  t.after(() => echo.close());
  const sp = await freePort();
  const rp = await freeUdpPort();
  const cp = await freePort();
  const server = await startGost(['-L', `relay+mws://127.0.0.1:${sp}?path=/ws&bind=true`]);
  t.after(() => server.stop());
  for (const line of lines) {
    const args = [
      ...line
        .replace(/\s+#.*$/, '')
        .replace(/^gost-ts\s+/, '')
        .matchAll(/"([^"]*)"|(\S+)/g),
    ]
      .map((m) => m[1] ?? (m[2] as string))
      .map((a) =>
        a
          .replace('server:8443', `127.0.0.1:${sp}`)
          .replace('rudp://:5353/127.0.0.1:53', `rudp://127.0.0.1:${rp}/127.0.0.1:${echo.port}`)
          .replace('://:1080', `://127.0.0.1:${cp}`),
      );
    const p = await startCli(args);
    t.after(() => p.stop());
  }
  await waitForEcho(rp);
  assert.deepEqual(await exchange(rp, 100, MODERATE_PACE), { sent: 100, echoed: 100 });
  const assoc = await associateExchange(cp, echo.port, 100);
  assert.deepEqual(assoc.result, { sent: 100, echoed: 100 });
});

const scrape = async (port: number): Promise<string> =>
  (await curl([`http://127.0.0.1:${port}/metrics`])).body;

test('gost-ts relay UDP BIND limits: udp.bufferSize drops counted and logged, the bind counted as a UDP session', async (t) => {
  const echo = await udpEcho();
  t.after(() => echo.close());
  const sp = await freePort();
  const mp = await freePort();
  const server = await startCli([
    '-L',
    `relay+mws://127.0.0.1:${sp}?bind=true&udp.bufferSize=100`,
    '-metrics',
    `127.0.0.1:${mp}`,
  ]);
  const rp = await freeUdpPort();
  const client = await startGost([
    '-L',
    `rudp://127.0.0.1:${rp}/127.0.0.1:${echo.port}`,
    '-F',
    `relay+mws://127.0.0.1:${sp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop()));
  await server.waitForLine(/relay: UDP BIND OK/);
  await waitForEcho(rp);
  assert.match(await scrape(mp), /^gost_udp_sessions\{service="service-0"\} 1$/m);
  // Three datagrams larger than udp.bufferSize: dropped by the server, the small ones still pass.
  const peer = dgram.createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  t.after(() => peer.close());
  for (let i = 0; i < 3; i++) peer.send(Buffer.alloc(200, 1), rp, '127.0.0.1');
  assert.deepEqual(await exchange(rp, 50, { socket: peer, size: 100 }), { sent: 50, echoed: 50 });
  const dropped = /^gost_udp_datagrams_dropped_total\{[^}]*reason="too_large"[^}]*\} (\d+)$/m;
  assert.equal(dropped.exec(await scrape(mp))?.[1], '3');
  const summary = await server.waitForLine(/udp: datagrams dropped/, 10_000);
  assert.match(summary, /"too_large":3/);
  // The client goes away: the bind ends, its port is released and the session gauge drops to 0.
  await client.stop();
  await server.waitForLine(/relay: UDP BIND closed, port released/);
  assert.match(await scrape(mp), /^gost_udp_sessions\{service="service-0"\} 0$/m);
});
