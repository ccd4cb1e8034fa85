/**
 * createMwsEndpoint mounted in an application's own server: http.Server, https.Server, Express and
 * Fastify, each also serving a normal route and another WebSocket endpoint on the same port. A
 * gost-ts client and the real gost client tunnel through it; close() leaves the host serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import express from 'express';
import Fastify from 'fastify';
import { WebSocket, WebSocketServer } from 'ws';
import { buildRuntime, configFromArgs, createMwsEndpoint, type MwsEndpoint } from '../../src/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { freePort } from '../helpers/cli.js';
import { startGost } from '../helpers/gost.js';
import { echoServer, waitFor } from '../helpers/net.js';
import { echoDigest, echoViaProxy, sha256, within } from '../helpers/tunnel.js';
import { makeTestPki, type TestPki } from '../tls/pki.js';

interface Host {
  server: http.Server;
  secure: boolean;
  close(): Promise<void>;
}

type Kind = 'http.Server' | 'https.Server' | 'Express' | 'Fastify';

const plainRoute = (kind: Kind) => (req: http.IncomingMessage, res: http.ServerResponse) => {
  if (req.url === '/hello') res.end(`hello from ${kind}`);
  else res.writeHead(404).end('app: no such page');
};

async function startHost(kind: Kind, pki: TestPki): Promise<Host> {
  const closeServer = (server: http.Server) => async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  switch (kind) {
    case 'http.Server':
    case 'https.Server': {
      const secure = kind === 'https.Server';
      const server = secure
        ? https.createServer({ cert: pki.server.cert, key: pki.server.key }, plainRoute(kind))
        : http.createServer(plainRoute(kind));
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return { server, secure, close: closeServer(server) };
    }
    case 'Express': {
      const app = express();
      app.get('/hello', (_req, res) => void res.send(`hello from ${kind}`));
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      return { server, secure: false, close: closeServer(server) };
    }
    case 'Fastify': {
      const app = Fastify();
      app.get('/hello', () => `hello from ${kind}`);
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { server: app.server, secure: false, close: () => app.close() };
    }
  }
}

function port(server: http.Server): number {
  return (server.address() as net.AddressInfo).port;
}

/** GET on the host; resolves with status and body. */
async function get(host: Host, path: string): Promise<{ status: number; body: string }> {
  const mod = host.secure ? https : http;
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = mod.get(
      { host: '127.0.0.1', port: port(host.server), path, rejectUnauthorized: false },
      resolve,
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no reply in 10 s`)));
    req.on('error', reject);
  });
  let body = '';
  for await (const c of res) body += String(c);
  return { status: res.statusCode ?? 0, body };
}

/** Another WebSocket endpoint on the same server: `/chat` echoes with a prefix (ws, noServer). */
function chatEndpoint(): {
  wss: WebSocketServer;
  handle(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
} {
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${(m as Buffer).toString()}`)));
  return {
    wss,
    handle(req, socket, head) {
      if (req.url !== '/chat') return false;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return true;
    },
  };
}

async function chat(host: Host): Promise<string> {
  const ws = new WebSocket(`${host.secure ? 'wss' : 'ws'}://127.0.0.1:${port(host.server)}/chat`, {
    rejectUnauthorized: false,
    handshakeTimeout: 10_000,
  });
  try {
    await once(ws, 'open');
    ws.send('ping');
    const [msg] = (await once(ws, 'message')) as [Buffer];
    return String(msg);
  } finally {
    ws.terminate();
  }
}

/** A raw upgrade to `path`; resolves with the first response line. */
async function rawUpgradeStatus(host: Host, path: string): Promise<string> {
  const s = net.connect(port(host.server), '127.0.0.1');
  s.setTimeout(10_000, () => s.destroy(new Error(`upgrade ${path}: no reply in 10 s`)));
  await once(s, 'connect');
  s.write(
    `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
  );
  const [data] = (await once(s, 'data')) as [Buffer];
  s.destroy();
  return data.toString('latin1').split('\r\n')[0] ?? '';
}

for (const [kind, mount] of [
  ['http.Server', 'attach'],
  ['https.Server', 'attach'],
  ['Express', 'route'],
  ['Fastify', 'attach'],
] as const) {
  test(`${kind}: mounted mws endpoint beside a route and another WebSocket endpoint (${mount})`, async (t) => {
    const pki = await makeTestPki();
    t.after(() => pki.cleanup());
    const host = await startHost(kind, pki);
    t.after(() => host.close());
    const target = await echoServer();
    t.after(() => target.close());

    const endpoint: MwsEndpoint = createMwsEndpoint({ path: '/tunnel', handler: 'http', log: silentLogger });
    t.after(() => endpoint.close());
    const other = chatEndpoint();
    if (mount === 'attach') {
      endpoint.attach(host.server);
      host.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
        other.handle(req, socket, head);
      });
    } else {
      // The application routes upgrades itself.
      host.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
        if (endpoint.handleUpgrade(req, socket, head)) return;
        if (!other.handle(req, socket, head)) socket.destroy();
      });
    }

    // Plain requests are the application's, the tunnel path included.
    assert.deepEqual(await get(host, '/hello'), { status: 200, body: `hello from ${kind}` });
    const plainTunnel = await get(host, '/tunnel');
    assert.equal(plainTunnel.status, 404);
    assert.notEqual(plainTunnel.body, 'Bad Request\n', 'a plain request reached the endpoint');
    assert.equal(await chat(host), 'echo:ping');

    const scheme = host.secure ? 'mwss' : 'mws';
    const nodeUrl = `http+${scheme}://127.0.0.1:${port(host.server)}?path=/tunnel`;
    const target1 = `127.0.0.1:${target.port}`;

    // A gost-ts client (in process).
    const runtime = await buildRuntime(await configFromArgs(['-F', nodeUrl]), { log: silentLogger });
    t.after(() => runtime.close());
    const conn = await runtime.dial(target1, { chain: 'chain-0' });
    conn.on('error', () => undefined);
    const payload = randomBytes(1 << 20);
    assert.equal(await echoDigest(conn, payload), sha256(payload), 'gost-ts client: echo differs');

    // The real gost client.
    const proxyPort = await freePort();
    const gost = await startGost(['-L', `http://127.0.0.1:${proxyPort}`, '-F', nodeUrl]);
    t.after(() => gost.stop());
    assert.equal(
      await echoViaProxy(proxyPort, target1, payload),
      sha256(payload),
      'gost client: echo differs',
    );
    assert.equal(endpoint.sessionCount, 2, 'one session per client');

    // close(): the endpoint's sessions end (the open stream with them), the host keeps serving.
    // (not events.once: the stream ends with an error, which once() would throw)
    const connClosed = new Promise((resolve) => conn.once('close', resolve));
    await endpoint.close();
    await within(connClosed, 10_000, 'the tunnelled stream to close after close()');
    await waitFor(() => endpoint.sessionCount === 0, 10_000, 'sessions to end');
    assert.equal(host.server.listening, true);
    assert.deepEqual(await get(host, '/hello'), { status: 200, body: `hello from ${kind}` });
    assert.equal(await chat(host), 'echo:ping');
    if (mount === 'route') assert.match(await rawUpgradeStatus(host, '/tunnel'), /^HTTP\/1\.1 503 /);
    else assert.equal(host.server.listenerCount('upgrade'), 1, 'close() left its upgrade listener behind');
  });
}
