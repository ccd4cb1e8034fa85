// The `tls` dialer: GOST's SNI and verification rules, timeouts and cancellation.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { TunnelError } from '../../src/core/errors.js';
import { Metadata } from '../../src/core/metadata.js';
import { silentLogger } from '../../src/core/logger.js';
import type { Conn, DialContext } from '../../src/core/types.js';
import { TlsDialer } from '../../src/dialer/tls/dialer.js';
import { parseTlsDialerMetadata } from '../../src/dialer/tls/metadata.js';
import { resolveClientTls } from '../../src/common/tls-server.js';
import { makeTestPki, type TestPki } from '../tls/pki.js';
import { echoConn, echoRoundTrip } from '../tls/support.js';

let pki: TestPki;
before(async () => {
  pki = await makeTestPki();
});
after(() => pki.cleanup());

/** A DialContext that reaches 127.0.0.1:<port of addr> whatever host the node address names. */
function loopbackContext(signal?: AbortSignal): DialContext & { sockets: net.Socket[] } {
  const sockets: net.Socket[] = [];
  return {
    log: silentLogger,
    signal,
    sockets,
    connect: (addr) =>
      new Promise<Conn>((resolve, reject) => {
        const s = net.connect(Number(addr.slice(addr.lastIndexOf(':') + 1)), '127.0.0.1');
        sockets.push(s);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      }),
  };
}

/** A TLS echo server with the test PKI's localhost/127.0.0.1 certificate; records SNI per connection. */
async function tlsEchoServer(t: {
  after: (fn: () => void) => void;
}): Promise<{ port: number; sni: (string | false | null)[] }> {
  const sni: (string | false | null)[] = [];
  const server = tls.createServer({ cert: pki.server.cert, key: pki.server.key }, (s) => {
    sni.push(s.servername);
    echoConn(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, sni };
}

/** A TCP server that accepts and never says anything. */
async function silentServer(t: { after: (fn: () => void) => void }): Promise<number> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => sockets.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

describe('TlsDialer', () => {
  test('SNI: the node host name, never an IP literal, and serverName wins', async (t) => {
    const srv = await tlsEchoServer(t);
    const plain = new TlsDialer({ tls: { secure: false } });
    for (const addr of [`localhost:${srv.port}`, `127.0.0.1:${srv.port}`]) {
      const c = await plain.dial(addr, loopbackContext());
      assert.deepEqual(await echoRoundTrip(c, Buffer.from('x')), Buffer.from('x'));
    }
    const named = new TlsDialer({ tls: { secure: false, serverName: 'tunnel.example' } });
    const c = await named.dial(`localhost:${srv.port}`, loopbackContext());
    await echoRoundTrip(c, Buffer.from('y'));
    assert.deepEqual(srv.sni, ['localhost', false, 'tunnel.example']);
  });

  test('secure=true checks the chain and the name from the node address (DNS or IP SAN)', async (t) => {
    const srv = await tlsEchoServer(t);
    const dialer = new TlsDialer({ tls: await resolveClientTls({ secure: true, caFile: pki.files.caCert }) });
    for (const addr of [`localhost:${srv.port}`, `127.0.0.1:${srv.port}`]) {
      const c = await dialer.dial(addr, loopbackContext());
      assert.deepEqual(await echoRoundTrip(c, Buffer.from('ok')), Buffer.from('ok'));
    }
    // A name the certificate does not carry: refused, and the carrier is closed.
    const ctx = loopbackContext();
    await assert.rejects(dialer.dial(`tunnel.example:${srv.port}`, ctx), (err: unknown) => {
      assert.ok(err instanceof TunnelError && err.code === 'ERR_TLS', String(err));
      assert.match(err.message, /certificate does not match.*tunnel\.example/);
      return true;
    });
    assert.ok(ctx.sockets[0]?.destroyed, 'carrier destroyed');
  });

  test('without a CA, secure=true rejects the test CA’s certificate as untrusted', async (t) => {
    const srv = await tlsEchoServer(t);
    await assert.rejects(
      new TlsDialer({ tls: { secure: true } }).dial(`localhost:${srv.port}`, loopbackContext()),
      (err: unknown) =>
        err instanceof TunnelError &&
        err.code === 'ERR_TLS' &&
        /server certificate rejected/.test(err.message),
    );
  });

  test('secure=true with nothing to verify against (`:port`, no serverName) fails clearly', async () => {
    const ctx = loopbackContext();
    await assert.rejects(
      new TlsDialer({ tls: { secure: true } }).dial(':1', {
        ...ctx,
        connect: () => Promise.resolve(new net.Socket()),
      }),
      (err: unknown) =>
        err instanceof TunnelError && err.code === 'ERR_TLS' && /serverName/.test(err.message),
    );
  });

  test('handshakeTimeout bounds a server that never answers (ERR_DIAL_TIMEOUT)', async (t) => {
    const port = await silentServer(t);
    const ctx = loopbackContext();
    const started = Date.now();
    await assert.rejects(
      new TlsDialer({ tls: { secure: false }, handshakeTimeout: 200 }).dial(`127.0.0.1:${port}`, ctx),
      (err: unknown) => err instanceof TunnelError && err.code === 'ERR_DIAL_TIMEOUT',
    );
    assert.ok(Date.now() - started < 3000);
    assert.ok(ctx.sockets[0]?.destroyed, 'carrier destroyed');
  });

  test('the caller’s signal aborts the handshake (ERR_ABORTED)', async (t) => {
    const port = await silentServer(t);
    const ac = new AbortController();
    const ctx = loopbackContext(ac.signal);
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(
      new TlsDialer({ tls: { secure: false }, handshakeTimeout: 10_000 }).dial(`127.0.0.1:${port}`, ctx),
      (err: unknown) => err instanceof TunnelError && err.code === 'ERR_ABORTED',
    );
    assert.ok(ctx.sockets[0]?.destroyed);
  });

  test('a connect failure is passed through', async () => {
    const boom = new TunnelError('ERR_DIAL', 'no route');
    await assert.rejects(
      new TlsDialer({ tls: { secure: false } }).dial('127.0.0.1:1', {
        log: silentLogger,
        connect: () => Promise.reject(boom),
      }),
      (err: unknown) => err === boom,
    );
  });
});

describe('parseTlsDialerMetadata', () => {
  test('handshakeTimeout, default none', () => {
    assert.deepEqual(parseTlsDialerMetadata(new Metadata({})), { handshakeTimeout: 0 });
    assert.deepEqual(parseTlsDialerMetadata(new Metadata({ handshakeTimeout: '3s' })), {
      handshakeTimeout: 3000,
    });
  });
});
