/**
 * gost-ts behind nginx (Debian's), with contrib/nginx/gost-ts.conf as the site: TLS at nginx, the
 * tunnel at /tunnel proxied with the Upgrade headers to two gost-ts instances. A client moves data,
 * its session outlives nginx's idle timeout thanks to the server's smux keepalive, clients spread
 * over both instances, and when one stops its clients carry on through the other.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { buildRuntime, configFromArgs, type Runtime } from '../../src/index.js';
import { silentLogger } from '../../src/core/logger.js';
import type { MwsListener } from '../../src/listener/mws/listener.js';
import { freePort } from '../helpers/cli.js';
import { delay, echoServer, waitFor } from '../helpers/net.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { echoDigest, sha256 } from '../helpers/tunnel.js';
import { makeTestPki, type TestPki } from '../tls/pki.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IDLE_TIMEOUT_S = 3;

/** The contrib site with this test's ports, certificate and a short idle timeout; each edit must apply. */
function siteFor(ports: { nginx: number; a: number; b: number }, pki: TestPki): string {
  let site = readFileSync(resolve(repoRoot, 'contrib', 'nginx', 'gost-ts.conf'), 'utf8');
  const edit = (from: string, to: string): void => {
    assert.equal(
      site.split(from).length,
      2,
      `contrib/nginx/gost-ts.conf no longer has exactly one "${from}"`,
    );
    site = site.replace(from, to);
  };
  edit('listen 443 ssl;', `listen 127.0.0.1:${ports.nginx} ssl;`);
  edit('/etc/ssl/certs/tunnel.example.com.pem', pki.files.serverCert);
  edit('/etc/ssl/private/tunnel.example.com.key', pki.files.serverKey);
  edit('server 127.0.0.1:8443;', `server 127.0.0.1:${ports.a};`);
  edit('server 127.0.0.1:8444;', `server 127.0.0.1:${ports.b};`);
  edit('proxy_read_timeout 60s;', `proxy_read_timeout ${IDLE_TIMEOUT_S}s;`);
  return site;
}

async function runtimeFor(args: string[]): Promise<Runtime> {
  const runtime = await buildRuntime(await configFromArgs(args), { log: silentLogger });
  await runtime.start();
  return runtime;
}

function listenerOf(server: Runtime): MwsListener {
  return server.services[0]!.listener as MwsListener;
}

describe('gost-ts behind nginx', () => {
  let pki: TestPki;
  let nginx: Nginx;
  let servers: { a: Runtime; b: Runtime };
  let echo: Awaited<ReturnType<typeof echoServer>>;
  let nodeUrl: string;
  let target: string;
  const clients: Runtime[] = [];

  before(async () => {
    pki = await makeTestPki();
    echo = await echoServer();
    target = `127.0.0.1:${echo.port}`;
    const ports = { nginx: await freePort(), a: await freePort(), b: await freePort() };
    // The servers' smux keepalive (1 s) keeps the tunnel busy inside nginx's idle timeout.
    const serverArgs = (port: number): string[] => [
      '-L',
      `http+mws://127.0.0.1:${port}?path=/tunnel&mux.keepaliveInterval=1s`,
    ];
    servers = { a: await runtimeFor(serverArgs(ports.a)), b: await runtimeFor(serverArgs(ports.b)) };
    nginx = await startNginx(siteFor(ports, pki), ports.nginx);
    nodeUrl = `http+mwss://127.0.0.1:${ports.nginx}?path=/tunnel`;
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await nginx?.stop();
    await Promise.allSettled([servers?.a.close(), servers?.b.close()]);
    await echo?.close();
    pki?.cleanup();
  });

  const newClient = async (): Promise<Runtime> => {
    const c = await runtimeFor(['-F', nodeUrl]);
    clients.push(c);
    return c;
  };
  const echoVia = async (client: Runtime, size: number): Promise<void> => {
    const conn = await client.dial(target, { chain: 'chain-0' });
    conn.on('error', () => undefined);
    try {
      const payload = randomBytes(size);
      assert.equal(await echoDigest(conn, payload), sha256(payload));
    } finally {
      conn.destroy();
    }
  };
  const upgrades = (): number => listenerOf(servers.a).upgradeCount + listenerOf(servers.b).upgradeCount;
  const sessions = (s: Runtime): number => listenerOf(s).sessionCount;

  test('a client moves data through nginx and its session outlives the idle timeout', async () => {
    const client = await newClient();
    await echoVia(client, 1 << 20);
    assert.equal(upgrades(), 1);
    // Idle well past proxy_read_timeout: only the keepalive crosses nginx meanwhile.
    await delay((IDLE_TIMEOUT_S + 1.5) * 1000);
    await echoVia(client, 64 * 1024);
    assert.equal(upgrades(), 1, `nginx cut the idle session (log: ${nginx.errorLog().slice(-500)})`);
    await client.close();
    await waitFor(() => sessions(servers.a) + sessions(servers.b) === 0, 10_000, 'the session to end');
  });

  test('two instances: clients spread over both, each session on one; one stops, its clients move on', async () => {
    const before = upgrades();
    const group = await Promise.all([newClient(), newClient(), newClient(), newClient()]);
    for (const c of group) await echoVia(c, 64 * 1024);
    assert.equal(upgrades() - before, 4, 'one session per client');
    const onA = sessions(servers.a);
    assert.ok(onA >= 1 && sessions(servers.b) >= 1, `not spread: ${onA} on A, ${sessions(servers.b)} on B`);
    // More streams per client ride the session they have, on the instance it reached.
    for (const c of group) await echoVia(c, 16 * 1024);
    assert.equal(upgrades() - before, 4, 'a stream opened a new session');
    assert.equal(sessions(servers.a), onA);

    await servers.a.close();
    for (const c of group) await echoVia(c, 64 * 1024);
    assert.equal(sessions(servers.b), 4, 'every client is on the remaining instance');
  });
});
