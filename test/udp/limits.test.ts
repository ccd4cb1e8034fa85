/**
 * UDP limits end to end (gost-ts `udp://` client, real gost server): oversized datagrams and peers
 * beyond `maxSessions` are dropped, counted in `gost_udp_datagrams_dropped_total` and logged; and an
 * overload run that only asserts the process survives and reports what it dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { scrapeMetrics } from '../helpers/net.js';
import { startCli, freePort } from '../helpers/cli.js';
import { startGost } from '../helpers/gost.js';
import { exchange, freeUdpPort, udpEcho } from '../helpers/udp.js';

/** `gost_udp_datagrams_dropped_total` by reason. */
function drops(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(/^gost_udp_datagrams_dropped_total\{[^}]*reason="(\w+)"[^}]*\} (\d+)/gm))
    out[m[1] as string] = Number(m[2]);
  return out;
}

/** The kernel's drop count of the UDP socket bound to 127.0.0.1:`port` (Linux /proc/net/udp), if any. */
function kernelDrops(port: number): number | undefined {
  try {
    const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
    for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] === want) return Number(f[f.length - 1]);
    }
  } catch {
    // not Linux: the figure is left out of the report
  }
  return undefined;
}

async function socket(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  s.bind(0, '127.0.0.1');
  await once(s, 'listening');
  return s;
}

test('readBufferSize and maxSessions: dropped, counted by reason, logged', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startGost(['-L', `socks5+mws://127.0.0.1:${sp}?udp=true`]);
  const up = await freeUdpPort();
  const mp = await freePort();
  const client = await startCli([
    '-L',
    `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}?keepalive=true&ttl=30s&readBufferSize=100&maxSessions=1`,
    '-F',
    `socks5+mws://127.0.0.1:${sp}`,
    '-metrics',
    `127.0.0.1:${mp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  const a = await socket();
  const b = await socket();
  t.after(() => (a.close(), b.close()));
  for (let i = 0; i < 3; i++) a.send(Buffer.alloc(200), up, '127.0.0.1');
  // A small one from the same peer opens the one session allowed and comes back.
  assert.deepEqual(await exchange(up, 1, { socket: a, waitMs: 5000 }), { sent: 1, echoed: 1 });
  b.send(Buffer.from('second peer'), up, '127.0.0.1');
  await client.waitForLine(/udp: session limit reached, new peer refused/);
  assert.deepEqual(drops(await scrapeMetrics(mp)), { too_large: 3, session_limit: 1 });
  assert.match(await scrapeMetrics(mp), /^gost_udp_sessions\{service="service-0"\} 1$/m);
  // The drop summary line names the reasons.
  const summary = await client.waitForLine(/udp: datagrams dropped/, 10_000);
  assert.match(summary, /"too_large":3/);
});

test('overload: a blast far beyond what the tunnel takes; the process survives and counts drops', async (t) => {
  const echo = await udpEcho();
  const sp = await freePort();
  const server = await startGost(['-L', `socks5+mws://127.0.0.1:${sp}?udp=true`]);
  const up = await freeUdpPort();
  const mp = await freePort();
  const client = await startCli([
    '-L',
    `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}?keepalive=true&ttl=30s`,
    '-F',
    `socks5+mws://127.0.0.1:${sp}`,
    '-metrics',
    `127.0.0.1:${mp}`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), echo.close()));
  // 8 peers × 5,000 datagrams of 1,200 bytes, sent as fast as the kernel takes them.
  const peers = await Promise.all(Array.from({ length: 8 }, () => socket()));
  let echoed = 0;
  for (const p of peers) p.on('message', () => (echoed += 1));
  t.after(() => peers.forEach((p) => p.close()));
  const payload = Buffer.alloc(1200, 0x5a);
  let sent = 0;
  for (let round = 0; round < 50; round++) {
    for (const p of peers) for (let k = 0; k < 100; k++, sent++) p.send(payload, up, '127.0.0.1');
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(client.proc.exitCode, null, 'gost-ts exited under load');
  assert.equal(client.proc.signalCode, null, 'gost-ts was killed under load');
  // Still serving afterwards: a fresh peer's paced datagrams all come back.
  assert.deepEqual(await exchange(up, 20, { batch: 1, intervalMs: 10, waitMs: 10_000 }), {
    sent: 20,
    echoed: 20,
  });
  const counted = drops(await scrapeMetrics(mp));
  const dropped = Object.values(counted).reduce((s, n) => s + n, 0);
  t.diagnostic(
    `overload: sent ${sent}, echoed ${echoed} (${((100 * (sent - echoed)) / sent).toFixed(1)}% lost), ` +
      `dropped by gost-ts ${dropped} ${JSON.stringify(counted)}, by the kernel at gost-ts's socket ` +
      `${kernelDrops(up) ?? 'unknown'}, the rest further on (GOST, the echo target's socket)`,
  );
  assert.ok(echoed <= sent);
  assert.match(await scrapeMetrics(mp), /^# TYPE gost_udp_datagrams_dropped_total counter$/m);
});
