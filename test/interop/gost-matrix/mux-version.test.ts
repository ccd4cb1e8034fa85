/**
 * Interop matrix, smux versions: `mux.version=2` on both ends carries data both roles; a version
 * mismatch (either end on 2) fails the request cleanly — an error reply to the application, no
 * hang, no crash, and a log line saying why on the gost-ts side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROLES, client, echoTarget, openTunnel, roundTrip, server } from './support.js';

for (const [c, s] of ROLES) {
  test(`${c} client → ${s} server, mux.version=2 on both ends: 2 MiB echoed intact`, async (t) => {
    const target = await echoTarget();
    const srv = await server(s, (p) => `http+mws://127.0.0.1:${p}?path=/ws&mux.version=2`);
    const cli = await client(c, 'http', [`http+mws://127.0.0.1:${srv.port}?path=/ws&mux.version=2`]);
    t.after(async () => (await cli.stop(), await srv.stop(), target.close()));
    // Larger than the 256 KiB initial v2 window, so window updates must flow both ways.
    await roundTrip(cli.port, target.addr, { size: 2 << 20 });
  });

  for (const [cv, sv] of [
    [2, 1],
    [1, 2],
  ] as const) {
    test(`${c} client on mux v${cv} → ${s} server on v${sv}: the request fails cleanly`, async (t) => {
      const target = await echoTarget();
      const srv = await server(s, (p) => `http+mws://127.0.0.1:${p}?path=/ws&mux.version=${sv}`);
      const cli = await client(c, 'http', [`http+mws://127.0.0.1:${srv.port}?path=/ws&mux.version=${cv}`]);
      t.after(async () => (await cli.stop(), await srv.stop(), target.close()));
      // Twice: the first request meets a fresh session, the second whatever the first left behind.
      for (let i = 0; i < 2; i += 1) {
        await assert.rejects(openTunnel(cli.port, 'http', target.addr), /CONNECT refused: "HTTP\/1\.1 503/);
      }
      assert.equal(target.connections(), 0, 'nothing reached the target');
      if (c === 'gost-ts') {
        // GOST's server drops the session at the first frame of the wrong version without a
        // word (nothing in its log at info), so the client can say only that the peer closed it.
        await cli.waitForLine(
          /read failed: smux: connection closed by peer before sending anything \(is mux\.version the same on both ends\?\).*"msg":"http: dial failed"/,
        );
      } else {
        await srv.waitForLine(new RegExp(`invalid protocol version ${cv} \\(expected ${sv}\\)`));
      }
      assert.ok(cli.alive() && srv.alive(), 'both processes still run');
    });
  }
}
