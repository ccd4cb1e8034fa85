/**
 * createMwsEndpoint options: typos are ConfigErrors naming the key; handler auth; an onward chain
 * (through the real gost); GOST's replies to a bad upgrade on the endpoint's path; mux version.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { buildRuntime, configFromArgs, ConfigError, createMwsEndpoint } from '../../src/index.js';
import { silentLogger } from '../../src/core/logger.js';
import { freePort } from '../helpers/cli.js';
import { startGost } from '../helpers/gost.js';
import { echoServer } from '../helpers/net.js';
import { echoDigest, sha256 } from '../helpers/tunnel.js';

async function host(t: { after(fn: () => unknown): void }): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => res.end('app'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, port: (server.address() as net.AddressInfo).port };
}

test('unknown options, handler types and chains are ConfigErrors naming them', async () => {
  assert.throws(
    () => createMwsEndpoint({ metadata: { 'mux.verison': 2 } }),
    (err: unknown) =>
      err instanceof ConfigError && /endpoint\.mux\.verison: unknown option/.test(err.message),
  );
  assert.throws(
    () => createMwsEndpoint({ handler: { type: 'http', metadata: { proxyAgnet: 'x' } } }),
    (err: unknown) => err instanceof ConfigError && /handler\.metadata\.proxyAgnet/.test(err.message),
  );
  assert.throws(
    () => createMwsEndpoint({ handler: 'htp' }),
    (err: unknown) => err instanceof ConfigError && /unknown handler type "htp"/.test(err.message),
  );
  assert.throws(
    () => createMwsEndpoint({ mux: { maxFrameSize: 70_000 } }),
    (err: unknown) => err instanceof ConfigError && /max frame size/.test(err.message),
  );
  assert.throws(
    () => createMwsEndpoint({ handler: 'forward' }),
    (err: unknown) =>
      err instanceof ConfigError && /handler\.targets: handler "forward" needs targets/.test(err.message),
  );
  // The listener's own HTTP server settings belong to the host server here.
  assert.throws(
    () => createMwsEndpoint({ metadata: { readHeaderTimeout: '5s' } }),
    (err: unknown) => err instanceof ConfigError && /readHeaderTimeout: .*headersTimeout/.test(err.message),
  );
  // A chain is built in the background: ready() reports it.
  const endpoint = createMwsEndpoint({ chain: ['http+mws://127.0.0.1:1?path=/ws&bogus=1'] });
  await assert.rejects(
    endpoint.ready(),
    (err: unknown) => err instanceof ConfigError && /bogus/.test(err.message),
  );
  await endpoint.close();
});

test('a bad upgrade on its path gets GOST reply; other paths are not its business', async (t) => {
  const { server, port } = await host(t);
  const endpoint = createMwsEndpoint({ path: '/tunnel' }).attach(server);
  t.after(() => endpoint.close());
  const reply = async (path: string): Promise<string> => {
    const s = net.connect(port, '127.0.0.1');
    await once(s, 'connect');
    s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
    const [data] = (await once(s, 'data')) as [Buffer];
    s.destroy();
    return data.toString('latin1');
  };
  const bad = await reply('/tunnel');
  assert.match(bad, /^HTTP\/1\.1 400 Bad Request\r\n/);
  assert.match(bad, /Sec-Websocket-Version: 13/);
  // A lone upgrade listener means Node would otherwise drop this one: the endpoint must not answer it.
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    if (req.url === '/other') socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n');
  });
  assert.match(await reply('/other'), /^HTTP\/1\.1 418 /);
});

test('handler auth, mux v2 and an onward chain through the real gost', async (t) => {
  const { server, port } = await host(t);
  const target = await echoServer();
  t.after(() => target.close());
  const gostPort = await freePort();
  const gost = await startGost(['-L', `http+mws://127.0.0.1:${gostPort}?path=/next`]);
  t.after(() => gost.stop());
  const endpoint = createMwsEndpoint({
    path: '/tunnel',
    mux: { version: 2 },
    handler: { type: 'http', auth: { username: 'u', password: 'p' } },
    chain: [`http+mws://127.0.0.1:${gostPort}?path=/next`],
  }).attach(server);
  t.after(() => endpoint.close());
  await endpoint.ready();

  const client = async (user: string): Promise<Awaited<ReturnType<typeof buildRuntime>>> => {
    const rt = await buildRuntime(
      await configFromArgs(['-F', `http+mws://${user}@127.0.0.1:${port}?path=/tunnel&mux.version=2`]),
      { log: silentLogger },
    );
    t.after(() => rt.close());
    return rt;
  };
  await assert.rejects(
    (await client('u:wrong')).dial(`127.0.0.1:${target.port}`, { chain: 'chain-0' }),
    /407/,
  );
  const conn = await (await client('u:p')).dial(`127.0.0.1:${target.port}`, { chain: 'chain-0' });
  conn.on('error', () => undefined);
  const payload = randomBytes(256 * 1024);
  assert.equal(await echoDigest(conn, payload), sha256(payload));
  conn.destroy();
  // The stream went on through gost's mws listener.
  await gost.waitForLine(new RegExp(`"listener":"mws".*127\\.0\\.0\\.1:${target.port}`));
});
