/**
 * rudp binds again when its tunnel dies: the real gost server is stopped and started again on the
 * same port, and peers reach the target behind the gost-ts client once more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCli, freePort } from '../helpers/cli.js';
import { startGost } from '../helpers/gost.js';
import { MODERATE_PACE, exchange, freeUdpPort, udpEcho, waitForEcho } from '../helpers/udp.js';

test('rudp re-binds after the server restarts', async (t) => {
  const echo = await udpEcho();
  t.after(() => echo.close());
  const sp = await freePort();
  const serverArgs = ['-L', `socks5+mws://127.0.0.1:${sp}?bind=true`];
  let server = await startGost(serverArgs);
  t.after(() => server.stop());
  const rp = await freeUdpPort();
  const client = await startCli([
    '-L',
    `rudp://127.0.0.1:${rp}/127.0.0.1:${echo.port}`,
    '-F',
    `socks5+mws://127.0.0.1:${sp}`,
  ]);
  t.after(() => client.stop());
  await waitForEcho(rp);
  await server.stop();
  await client.waitForLine(/rudp: bind tunnel closed; binding again/);
  server = await startGost(serverArgs);
  // Bound again on the new server (the second "bound" line), within the 1-5 s backoff.
  const deadline = Date.now() + 20_000;
  while (client.count(/rudp: bound on the remote node/) < 2) {
    assert.ok(Date.now() < deadline, `no re-bind within 20 s:\n${client.lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await waitForEcho(rp);
  assert.deepEqual(await exchange(rp, 100, MODERATE_PACE), { sent: 100, echoed: 100 });
});
