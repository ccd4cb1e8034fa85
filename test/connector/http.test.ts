import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { HttpConnector, HttpProxyStatusError } from '../../src/connector/http/connector.js';
import { parseHttpConnectorMetadata } from '../../src/connector/http/metadata.js';
import { HttpHandler } from '../../src/handler/http/handler.js';
import { createAuthenticator } from '../../src/common/auth.js';
import { TunnelError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { Metadata } from '../../src/core/metadata.js';
import { countWrites, fakeServer } from '../helpers/fake-server.js';
import {
  readExactly,
  readToEnd,
  startEchoServer,
  startHandlerServer,
  waitFor,
} from '../helpers/proxy-test-utils.js';
import { bounded } from '../helpers/net.js';

const ctx = { log: silentLogger };
const REQ = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: Go-http-client/1.1\r\n';

describe('HttpConnector', () => {
  it('writes GOST CONNECT bytes in one write and keeps bytes after the 200', async (t) => {
    const srv = await fakeServer(t, (s) => {
      s.once('data', () =>
        s.write('HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\nEXTRA'),
      );
    });
    const conn = await srv.dial();
    const writes = countWrites(conn);
    const out = await new HttpConnector({
      auth: { username: 'user', password: 'pass' },
      header: { foo: 'bar' },
    }).connect(conn, 'tcp', 'example.com:443', ctx);
    assert.equal(out, conn);
    assert.equal(writes.count, 1);
    assert.equal(
      srv.received[0]?.toString(),
      `${REQ}Foo: bar\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\nProxy-Connection: keep-alive\r\n\r\n`,
    );
    assert.equal((await readExactly(out, 5)).toString(), 'EXTRA');
  });

  it('accepts a 200 with any reason phrase, split across packets', async (t) => {
    const srv = await fakeServer(t, (s) => {
      s.once('data', () => {
        s.write('HTTP/1.0 200');
        setTimeout(() => s.write(' OK\r\n\r'), 20);
        setTimeout(() => s.write('\n'), 40);
      });
    });
    const conn = await srv.dial();
    const out = await bounded(
      new HttpConnector().connect(conn, 'tcp', 'a:1', ctx),
      5000,
      'the connector to accept the split 200',
    );
    assert.equal(out, conn, 'the tunnel is the dialed connection');
    assert.equal(out.destroyed, false);
  });

  it('a non-200 status rejects with the status line and destroys the conn', async (t) => {
    const srv = await fakeServer(t, (s) => {
      s.once('data', () =>
        s.write(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="gost"\r\n\r\n',
        ),
      );
    });
    const conn = await srv.dial();
    await assert.rejects(new HttpConnector().connect(conn, 'tcp', 'example.com:443', ctx), (err: unknown) => {
      assert.ok(err instanceof HttpProxyStatusError);
      assert.equal(err.code, 'ERR_HTTP_PROXY_STATUS');
      assert.equal(err.statusCode, 407);
      assert.match(err.message, /407 Proxy Authentication Required/);
      return true;
    });
    assert.ok(conn.destroyed);
  });

  it('garbage, EOF, timeout and abort reject with clear codes', async (t) => {
    const garbage = await fakeServer(t, (s) => s.once('data', () => s.write('SSH-2.0-OpenSSH\r\n\r\n')));
    await assert.rejects(
      new HttpConnector().connect(await garbage.dial(), 'tcp', 'a:1', ctx),
      (e: unknown) => e instanceof TunnelError && e.code === 'ERR_HTTP_PROXY_STATUS',
    );

    const eof = await fakeServer(t, (s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\n')));
    await assert.rejects(
      new HttpConnector().connect(await eof.dial(), 'tcp', 'a:1', ctx),
      (e: unknown) => e instanceof TunnelError && e.code === 'ERR_HTTP_PROXY_STATUS',
    );

    const silent = await fakeServer(t, () => {});
    const conn = await silent.dial();
    const t0 = Date.now();
    await assert.rejects(
      new HttpConnector({ timeoutMs: 100 }).connect(conn, 'tcp', 'a:1', ctx),
      (e: unknown) => e instanceof TunnelError && e.code === 'ERR_DIAL_TIMEOUT',
    );
    assert.ok(Date.now() - t0 < 2000);
    assert.ok(conn.destroyed);

    const ac = new AbortController();
    const p = new HttpConnector().connect(await silent.dial(), 'tcp', 'a:1', { ...ctx, signal: ac.signal });
    ac.abort();
    await assert.rejects(
      bounded(p, 5000, 'the aborted connect to reject'),
      (e: unknown) => e instanceof TunnelError && e.code === 'ERR_ABORTED',
    );

    await assert.rejects(
      new HttpConnector().connect(await silent.dial(), 'udp', 'a:1', ctx),
      /not supported/,
    );
  });

  it('end to end against HttpHandler with auth', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(
      t,
      new HttpHandler({ authenticator: createAuthenticator([{ username: 'u', password: 'p' }]) }),
    );
    const dial = async () => {
      const s = net.connect({ port: proxy.port, host: '127.0.0.1' });
      s.on('error', () => {});
      t.after(() => s.destroy());
      await new Promise((r) => s.once('connect', r));
      return s;
    };
    const conn = await new HttpConnector({ auth: { username: 'u', password: 'p' } }).connect(
      await dial(),
      'tcp',
      `127.0.0.1:${echo.port}`,
      ctx,
    );
    conn.write('through');
    assert.equal((await readExactly(conn as net.Socket, 7)).toString(), 'through');
    const rest = readToEnd(conn as net.Socket);
    conn.end();
    await rest;
    await assert.rejects(
      new HttpConnector().connect(await dial(), 'tcp', `127.0.0.1:${echo.port}`, ctx),
      /^.*407 Proxy Authentication Required/,
    );
    await waitFor(() => proxy.router.dials.length === 1);
  });

  it('metadata: header and timeout', () => {
    assert.deepEqual(parseHttpConnectorMetadata(new Metadata({})), {});
    assert.deepEqual(parseHttpConnectorMetadata(new Metadata({ header: { a: 'b' }, timeout: '5s' })), {
      header: { a: 'b' },
      timeoutMs: 5000,
    });
  });
});
