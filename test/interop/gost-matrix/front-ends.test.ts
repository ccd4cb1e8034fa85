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

// GOST's socks5 connector offers `05 02 00 80` (no auth, GOST's TLS method 0x80) unless notls=true,
// and both servers then pick 0x80 and run the rest of the stream inside TLS; with notls=true on
// the connector the greeting is `05 01 00` and both pick 0x00. The rows above prove the data path
// of the default; these pin the bytes each handler answers, and run the notls pair.
for (const s of ['gost', 'gost-ts'] as const) {
  for (const [greeting, answer] of [
    ['05020080', '0580'],
    ['050100', '0500'],
  ] as const) {
    test(`${s} socks5 handler answers the greeting ${greeting} with ${answer}`, async (t) => {
      const srv = await server(s, (p) => `socks5://127.0.0.1:${p}`);
      t.after(() => srv.stop());
      const r = new SocketReader(await connect(srv.port));
      r.socket.write(Buffer.from(greeting, 'hex'));
      assert.equal(hex(await r.take(2, 'the method selection')), answer);
      r.socket.destroy();
    });
  }
}

for (const [c, s] of ROLES) {
  test(`${c} client → ${s} server, socks5+mws with notls=true on both: 1 MiB echoed intact`, async (t) => {
    const target = await echoTarget();
    const srv = await server(s, (p) => `socks5+mws://127.0.0.1:${p}?path=/ws&notls=true`);
    const cli = await client(c, 'http', [`socks5+mws://127.0.0.1:${srv.port}?path=/ws&notls=true`]);
    t.after(async () => (await cli.stop(), await srv.stop(), target.close()));
    await roundTrip(cli.port, target.addr, { size: 1 << 20 });
  });
}
