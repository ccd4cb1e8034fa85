// The non-multiplexed `ws`/`wss` dialer: one WebSocket per dial, GOST's Host/SNI rules, failures.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { once } from 'node:events';
import { TunnelError } from '../../src/core/errors.js';
import { Metadata } from '../../src/core/metadata.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Conn, DialContext } from '../../src/core/types.js';
import { WsDialer } from '../../src/dialer/ws/dialer.js';
import { parseWsDialerMetadata } from '../../src/dialer/ws/metadata.js';
import { attachWebSocketAcceptor } from '../../src/transport/websocket/server.js';
import { parseWebSocketMetadata } from '../../src/transport/websocket/metadata.js';
import { generateSelfSignedCertificate } from '../../src/common/tls-server.js';
import { echoConn, echoRoundTrip } from '../tls/support.js';

type T = { after: (fn: () => void) => void };

function loopbackContext(signal?: AbortSignal): DialContext & { sockets: net.Socket[] } {
  const sockets: net.Socket[] = [];
  return {
    log: silentLogger,
    signal,
    sockets,
    connect: (addr) =>
      new Promise<Conn>((resolve, reject) => {
        const s = net.connect(Number(addr.slice(addr.lastIndexOf(':') + 1)), '127.0.0.1');
        sockets.push(s);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }),
  };
}

/** A bare ws(s) echo server recording each upgrade's Host header, TCP connection and SNI. */
async function wsEchoServer(
  t: T,
  secure = false,
): Promise<{ port: number; hosts: string[]; tcpConnections: () => number; sni: (string | false | null)[] }> {
  const hosts: string[] = [];
  const sni: (string | false | null)[] = [];
  let tcp = 0;
  const pair = secure ? await generateSelfSignedCertificate() : undefined;
  const server = pair ? https.createServer({ cert: pair.cert, key: pair.key }) : http.createServer();
  server.on('connection', () => (tcp += 1));
  server.on('secureConnection', (s: TLSSocket) => sni.push(s.servername));
  attachWebSocketAcceptor(server, parseWebSocketMetadata(new Metadata({})), ({ conn, request }) => {
    hosts.push(request.headers.host ?? '');
    echoConn(conn);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as net.AddressInfo).port, hosts, tcpConnections: () => tcp, sni };
}

const dialer = (md: Record<string, unknown> = {}, secure?: boolean): WsDialer =>
  new WsDialer({
    ...parseWsDialerMetadata(new Metadata(md)),
    ...(secure === undefined ? {} : { tls: { secure } }),
  });

describe('WsDialer', () => {
  test('one TCP connection and one WebSocket upgrade per dial; Host is the node address verbatim', async (t) => {
    const srv = await wsEchoServer(t);
    const d = dialer();
    const addr = `localhost:${srv.port}`;
    for (let i = 0; i < 3; i++) {
      const c = await d.dial(addr, loopbackContext());
      assert.deepEqual(await echoRoundTrip(c, Buffer.from(`msg ${i}`)), Buffer.from(`msg ${i}`));
    }
    assert.equal(srv.hosts.length, 3, 'three upgrades');
    assert.equal(srv.tcpConnections(), 3, 'three TCP connections');
    assert.deepEqual(srv.hosts, [addr, addr, addr]);
  });

  test('`host` metadata changes the Host header', async (t) => {
    const srv = await wsEchoServer(t);
    const c = await dialer({ host: 'cdn.example' }).dial(`127.0.0.1:${srv.port}`, loopbackContext());
    await echoRoundTrip(c, Buffer.from('x'));
    assert.deepEqual(srv.hosts, ['cdn.example']);
  });

  test('wss: SNI from the node host; with an address like `:port`, from `host` (GOST); never an IP', async (t) => {
    const srv = await wsEchoServer(t, true);
    for (const [addr, md] of [
      [`localhost:${srv.port}`, { host: 'cdn.example' }],
      [`:${srv.port}`, { host: 'cdn.example:443' }],
      [`127.0.0.1:${srv.port}`, {}],
    ] as const) {
      const c = await dialer(md, false).dial(addr, loopbackContext());
      assert.deepEqual(await echoRoundTrip(c, Buffer.from('s')), Buffer.from('s'));
    }
    assert.deepEqual(srv.sni, ['localhost', 'cdn.example', false]);
  });

  test('a refused upgrade fails with ERR_WS_HANDSHAKE and closes the carrier', async (t) => {
    const srv = await wsEchoServer(t);
    const ctx = loopbackContext();
    await assert.rejects(
      dialer({ path: '/elsewhere' }).dial(`127.0.0.1:${srv.port}`, ctx),
      (err: unknown) => {
        assert.ok(err instanceof TunnelError);
        assert.equal(err.code, 'ERR_WS_HANDSHAKE');
        assert.match(err.message, /404/);
        return true;
      },
    );
    assert.ok(ctx.sockets[0]?.destroyed);
  });

  test('handshakeTimeout bounds a server that never answers the upgrade', async (t) => {
    const server = net.createServer((s) => s.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const ctx = loopbackContext();
    const port = (server.address() as net.AddressInfo).port;
    await assert.rejects(
      dialer({ handshakeTimeout: '200ms' }).dial(`127.0.0.1:${port}`, ctx),
      (err: unknown) => err instanceof TunnelError && err.code === 'ERR_DIAL_TIMEOUT',
    );
    assert.ok(ctx.sockets[0]?.destroyed);
  });

  test('the caller’s signal aborts a pending upgrade', async (t) => {
    const server = net.createServer((s) => s.on('error', () => {}));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const port = (server.address() as net.AddressInfo).port;
    await assert.rejects(
      dialer().dial(`127.0.0.1:${port}`, loopbackContext(ac.signal)),
      (err: unknown) => err instanceof TunnelError && err.code === 'ERR_ABORTED',
    );
  });
});
