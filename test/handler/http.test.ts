import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { silentLogger } from '../../src/core/logger.js';
import type { Conn, Router } from '../../src/core/types.js';
import { HttpHandler } from '../../src/handler/http/handler.js';
import { parseHttpHandlerMetadata } from '../../src/handler/http/metadata.js';
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
  waitClose,
  waitFor,
} from '../helpers/proxy-test-utils.js';
import { bounded } from '../helpers/net.js';

const OK_200 = 'HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\n';
const E503 = 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nProxy-Agent: gost/3.0\r\n\r\n';
const E400 = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
const E407_KA =
  'HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\nProxy-Authenticate: Basic realm="gost"\r\nProxy-Connection: close\r\n\r\n';
const E407 =
  'HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\nProxy-Authenticate: Basic realm="gost"\r\n\r\n';

describe('HttpHandler: CONNECT', () => {
  it('answers GOST 200 as its own write, then relays (raw socket + echo)', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(t, new HttpHandler());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    c.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nHost: 127.0.0.1:${echo.port}\r\n\r\n`);
    // Nothing but the 200 comes first, even though the echo is ready at once.
    assert.equal((await readExactly(c, OK_200.length)).toString(), OK_200);
    c.write('ping');
    assert.equal((await readExactly(c, 4)).toString(), 'ping');
    const rest = readToEnd(c);
    c.end();
    assert.equal((await rest).length, 0);
    await Promise.all(proxy.handled);
    assert.deepEqual(proxy.rejections, []);
    assert.deepEqual(proxy.router.dials, [`127.0.0.1:${echo.port}`]);
  });

  it('forwards bytes pipelined right after the CONNECT head', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(t, new HttpHandler());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c);
    c.end(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\nearly-bytes`);
    assert.equal((await got).toString(), `${OK_200}early-bytes`);
  });

  it('curl through a CONNECT tunnel (-p)', async (t) => {
    const origin = await startHttpOrigin(t);
    const proxy = await startHandlerServer(t, new HttpHandler());
    const r = await curl([
      '-p',
      '-x',
      `http://127.0.0.1:${proxy.port}`,
      `http://127.0.0.1:${origin.port}/x?y=1`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello GET /x?y=1');
  });

  it('unreachable target → exact 503 and close', async (t) => {
    const port = await closedPort();
    const proxy = await startHandlerServer(t, new HttpHandler());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c);
    c.write(
      `CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nProxy-Connection: keep-alive\r\n\r\n`,
    );
    assert.equal((await got).toString(), E503);
    await waitClose(c);
    const r = await curl(['-p', '-x', `http://127.0.0.1:${proxy.port}`, `http://127.0.0.1:${port}/`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /503/);
  });

  it('CONNECT without a port dials port 80 (GOST default)', async (t) => {
    const proxy = await startHandlerServer(t, new HttpHandler());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c);
    c.write('CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n');
    await got;
    assert.deepEqual(proxy.router.dials, ['127.0.0.1:80']);
  });
});

describe('HttpHandler: authentication', () => {
  const auth = createAuthenticator([{ username: 'user', password: 'pass' }]);

  it('407 with Proxy-Connection: close when the request asked for keep-alive', async (t) => {
    const proxy = await startHandlerServer(t, new HttpHandler({ authenticator: auth }));
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c);
    c.write(
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Connection: keep-alive\r\n\r\n',
    );
    assert.equal((await got).toString(), E407_KA);
    assert.deepEqual(proxy.router.dials, []);
  });

  it('407 without it otherwise; wrong credentials too', async (t) => {
    const proxy = await startHandlerServer(t, new HttpHandler({ authenticator: auth }));
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c);
    const bad = Buffer.from('user:wrong').toString('base64');
    c.write(`CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic ${bad}\r\n\r\n`);
    assert.equal((await got).toString(), E407);
  });

  it('curl with the right credentials gets through; without gets 407', async (t) => {
    const origin = await startHttpOrigin(t);
    const proxy = await startHandlerServer(t, new HttpHandler({ authenticator: auth, realm: 'r1' }));
    const ok = await curl([
      '-p',
      '-x',
      `http://127.0.0.1:${proxy.port}`,
      '-U',
      'user:pass',
      `http://127.0.0.1:${origin.port}/a`,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'hello GET /a');
    const fwd = await curl([
      '-x',
      `http://127.0.0.1:${proxy.port}`,
      '-U',
      'user:pass',
      `http://127.0.0.1:${origin.port}/b`,
    ]);
    assert.equal(fwd.stdout, 'hello GET /b');
    assert.equal(
      origin.requests.at(-1)?.headers['proxy-authorization'],
      undefined,
      'credentials leaked upstream',
    );
    const denied = await curl([
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-x',
      `http://127.0.0.1:${proxy.port}`,
      `http://127.0.0.1:${origin.port}/`,
    ]);
    assert.equal(denied.stdout, '407');
  });
});

describe('HttpHandler: plain HTTP forwarding', () => {
  it('curl -x with an absolute URI: origin form, hop-by-hop removed, Connection: close', async (t) => {
    const origin = await startHttpOrigin(t);
    const proxy = await startHandlerServer(t, new HttpHandler());
    const r = await curl([
      '-x',
      `http://127.0.0.1:${proxy.port}`,
      '-H',
      'X-Keep: yes',
      '-H',
      'Keep-Alive: timeout=5',
      '-d',
      'body!',
      `http://127.0.0.1:${origin.port}/post?q=1`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello POST /post?q=1 body!');
    const req = origin.requests[0];
    assert.ok(req);
    assert.equal(req.url, '/post?q=1');
    assert.equal(req.headers['connection'], 'close');
    assert.equal(req.headers['x-keep'], 'yes');
    assert.equal(req.headers['keep-alive'], undefined);
    assert.equal(req.headers['proxy-connection'], undefined);
    assert.equal(req.headers['host'], `127.0.0.1:${origin.port}`);
  });

  it('raw request without Host header gets one from the URI', async (t) => {
    const origin = await startHttpOrigin(t);
    const proxy = await startHandlerServer(t, new HttpHandler());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c);
    c.write(
      `GET http://127.0.0.1:${origin.port}/raw HTTP/1.1\r\nProxy-Connection: keep-alive\r\nConnection: X-Drop\r\nX-Drop: 1\r\n\r\n`,
    );
    const text = (await got).toString();
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(text, /hello GET \/raw$/);
    assert.equal(origin.requests[0]?.headers['host'], `127.0.0.1:${origin.port}`);
    assert.equal(origin.requests[0]?.headers['x-drop'], undefined);
  });

  it('forwarding failure → HTTP/1.1 503 with Content-Length: 0', async (t) => {
    const port = await closedPort();
    const proxy = await startHandlerServer(t, new HttpHandler());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c);
    c.write(`GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    assert.equal((await got).toString(), 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
  });
});

describe('HttpHandler: bad input', () => {
  async function exchange(
    t: Parameters<typeof startHandlerServer>[0],
    input: string | Buffer,
    handler = new HttpHandler(),
  ) {
    const proxy = await startHandlerServer(t, handler);
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c);
    c.write(input);
    const out = (await got).toString();
    await Promise.all(proxy.handled);
    assert.deepEqual(proxy.rejections, []);
    assert.deepEqual(proxy.router.dials, []);
    return out;
  }

  it('a direct (non-proxy) request gets exact 400', async (t) => {
    assert.equal(await exchange(t, 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n'), E400);
  });

  it('https:// absolute URI and PRI get 400', async (t) => {
    assert.equal(await exchange(t, 'GET https://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n'), E400);
    assert.equal(await exchange(t, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), E400);
  });

  it('400 carries the configured header; checked before auth, as GOST', async (t) => {
    const h = new HttpHandler({
      header: { 'x-srv': 'a' },
      authenticator: createAuthenticator([{ username: 'u', password: 'p' }]),
    });
    assert.equal(
      await exchange(t, 'GET / HTTP/1.1\r\n\r\n', h),
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nX-Srv: a\r\n\r\n',
    );
  });

  it('UDP-over-HTTP is refused with 403', async (t) => {
    assert.equal(
      await exchange(t, 'CONNECT 1.2.3.4:53 HTTP/1.1\r\nX-Gost-Protocol: udp\r\n\r\n'),
      'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n',
    );
  });

  it('garbage, truncated and oversized heads close without a reply', async (t) => {
    assert.equal(await exchange(t, '\x16\x03\x01\x00\x05hello\r\n\r\n'), '');
    assert.equal(await exchange(t, 'NOT AN HTTP REQUEST\r\n\r\n'), '');
    const big = `GET http://a/ HTTP/1.1\r\nX: ${'a'.repeat(70_000)}\r\n\r\n`;
    assert.equal(await exchange(t, big), '');
  });

  it('a truncated head times out and closes', async (t) => {
    const proxy = await startHandlerServer(t, new HttpHandler({ readTimeoutMs: 100 }));
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    const got = readToEnd(c, 3000);
    c.write('CONNECT example.com:443 HTTP/1.1\r\nHost: exa');
    assert.equal((await got).length, 0);
    await Promise.all(proxy.handled);
  });

  it('a client that disconnects mid-head does not crash anything', async (t) => {
    const proxy = await startHandlerServer(t, new HttpHandler());
    const sockets = new SocketSet();
    t.after(() => sockets.destroyAll());
    const c = await connect(proxy.port, sockets);
    c.write('CONNECT exa');
    c.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all(proxy.handled);
    assert.deepEqual(proxy.rejections, []);
  });
});

describe('parseHttpHandlerMetadata', () => {
  it('reads GOST keys with defaults', () => {
    assert.deepEqual(parseHttpHandlerMetadata(new Metadata({})), {
      proxyAgent: 'gost/3.0',
      realm: 'gost',
      readTimeoutMs: 15000,
      udp: false,
    });
    assert.deepEqual(
      parseHttpHandlerMetadata(
        new Metadata({
          proxyAgent: 'x/1',
          authBasicRealm: 'r',
          readTimeout: '5s',
          udp: 'true',
          header: { foo: 'bar' },
        }),
      ),
      { proxyAgent: 'x/1', realm: 'r', readTimeoutMs: 5000, udp: true, header: { foo: 'bar' } },
    );
    assert.equal(
      parseHttpHandlerMetadata(new Metadata({ 'http.proxyAgent': 'a', proxyAgent: 'b' })).proxyAgent,
      'a',
    );
    assert.equal(parseHttpHandlerMetadata(new Metadata({ readTimeout: '0s' })).readTimeoutMs, 15000);
  });
});

describe('HttpHandler: write boundaries', () => {
  it('the 200 is one write of its own, before data the target sends first', async () => {
    const writes: string[] = [];
    const client = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        writes.push(chunk.toString('latin1'));
        cb();
      },
    });
    // The target greets first (like SMTP): its bytes are available the moment the dial resolves.
    const upstream = new Duplex({
      read() {},
      write(_c, _e, cb) {
        cb();
      },
    });
    upstream.push('220 greeting\r\n');
    const router: Router = {
      dial: (): Promise<Conn> => Promise.resolve(upstream),
      close: (): Promise<void> => Promise.resolve(),
    };
    const done = new HttpHandler().handle(client, {
      router,
      log: silentLogger,
      signal: new AbortController().signal,
      clientAddr: 'test',
    });
    client.push('CONNECT smtp.example:25 HTTP/1.1\r\n\r\n');
    await waitFor(() => writes.length >= 2, 5000, 'the 200 and the greeting');
    assert.deepEqual(writes, [OK_200, '220 greeting\r\n']);
    client.push(null);
    upstream.push(null);
    await bounded(done, 5000, 'the handler to finish after both ends');
  });
});
