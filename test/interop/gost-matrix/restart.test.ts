/**
 * Interop matrix, a restarted server: the session the client holds dies with the server; what the
 * next requests see. gost-ts as the client retries on a fresh session, so the very next request
 * succeeds; GOST as the client (recorded here) fails the first request and redials for the next.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client, echoTarget, openTunnel, roundTrip, startPeer, type Peer } from './support.js';
import { freePort } from '../../helpers/cli.js';

const serverArgs = (port: number): string[] => ['-L', `http+mws://127.0.0.1:${port}?path=/ws`];

for (const [c, s] of [
  ['gost-ts', 'gost'],
  ['gost', 'gost-ts'],
] as const) {
  test(`${c} client, ${s} server restarted between two requests`, async (t) => {
    const target = await echoTarget();
    const port = await freePort();
    let srv: Peer = await startPeer(s, serverArgs(port), port);
    const cli = await client(c, 'http', [`http+mws://127.0.0.1:${port}?path=/ws`]);
    t.after(async () => (await cli.stop(), await srv.stop(), target.close()));
    await roundTrip(cli.port, target.addr, { size: 64 << 10 });
    await srv.stop();
    srv = await startPeer(s, serverArgs(port), port);
    if (c === 'gost-ts') {
      // The session died with the old server: gost-ts notices at the next request and retries it
      // once on a new session, so the application sees no failure.
      await roundTrip(cli.port, target.addr, { size: 64 << 10 });
    } else {
      // GOST's client opens its stream on the dead session, the open fails, the session is
      // dropped: that request gets 503, and the next one redials and succeeds.
      await assert.rejects(openTunnel(cli.port, 'http', target.addr), /CONNECT refused: "HTTP\/1\.1 503/);
      await roundTrip(cli.port, target.addr, { size: 64 << 10 });
    }
    await roundTrip(cli.port, target.addr, { size: 64 << 10 });
    assert.equal(target.connections(), 3);
  });
}
