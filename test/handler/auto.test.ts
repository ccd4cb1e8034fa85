import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SocksClient } from 'socks';
import { AutoHandler } from '../../src/handler/auto/handler.js';
import { parseAutoHandlerMetadata } from '../../src/handler/auto/metadata.js';
import { HttpHandler } from '../../src/handler/http/handler.js';
import { Socks4Handler } from '../../src/handler/socks4/handler.js';
import { Socks5Handler } from '../../src/handler/socks5/handler.js';
import { createAuthenticator } from '../../src/common/auth.js';
import { Metadata } from '../../src/core/metadata.js';
import type { Authenticator } from '../../src/core/types.js';
import {
  SocketSet,
  connect,
  curl,
  readExactly,
  readToEnd,
  startEchoServer,
  startHandlerServer,
  startHttpOrigin,
} from '../helpers/proxy-test-utils.js';

function auto(authenticator?: Authenticator, readTimeoutMs?: number): AutoHandler {
  return new AutoHandler({
    handlers: {
      http: new HttpHandler({ authenticator }),
      socks4: new Socks4Handler({ authenticator }),
      socks5: new Socks5Handler({ authenticator }),
    },
    readTimeoutMs,
  });
}

describe('AutoHandler', () => {
  it('serves HTTP forward, HTTP CONNECT, SOCKS4, SOCKS4a and SOCKS5 on one port', async (t) => {
    const origin = await startHttpOrigin(t);
    const proxy = await startHandlerServer(t, auto());
    const url = `http://127.0.0.1:${origin.port}/auto`;
    const cases: Array<[string, string[]]> = [
      ['http', ['-x', `http://127.0.0.1:${proxy.port}`, url]],
      ['connect', ['-p', '-x', `http://127.0.0.1:${proxy.port}`, url]],
      ['socks4', ['--socks4', `127.0.0.1:${proxy.port}`, url]],
      ['socks4a', ['--socks4a', `127.0.0.1:${proxy.port}`, url]],
      ['socks5', ['--socks5-hostname', `127.0.0.1:${proxy.port}`, url]],
    ];
    for (const [name, args] of cases) {
      const r = await curl(args);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, 'hello GET /auto', name);
    }
    assert.equal(origin.requests.length, cases.length);
    assert.deepEqual(proxy.rejections, []);
  });

  it('shares the authenticator across protocols', async (t) => {
    const echo = await startEchoServer(t);
    const origin = await startHttpOrigin(t);
    const proxy = await startHandlerServer(t, auto(createAuthenticator([{ username: 'u', password: 'p' }])));
    const url = `http://127.0.0.1:${origin.port}/`;
    assert.equal(
      (
        await curl([
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '-x',
          `http://127.0.0.1:${proxy.port}`,
          url,
        ])
      ).stdout,
      '407',
    );
    assert.equal((await curl(['-x', `http://u:p@127.0.0.1:${proxy.port}`, url])).stdout, 'hello GET /');
    const { socket } = await SocksClient.createConnection({
      proxy: { host: '127.0.0.1', port: proxy.port, type: 5, userId: 'u', password: 'p' },
      command: 'connect',
      destination: { host: '127.0.0.1', port: echo.port },
      timeout: 5000,
    });
    t.after(() => socket.destroy());
    socket.write('abc');
    assert.equal((await readExactly(socket, 3)).toString(), 'abc');
    await assert.rejects(
      SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: proxy.port, type: 5 },
        command: 'connect',
        destination: { host: '127.0.0.1', port: echo.port },
        timeout: 5000,
      }),
    );
  });

  it('other first bytes go to the http handler (exact 400 for a direct request)', async (t) => {
    const proxy = await startHandlerServer(t, auto());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c);
    c.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal((await got).toString(), 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  it('closes a silent client after readTimeout, and an empty one at once', async (t) => {
    const proxy = await startHandlerServer(t, auto(undefined, 100));
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const silent = await connect(proxy.port, sockets);
    assert.equal((await readToEnd(silent, 3000)).length, 0);
    const empty = await connect(proxy.port, sockets);
    const got = readToEnd(empty, 3000);
    empty.end();
    assert.equal((await got).length, 0);
    await Promise.all(proxy.handled);
    assert.deepEqual(proxy.rejections, []);
  });

  it('metadata', () => {
    assert.deepEqual(parseAutoHandlerMetadata(new Metadata({ readTimeout: '2s' })), { readTimeoutMs: 2000 });
  });
});
