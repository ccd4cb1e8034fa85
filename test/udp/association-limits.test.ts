/**
 * The bounds on UDP associations a server serves for clients, end to end against the CLI server:
 * per mws session (`udp.maxPerSession`) and per process (`GOST_TS_MAX_UDP_ASSOCIATIONS`). Over the
 * bound the request gets its protocol's failure reply, the limit is logged and counted, the
 * session and its other associations carry on, and once one closes the next one is served.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import { once } from 'node:events';
import { scrapeMetrics } from '../helpers/net.js';
import { freePort, runCli, startCli } from '../helpers/cli.js';
import { startGost } from '../helpers/gost.js';
import { exchange, socks5Associate, socks5UdpHeader, stripSocks5UdpHeader, udpEcho } from '../helpers/udp.js';
import { mwsDialer, tcpDialContext } from '../helpers/mws.js';
import { RelayConnector } from '../../src/connector/relay/connector.js';
import type { PacketConn } from '../../src/core/types.js';
import { silentLogger } from '../../src/core/logger.js';
import { parseHostPort } from '../../src/common/addr.js';
import { createMwsEndpoint } from '../../src/index.js';
import type { AddressInfo } from 'node:net';

/** `gost_ts_limit_hits_total{limit}` from a scrape (0 when absent). */
function limitHits(metrics: string, limit: string): number {
  const m = new RegExp(`^gost_ts_limit_hits_total\\{[^}]*limit="${limit}"[^}]*\\} (\\d+)`, 'm').exec(metrics);
  return m === null ? 0 : Number(m[1]);
}

/** Retries `attempt` every 100 ms until it returns true, at most `tries` times. */
async function eventually(what: string, tries: number, attempt: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await attempt()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not after ${tries} tries`);
}

describe('UDP associations per mws session (udp.maxPerSession)', () => {
  it('SOCKS5 UDP ASSOCIATE through a gost-ts client: the third is refused 05 01, the first two relay, a new one works once one closes', async (t) => {
    const echo = await udpEcho();
    const sp = await freePort();
    const mp = await freePort();
    const server = await startCli([
      '-L',
      `socks5+mws://127.0.0.1:${sp}?udp=true&udp.maxPerSession=2`,
      '-metrics',
      `127.0.0.1:${mp}`,
    ]);
    const cp = await freePort();
    const client = await startCli([
      '-L',
      `socks5://127.0.0.1:${cp}?udp=true`,
      '-F',
      `socks5+mws://127.0.0.1:${sp}`,
    ]);
    const controls: Array<{ destroy(): void }> = [];
    t.after(async () => {
      for (const c of controls) c.destroy();
      await Promise.all([client.stop('SIGKILL'), server.stop('SIGKILL')]);
      echo.close();
    });
    const relay = async (relayPort: number): Promise<number> =>
      (
        await exchange(relayPort, 5, {
          wrap: socks5UdpHeader(echo.port),
          unwrap: stripSocks5UdpHeader,
          waitMs: 10_000,
        })
      ).echoed;

    const first = await socks5Associate(cp);
    const second = await socks5Associate(cp);
    controls.push(first.control, second.control);
    assert.equal(first.reply[1], 0, 'the first association is served');
    assert.equal(second.reply[1], 0, 'the second association is served');
    const third = await socks5Associate(cp);
    controls.push(third.control);
    assert.equal(third.reply.subarray(0, 2).toString('hex'), '0501', 'the third: general failure');
    await server.waitForLine(/limit reached: udp_associations_per_session \(2\); refusing/);
    assert.equal(limitHits(await scrapeMetrics(mp), 'udp_associations_per_session'), 1);

    // The session and its open associations carry on.
    assert.equal(await relay(first.relayPort), 5, 'the first association still relays');
    assert.equal(await relay(second.relayPort), 5, 'the second association still relays');

    // One closes: its stream ends and frees a place on the same session.
    first.control.destroy();
    let fourth: Awaited<ReturnType<typeof socks5Associate>> | undefined;
    await eventually('an association after one closed', 50, async () => {
      const a = await socks5Associate(cp);
      controls.push(a.control);
      if (a.reply[1] === 0) fourth = a;
      else a.control.destroy();
      return fourth !== undefined;
    });
    assert.ok(fourth !== undefined);
    assert.equal(await relay(fourth.relayPort), 5, 'the new association relays');
  });

  it('SOCKS5 UDP ASSOCIATE through the real GOST as client: the third is cut, the session goes on', async (t) => {
    const echo = await udpEcho();
    const sp = await freePort();
    // -D: the server logs each association's end, so the test knows when a place is free.
    const server = await startCli(['-D', '-L', `socks5+mws://127.0.0.1:${sp}?udp=true&udp.maxPerSession=2`]);
    const cp = await freePort();
    // notls: with its TLS method (0x80) GOST ends its other UDP associations on the session when one
    // of its requests is refused — against a GOST server too, e.g. for a CONNECT to a closed port.
    const client = await startGost([
      '-L',
      `socks5://127.0.0.1:${cp}?udp=true`,
      '-F',
      `socks5+mws://127.0.0.1:${sp}?notls=true`,
    ]);
    const controls: Array<{ destroy(): void }> = [];
    t.after(async () => {
      for (const c of controls) c.destroy();
      await Promise.all([client.stop(), server.stop('SIGKILL')]);
      echo.close();
    });
    // GOST relays an association for the first UDP source it hears from: one socket each.
    const sockets = new Map<number, dgram.Socket>();
    t.after(() => {
      for (const s of sockets.values()) s.close();
    });
    const relay = async (relayPort: number): Promise<number> => {
      let socket = sockets.get(relayPort);
      if (socket === undefined) {
        socket = dgram.createSocket('udp4');
        socket.bind(0, '127.0.0.1');
        await once(socket, 'listening');
        sockets.set(relayPort, socket);
      }
      const r = await exchange(relayPort, 5, {
        socket,
        wrap: socks5UdpHeader(echo.port),
        unwrap: stripSocks5UdpHeader,
        waitMs: 10_000,
      });
      socket.removeAllListeners('message');
      return r.echoed;
    };
    // GOST answers 05 00 before it opens the tunnel; its association only works once it has.
    const first = await socks5Associate(cp);
    controls.push(first.control);
    assert.equal(await relay(first.relayPort), 5, 'the first association relays');
    const second = await socks5Associate(cp);
    controls.push(second.control);
    assert.equal(await relay(second.relayPort), 5, 'the second association relays');
    const third = await socks5Associate(cp);
    controls.push(third.control);
    // GOST's tunnel is refused (05 01 from this server), so GOST closes the association.
    const closed = once(third.control, 'close');
    third.control.resume();
    await Promise.race([
      closed,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error('GOST did not close the refused association')), 10_000).unref(),
      ),
    ]);
    await server.waitForLine(/limit reached: udp_associations_per_session \(2\); refusing/);
    assert.equal(await relay(first.relayPort), 5, 'the first association still relays');

    // GOST ends its stream when the application's association ends; the server frees the place.
    first.control.destroy();
    await server.waitForLine(/socks5: UDP-TUN closed/);
    const fourth = await socks5Associate(cp);
    controls.push(fourth.control);
    assert.equal(await relay(fourth.relayPort), 5, 'an association after one closed relays');
  });

  it('relay UDP BIND (rudp) on one session: refused 05 over the bound, served again once one closes', async (t) => {
    const sp = await freePort();
    const server = await startCli(['-L', `relay+mws://127.0.0.1:${sp}?bind=true&udp.maxPerSession=2`]);
    const dialer = mwsDialer();
    const open: PacketConn[] = [];
    t.after(async () => {
      await server.stop('SIGKILL');
      for (const p of open) p.close();
      await dialer.close();
    });
    const bindUdp = async (): Promise<{ bound: string; packets: PacketConn }> => {
      const stream = await dialer.dial(`127.0.0.1:${sp}`, tcpDialContext());
      const r = await new RelayConnector().bindUdp(stream, '127.0.0.1:0', { log: silentLogger });
      open.push(r.packets);
      return r;
    };
    const a = await bindUdp();
    const b = await bindUdp();
    await assert.rejects(bindUdp(), /refused: 5 /);
    await server.waitForLine(/limit reached: udp_associations_per_session \(2\); refusing/);
    await assertRelays(b);

    a.packets.close();
    let c: { bound: string; packets: PacketConn } | undefined;
    await eventually('a UDP bind after one closed', 50, async () => {
      c = await bindUdp().catch(() => undefined);
      return c !== undefined;
    });
    assert.ok(c !== undefined);
    await assertRelays(c);
  });
});

describe('UDP associations per session of a mounted endpoint', () => {
  it('createMwsEndpoint honours udp.maxPerSession', async (t) => {
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const endpoint = createMwsEndpoint({
      handler: { type: 'relay', metadata: { bind: true } },
      metadata: { 'udp.maxPerSession': 1 },
    });
    endpoint.attach(server);
    const dialer = mwsDialer();
    const open: PacketConn[] = [];
    t.after(async () => {
      for (const p of open) p.close();
      await dialer.close();
      await endpoint.close();
      server.closeAllConnections();
      server.close();
    });
    const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const bindUdp = async (): Promise<{ bound: string; packets: PacketConn }> => {
      const stream = await dialer.dial(addr, tcpDialContext());
      const r = await new RelayConnector().bindUdp(stream, '127.0.0.1:0', { log: silentLogger });
      open.push(r.packets);
      return r;
    };
    await assertRelays(await bindUdp());
    await assert.rejects(bindUdp(), /refused: 5 /);
  });
});

describe('UDP associations per process (GOST_TS_MAX_UDP_ASSOCIATIONS)', () => {
  it('bounds associations over all sessions: the second session is refused until the first closes', async (t) => {
    const sp = await freePort();
    const server = await startCli(['-L', `relay+mws://127.0.0.1:${sp}?bind=true`], {
      env: { ...process.env, GOST_TS_MAX_UDP_ASSOCIATIONS: '1' },
    });
    // Two dialers: two sessions, each far below its own bound.
    const dialers = [mwsDialer(), mwsDialer()];
    const open: PacketConn[] = [];
    t.after(async () => {
      await server.stop('SIGKILL');
      for (const p of open) p.close();
      await Promise.all(dialers.map((d) => d.close()));
    });
    const bindUdp = async (i: number): Promise<{ bound: string; packets: PacketConn }> => {
      const stream = await dialers[i]!.dial(`127.0.0.1:${sp}`, tcpDialContext());
      const r = await new RelayConnector().bindUdp(stream, '127.0.0.1:0', { log: silentLogger });
      open.push(r.packets);
      return r;
    };
    const a = await bindUdp(0);
    await assert.rejects(bindUdp(1), /refused: 5 /);
    await server.waitForLine(/limit reached: udp_associations_per_process \(1\); refusing/);
    await assertRelays(a);
    a.packets.close();
    let b: { bound: string; packets: PacketConn } | undefined;
    await eventually('a UDP bind on the other session after the first closed', 50, async () => {
      b = await bindUdp(1).catch(() => undefined);
      return b !== undefined;
    });
    assert.ok(b !== undefined);
    await assertRelays(b);
  });

  it('a bad GOST_TS_MAX_UDP_ASSOCIATIONS is refused at start', async () => {
    const r = await runCli(['-L', 'relay+mws://127.0.0.1:0'], 15_000, {
      ...process.env,
      GOST_TS_MAX_UDP_ASSOCIATIONS: 'many',
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /GOST_TS_MAX_UDP_ASSOCIATIONS: not a whole number: "many"/);
  });
});

/** A peer's datagram to the server's bound port comes down the bind stream, naming the peer. */
async function assertRelays(b: { bound: string; packets: PacketConn }): Promise<void> {
  const port = parseHostPort(b.bound)?.port ?? 0;
  const peer = dgram.createSocket('udp4');
  peer.bind(0, '127.0.0.1');
  await once(peer, 'listening');
  try {
    const got = new Promise<[Buffer, string]>((resolve) =>
      b.packets.onMessage((d, from) => resolve([d, from])),
    );
    peer.send('hello', port, '127.0.0.1');
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`nothing came down the bind stream of ${b.bound}`)), 10_000).unref(),
    );
    const [data, from] = await Promise.race([got, timeout]);
    assert.equal(data.toString(), 'hello');
    assert.equal(from, `127.0.0.1:${peer.address().port}`);
  } finally {
    peer.close();
  }
}
