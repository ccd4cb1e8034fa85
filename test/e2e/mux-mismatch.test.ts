/** facts §11 scenario 5: a mux.version mismatch fails cleanly and fast, no hang, no crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, freePort } from '../helpers/cli.js';
import { curl } from '../helpers/curl.js';
import { webOrigin } from '../helpers/origins.js';
import { goPeerMissingReason, startGoPeer } from '../helpers/go-peer.js';

async function expectFastFailure(clientPort: number, url: string): Promise<void> {
  const started = Date.now();
  const r = await curl([
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-x',
    `http://127.0.0.1:${clientPort}`,
    url,
  ]);
  assert.equal(r.body, '503', `the application gets 503 (curl: ${r.stderr})`);
  assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
}

test('client mux.version=2 against a gost-ts server on v1: 503 at once, the server says why', async (t) => {
  const web = await webOrigin();
  const serverPort = await freePort();
  const clientPort = await freePort();
  const server = await startCli(['-L', `http+mws://127.0.0.1:${serverPort}?path=/ws`]);
  const client = await startCli([
    '-L',
    `127.0.0.1:${clientPort}`,
    '-F',
    `http+mws://127.0.0.1:${serverPort}?path=/ws&mux.version=2`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), web.close()));
  await expectFastFailure(clientPort, web.url);
  await expectFastFailure(clientPort, web.url);
  await server.waitForLine(/invalid protocol version 2 \(expected 1\)/, 3000);
  assert.equal(server.proc.exitCode, null);
  assert.equal(client.proc.exitCode, null);
});

test(
  'client mux.version=2 against a Go server on v1: 503 at once',
  { skip: goPeerMissingReason() },
  async (t) => {
    const web = await webOrigin();
    const peer = await startGoPeer('server', []);
    const clientPort = await freePort();
    const client = await startCli([
      '-L',
      `127.0.0.1:${clientPort}`,
      '-F',
      `http+mws://${peer.addr}?path=/ws&mux.version=2`,
    ]);
    t.after(async () => (await client.stop(), await peer.stop(), web.close()));
    await expectFastFailure(clientPort, web.url);
    await peer.waitForLine(/^SESSION_CLOSED/, 3000);
  },
);
