/**
 * Interop matrix, front ends: the real GOST v3.2.6 and the built gost-ts CLI in both roles, over
 * `http+mws` and `socks5+mws`, and the `auto` front end (`-L :port`) reached with HTTP CONNECT,
 * SOCKS5 and SOCKS4; data checked by echo + SHA-256.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ROLES,
  SocketReader,
  client,
  connect,
  echoTarget,
  hex,
  roundTrip,
  server,
  type AppProtocol,
} from './support.js';

for (const [c, s] of ROLES) {
  for (const connector of ['http', 'socks5'] as const) {
    test(`${c} client → ${s} server, ${connector}+mws: 1 MiB echoed intact`, async (t) => {
      const target = await echoTarget();
      const srv = await server(s, (p) => `${connector}+mws://127.0.0.1:${p}?path=/ws`);
      const cli = await client(c, 'http', [`${connector}+mws://127.0.0.1:${srv.port}?path=/ws`]);
      t.after(async () => (await cli.stop(), await srv.stop(), target.close()));
      await roundTrip(cli.port, target.addr, { size: 1 << 20 });
      assert.equal(target.connections(), 1, 'the server end dialled the target once');
    });
  }

  test(`${c} auto front end (-L 127.0.0.1:port) → ${s} server: HTTP, SOCKS5 and SOCKS4 apps`, async (t) => {
    const target = await echoTarget();
    const srv = await server(s, (p) => `http+mws://127.0.0.1:${p}?path=/ws`);
    const cli = await client(c, 'auto', [`http+mws://127.0.0.1:${srv.port}?path=/ws`]);
    t.after(async () => (await cli.stop(), await srv.stop(), target.close()));
    for (const proto of ['http', 'socks5', 'socks4'] as AppProtocol[]) {
      await roundTrip(cli.port, target.addr, { proto, size: 128 << 10 });
    }
    assert.equal(target.connections(), 3);
  });
}

// GOST's socks5 connector offers `05 02 00 80` (no auth, GOST's TLS method 0x80) unless notls=true.
// gost-ts's handler does not implement 0x80 and picks 0x00, which GOST's connector accepts: the
// rows above prove the data path; these pin the method bytes each handler answers.
for (const s of ['gost', 'gost-ts'] as const) {
  test(`${s} socks5 handler answers GOST's connector greeting 05 02 00 80`, async (t) => {
    const srv = await server(s, (p) => `socks5://127.0.0.1:${p}`);
    t.after(() => srv.stop());
    const r = new SocketReader(await connect(srv.port));
    r.socket.write(Buffer.from([5, 2, 0, 0x80]));
    const reply = await r.take(2, 'the method selection');
    r.socket.destroy();
    // GOST picks its TLS method when offered (every GOST server has a certificate). gost-ts
    // answers 0x00 today; 0x80 (TLS inside the stream, as GOST) is equally fine for GOST's
    // connector. Anything else (05 ff) would break GOST clients.
    if (s === 'gost') assert.equal(hex(reply), '0580');
    else assert.ok(['0500', '0580'].includes(hex(reply)), `gost-ts answered ${hex(reply)}`);
  });
}

test("GOST's socks5 handler answers gost-ts's connector greeting 05 01 00 with 05 00", async (t) => {
  const srv = await server('gost', (p) => `socks5://127.0.0.1:${p}`);
  t.after(() => srv.stop());
  const r = new SocketReader(await connect(srv.port));
  r.socket.write(Buffer.from([5, 1, 0]));
  assert.equal(hex(await r.take(2, 'the method selection')), '0500');
  r.socket.destroy();
});
