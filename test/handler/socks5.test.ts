import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SocksClient } from 'socks';
import { Socks5Handler } from '../../src/handler/socks5/handler.js';
import { parseSocks5HandlerMetadata } from '../../src/handler/socks5/metadata.js';
import { createAuthenticator } from '../../src/common/auth.js';
import { Metadata } from '../../src/core/metadata.js';
import {
  SocketSet,
  closeServer,
  closedPort,
  connect,
  curl,
  listen,
  readExactly,
  readToEnd,
  startEchoServer,
  startHandlerServer,
  startHttpOrigin,
} from '../helpers/proxy-test-utils.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

async function socksConnect(
  proxyPort: number,
  host: string,
  port: number,
  auth?: { userId: string; password: string },
): Promise<net.Socket> {
  const { socket } = await SocksClient.createConnection({
    proxy: { host: '127.0.0.1', port: proxyPort, type: 5, ...(auth ?? {}) },
    command: 'connect',
    destination: { host, port },
    timeout: 5000,
  });
  return socket;
}

async function echoRoundTrip(t: TestContext, socket: net.Socket): Promise<void> {
  t.after(() => socket.destroy());
  socket.write('hello over socks5');
  assert.equal((await readExactly(socket, 17)).toString(), 'hello over socks5');
  const rest = readToEnd(socket);
  socket.end();
  await rest;
}

/** Raw exchange: writes each step, returns everything the server sent until it closed. */
async function raw(t: TestContext, handler: Socks5Handler, steps: Buffer[], gapMs = 20) {
  const proxy = await startHandlerServer(t, handler);
  const sockets = new SocketSet();
  t.after(() => sockets.destroyAll());
  const c = await connect(proxy.port, sockets);
  const got = readToEnd(c);
  for (const s of steps) {
    if (c.destroyed) break;
    c.write(s);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  const out = await got;
  await Promise.all(proxy.handled);
  assert.deepEqual(proxy.rejections, []);
  return { out, proxy };
}

describe('Socks5Handler: CONNECT', () => {
  it('IPv4 target through the npm socks client', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(t, new Socks5Handler());
    await echoRoundTrip(t, await socksConnect(proxy.port, '127.0.0.1', echo.port));
    assert.deepEqual(proxy.router.dials, [`127.0.0.1:${echo.port}`]);
  });

  it('domain target is passed to the router unresolved', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(t, new Socks5Handler());
    await echoRoundTrip(t, await socksConnect(proxy.port, 'localhost', echo.port));
    assert.deepEqual(proxy.router.dials, [`localhost:${echo.port}`]);
  });

  it('IPv6 target', async (t) => {
    const sockets = new SocketSet();
    const server = net.createServer({ allowHalfOpen: true }, (s) => sockets.add(s).pipe(s));
    const port = await listen(server, '::1');
    t.after(async () => {
      sockets.destroyAll();
      await closeServer(server);
    });
    const proxy = await startHandlerServer(t, new Socks5Handler());
    await echoRoundTrip(t, await socksConnect(proxy.port, '::1', port));
    assert.deepEqual(proxy.router.dials, [`[::1]:${port}`]);
  });

  it('curl --socks5-hostname', async (t) => {
    const origin = await startHttpOrigin(t);
    const proxy = await startHandlerServer(t, new Socks5Handler());
    const r = await curl([
      '--socks5-hostname',
      `127.0.0.1:${proxy.port}`,
      `http://localhost:${origin.port}/s5`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello GET /s5');
  });

  it('handshake fed byte by byte, payload pipelined after the request; BND = outbound local address', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(t, new Socks5Handler());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const req = Buffer.concat([
      hex('050100'),
      hex('05010001 7f000001'),
      Buffer.from([echo.port >> 8, echo.port & 0xff]),
    ]);
    for (const byte of req.subarray(0, 3)) {
      c.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(await readExactly(c, 2), hex('0500'));
    for (const byte of req.subarray(3, req.length - 1)) {
      c.write(Buffer.from([byte]));
      await new Promise((r) => setTimeout(r, 5));
    }
    c.write(Buffer.concat([req.subarray(req.length - 1), Buffer.from('early')]));
    const reply = await readExactly(c, 10);
    assert.deepEqual(reply.subarray(0, 4), hex('05000001'));
    assert.equal(reply.subarray(4, 8).toString('hex'), '7f000001');
    const bndPort = reply.readUInt16BE(8);
    assert.equal(bndPort, proxy.router.conns[0]?.localPort);
    assert.equal((await readExactly(c, 5)).toString(), 'early');
  });
});

describe('Socks5Handler: authentication', () => {
  const auth = createAuthenticator([{ username: 'user', password: 'pass' }]);

  it('accepts the right credentials (npm socks client, curl)', async (t) => {
    const echo = await startEchoServer(t);
    const origin = await startHttpOrigin(t);
    const proxy = await startHandlerServer(t, new Socks5Handler({ authenticator: auth }));
    await echoRoundTrip(
      t,
      await socksConnect(proxy.port, '127.0.0.1', echo.port, { userId: 'user', password: 'pass' }),
    );
    const r = await curl([
      '--socks5-hostname',
      `user:pass@127.0.0.1:${proxy.port}`,
      `http://127.0.0.1:${origin.port}/auth`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello GET /auth');
  });

  it('wrong password → 01 01 and close', async (t) => {
    const up = Buffer.concat([hex('0104'), Buffer.from('user'), hex('05'), Buffer.from('wrong')]);
    const { out, proxy } = await raw(t, new Socks5Handler({ authenticator: auth }), [hex('05020002'), up]);
    assert.deepEqual(out, hex('0502 0101'));
    assert.deepEqual(proxy.router.dials, []);
  });

  it('no acceptable method → 05 FF and close', async (t) => {
    // An authenticator makes 0x02 mandatory; the client offers only 0x00.
    assert.deepEqual(
      (await raw(t, new Socks5Handler({ authenticator: auth }), [hex('050100')])).out,
      hex('05ff'),
    );
    // Without an authenticator only 0x00 is acceptable (GOST's TLS methods are never chosen).
    assert.deepEqual((await raw(t, new Socks5Handler(), [hex('0502 0280')])).out, hex('05ff'));
  });
});

describe('Socks5Handler: replies and hostile input', () => {
  it('unreachable target → exact 05 03 00 01 00 00 00 00 00 00', async (t) => {
    const port = await closedPort();
    const req = Buffer.concat([hex('05010001 7f000001'), Buffer.from([port >> 8, port & 0xff])]);
    const { out } = await raw(t, new Socks5Handler(), [hex('050100'), req]);
    assert.deepEqual(out, Buffer.concat([hex('0500'), hex('05030001 00000000 0000')]));
  });

  it('the npm socks client sees the failure as an error', async (t) => {
    const port = await closedPort();
    const proxy = await startHandlerServer(t, new Socks5Handler());
    await assert.rejects(
      socksConnect(proxy.port, '127.0.0.1', port),
      /Socks5 proxy rejected connection|HostUnreachable|Network/i,
    );
  });

  it('unsupported command → 05 07; UDP ASSOCIATE, UDP-TUN and BIND → 05 02 unless enabled', async (t) => {
    const tail = hex('0001 7f000001 0050');
    const cmd = (c: number): Buffer => Buffer.concat([Buffer.from([5, c]), tail]);
    assert.deepEqual(
      (await raw(t, new Socks5Handler(), [hex('050100'), cmd(0x09)])).out,
      hex('0500 05070001000000000000'),
    );
    assert.deepEqual(
      (await raw(t, new Socks5Handler(), [hex('050100'), cmd(0xf0)])).out,
      hex('0500 05070001000000000000'),
    );
    assert.deepEqual(
      (await raw(t, new Socks5Handler(), [hex('050100'), cmd(0x03)])).out,
      hex('0500 05020001000000000000'),
    );
    assert.deepEqual(
      (await raw(t, new Socks5Handler(), [hex('050100'), cmd(0x02)])).out,
      hex('0500 05020001000000000000'),
    );
    // UDP-TUN (0xF3): port 0 is a relay (needs udp), any other port a bind (needs bind).
    assert.deepEqual(
      (await raw(t, new Socks5Handler({ bind: true }), [hex('050100'), hex('05f30001 00000000 0000')])).out,
      hex('0500 05020001000000000000'),
    );
    assert.deepEqual(
      (await raw(t, new Socks5Handler({ udp: true }), [hex('050100'), hex('05f30001 00000000 1234')])).out,
      hex('0500 05020001000000000000'),
    );
    // A UDP-TUN bind follows bind.allow as the TCP bind does: port 53 is privileged by default.
    assert.deepEqual(
      (await raw(t, new Socks5Handler({ bind: true }), [hex('050100'), hex('05f30001 00000000 0035')])).out,
      hex('0500 05020001000000000000'),
    );
    // Enabled, but this router has no UDP: a general failure, as GOST when it cannot get a socket.
    assert.deepEqual(
      (await raw(t, new Socks5Handler({ udp: true, bind: true }), [hex('050100'), cmd(0x03)])).out,
      hex('0500 05010001000000000000'),
    );
  });

  it('garbage after a greeting closes without a reply to it', async (t) => {
    const { out, proxy } = await raw(t, new Socks5Handler(), [
      Buffer.concat([hex('050100'), Buffer.from('GET / HTTP/1.1\r\n\r\n')]),
    ]);
    assert.deepEqual(out, hex('0500'));
    assert.deepEqual(proxy.router.dials, []);
  });

  it('a bad version, an unknown ATYP, or an empty domain closes the connection', async (t) => {
    assert.deepEqual((await raw(t, new Socks5Handler(), [hex('0401')])).out, hex(''));
    assert.deepEqual(
      (await raw(t, new Socks5Handler(), [hex('050100'), hex('05010009 00000000')])).out,
      hex('0500'),
    );
    assert.deepEqual(
      (await raw(t, new Socks5Handler(), [hex('050100'), hex('05010003 00 0050')])).out,
      hex('0500'),
    );
  });

  it('a truncated request times out (readTimeout) and closes', async (t) => {
    const t0 = Date.now();
    const { out } = await raw(
      t,
      new Socks5Handler({ readTimeoutMs: 150 }),
      [hex('050100'), hex('050100')],
      5,
    );
    assert.deepEqual(out, hex('0500'));
    assert.ok(Date.now() - t0 >= 140);
  });
});

describe('parseSocks5HandlerMetadata', () => {
  it('reads GOST keys', () => {
    const d = parseSocks5HandlerMetadata(new Metadata({}));
    assert.deepEqual(
      {
        readTimeoutMs: d.readTimeoutMs,
        noTLS: d.noTLS,
        bind: d.bind,
        udp: d.udp,
        udpBufferSize: d.udpBufferSize,
        compat: d.compat,
        publicAddr: d.publicAddr,
      },
      {
        readTimeoutMs: 15000,
        noTLS: false,
        bind: false,
        udp: false,
        udpBufferSize: 4096,
        compat: false,
        publicAddr: undefined,
      },
    );
    const m = parseSocks5HandlerMetadata(
      new Metadata({
        readTimeout: 3,
        notls: 'true',
        bind: true,
        udp: '1',
        'udp.bufferSize': 1500,
        comp: 'true',
        publicAddr: 'example.net',
        'mux.version': 2,
      }),
    );
    assert.deepEqual(
      {
        readTimeoutMs: m.readTimeoutMs,
        noTLS: m.noTLS,
        bind: m.bind,
        udp: m.udp,
        udpBufferSize: m.udpBufferSize,
        compat: m.compat,
        publicAddr: m.publicAddr,
        v: m.mux.version,
      },
      {
        readTimeoutMs: 3000,
        noTLS: true,
        bind: true,
        udp: true,
        udpBufferSize: 1500,
        compat: true,
        publicAddr: 'example.net',
        v: 2,
      },
    );
  });
});
