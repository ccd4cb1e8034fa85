import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SocksClient } from 'socks';
import { Socks4Handler } from '../../src/handler/socks4/handler.js';
import { parseSocks4HandlerMetadata } from '../../src/handler/socks4/metadata.js';
import { createAuthenticator } from '../../src/common/auth.js';
import { Metadata } from '../../src/core/metadata.js';
import {
  SocketSet,
  closedPort,
  connect,
  curl,
  readExactly,
  readToEnd,
  startEchoServer,
  startHandlerServer,
  startHttpOrigin,
} from '../helpers/proxy-test-utils.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const port2 = (p: number): Buffer => Buffer.from([p >> 8, p & 0xff]);

async function raw(t: TestContext, handler: Socks4Handler, data: Buffer) {
  const proxy = await startHandlerServer(t, handler);
  const sockets = new SocketSet();
  t.after(() => sockets.destroyAll());
  const c = await connect(proxy.port, sockets);
  const got = readToEnd(c);
  c.write(data);
  const out = await got;
  await Promise.all(proxy.handled);
  assert.deepEqual(proxy.rejections, []);
  return { out, proxy };
}

describe('Socks4Handler', () => {
  it('SOCKS4 (IPv4) and 4a (host name) through the npm socks client', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(t, new Socks4Handler());
    for (const host of ['127.0.0.1', 'localhost']) {
      const { socket } = await SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: proxy.port, type: 4 },
        command: 'connect',
        destination: { host, port: echo.port },
        timeout: 5000,
      });
      t.after(() => socket.destroy());
      socket.write('four');
      assert.equal((await readExactly(socket, 4)).toString(), 'four');
      socket.end();
    }
    assert.deepEqual(proxy.router.dials, [`127.0.0.1:${echo.port}`, `localhost:${echo.port}`]);
  });

  it('curl --socks4a', async (t) => {
    const origin = await startHttpOrigin(t);
    const proxy = await startHandlerServer(t, new Socks4Handler());
    const r = await curl(['--socks4a', `127.0.0.1:${proxy.port}`, `http://localhost:${origin.port}/s4`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello GET /s4');
  });

  it('grant reply is exactly 00 5A + zeros, then payload pipelined after the request flows', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(t, new Socks4Handler());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    c.write(
      Buffer.concat([
        hex('0401'),
        port2(echo.port),
        hex('7f000001'),
        Buffer.from('id'),
        hex('00'),
        Buffer.from('pipelined'),
      ]),
    );
    assert.deepEqual(await readExactly(c, 8), hex('005a000000000000'));
    assert.equal((await readExactly(c, 9)).toString(), 'pipelined');
  });

  it('unreachable target → 00 5B', async (t) => {
    const port = await closedPort();
    const { out } = await raw(
      t,
      new Socks4Handler(),
      Buffer.concat([hex('0401'), port2(port), hex('7f000001 00')]),
    );
    assert.deepEqual(out, hex('005b000000000000'));
  });

  it('user id rejected by the authenticator → 00 5D (checked with an empty password)', async (t) => {
    const auth = createAuthenticator([{ username: 'alice', password: '' }]);
    const bad = await raw(
      t,
      new Socks4Handler({ authenticator: auth }),
      Buffer.concat([hex('0401 0050 7f000001'), Buffer.from('bob'), hex('00')]),
    );
    assert.deepEqual(bad.out, hex('005d000000000000'));
    assert.deepEqual(bad.proxy.router.dials, []);
    const port = await closedPort();
    const good = await raw(
      t,
      new Socks4Handler({ authenticator: auth }),
      Buffer.concat([hex('0401'), port2(port), hex('7f000001'), Buffer.from('alice'), hex('00')]),
    );
    assert.deepEqual(good.out, hex('005b000000000000'), 'alice passes auth and reaches the dial');
  });

  it('BIND, unknown commands and garbage close without a reply', async (t) => {
    assert.deepEqual((await raw(t, new Socks4Handler(), hex('0402 0050 7f000001 00'))).out, hex(''));
    assert.deepEqual((await raw(t, new Socks4Handler(), hex('0409 0050 7f000001 00'))).out, hex(''));
    assert.deepEqual(
      (await raw(t, new Socks4Handler(), Buffer.concat([hex('0401 0050 7f000001'), Buffer.alloc(400, 0x41)])))
        .out,
      hex(''),
    );
    assert.deepEqual((await raw(t, new Socks4Handler(), hex('0401 0050 00000001 00 00'))).out, hex(''));
  });

  it('a truncated request times out', async (t) => {
    const { out } = await raw(t, new Socks4Handler({ readTimeoutMs: 100 }), hex('0401 0050 7f00'));
    assert.deepEqual(out, hex(''));
  });

  it('metadata', () => {
    assert.deepEqual(parseSocks4HandlerMetadata(new Metadata({})), { readTimeoutMs: 15000 });
    assert.deepEqual(parseSocks4HandlerMetadata(new Metadata({ readTimeout: '250ms' })), {
      readTimeoutMs: 250,
    });
  });
});
