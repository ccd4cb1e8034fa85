// The `tls` listener with the `tls` dialer, through loopback sockets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '../../src/core/metadata.js';
import type { Conn, ServerTlsOptions } from '../../src/core/types.js';
import { silentLogger } from '../../src/core/logger.js';
import { TlsListener } from '../../src/listener/tls/listener.js';
import { parseTlsListenerMetadata } from '../../src/listener/tls/metadata.js';
import { TlsDialer } from '../../src/dialer/tls/dialer.js';
import { resolveClientTls, resolveServerTls } from '../../src/common/tls-server.js';
import { tcpDialContext } from '../helpers/mws.js';
import { bounded, readAll, waitFor } from '../helpers/net.js';
import { makeTestPki, type TestPki } from '../tls/pki.js';
import { echoConn, echoRoundTrip, expectRefused } from '../tls/support.js';

let pki: TestPki;
let emptyDir: string;
before(async () => {
  pki = await makeTestPki();
  emptyDir = mkdtempSync(join(tmpdir(), 'gost-ts-cwd-'));
});
after(() => {
  pki.cleanup();
  rmSync(emptyDir, { recursive: true, force: true });
});

async function startListener(
  t: { after: (fn: () => Promise<void>) => void },
  serverTls: ServerTlsOptions,
  onConn: (c: Conn) => void = echoConn,
  handshakeTimeout?: number,
): Promise<TlsListener> {
  const l = new TlsListener({ addr: '127.0.0.1:0', tls: serverTls, handshakeTimeout, log: silentLogger });
  await l.listen(onConn);
  t.after(() => l.close());
  return l;
}

describe('TlsListener + TlsDialer', () => {
  test('carry bytes both ways with the default self-signed certificate (client unverified)', async (t) => {
    const accepted: Conn[] = [];
    const l = await startListener(
      t,
      await resolveServerTls(undefined, silentLogger, { cwd: emptyDir }),
      (c) => {
        accepted.push(c);
        echoConn(c);
      },
    );
    const dialer = new TlsDialer({ tls: await resolveClientTls(undefined) });
    const conn = await dialer.dial(l.address(), tcpDialContext());
    const data = randomBytes(1024 * 1024 + 3);
    assert.deepEqual(await echoRoundTrip(conn, data), data);
    assert.equal(accepted.length, 1);
    assert.equal(accepted[0]?.remoteAddress, '127.0.0.1');
    assert.equal(conn.remotePort, Number(l.address().split(':')[1]));
  });

  test('each dial is its own TLS connection; everything written before end() arrives before EOF', async (t) => {
    const received: Promise<Buffer>[] = [];
    const l = await startListener(
      t,
      await resolveServerTls({ certFile: pki.files.serverCert, keyFile: pki.files.serverKey }, silentLogger),
      (c) => {
        c.on('error', () => {});
        received.push(readAll(c));
      },
    );
    const dialer = new TlsDialer({ tls: await resolveClientTls({ secure: true, caFile: pki.files.caCert }) });
    const a = await dialer.dial(l.address(), tcpDialContext());
    const b = await dialer.dial(l.address(), tcpDialContext());
    for (const c of [a, b]) c.on('error', () => {});
    a.end('from a');
    b.end('from b');
    await waitFor(() => received.length === 2, 5000, 'two accepted connections');
    const got = (await Promise.all(received)).map((x) => x.toString()).sort();
    assert.deepEqual(got, ['from a', 'from b']);
  });

  test('mutual TLS: a client without a certificate never reaches the handler; with one it does', async (t) => {
    let handled = 0;
    const l = await startListener(
      t,
      await resolveServerTls(
        { certFile: pki.files.serverCert, keyFile: pki.files.serverKey, caFile: pki.files.caCert },
        silentLogger,
      ),
      (c) => {
        handled += 1;
        echoConn(c);
      },
    );
    const anonymous = new TlsDialer({ tls: await resolveClientTls({}) });
    // TLS 1.3 finishes the client side before the server's verdict: the refusal arrives as an
    // error (or close) on the connection instead of a failed dial.
    const refused = await anonymous.dial(l.address(), tcpDialContext()).then(
      (c) => expectRefused(c),
      (err: Error) => err,
    );
    if (refused !== undefined) assert.match(refused.message, /certificate/i);
    assert.equal(handled, 0);

    const withCert = new TlsDialer({
      tls: await resolveClientTls({ certFile: pki.files.clientCert, keyFile: pki.files.clientKey }),
    });
    const conn = await withCert.dial(l.address(), tcpDialContext());
    assert.deepEqual(await echoRoundTrip(conn, Buffer.from('hello')), Buffer.from('hello'));
    assert.equal(handled, 1);
  });

  test('a plaintext client is dropped without reaching the handler', async (t) => {
    let handled = 0;
    const l = await startListener(
      t,
      await resolveServerTls(undefined, silentLogger, { cwd: emptyDir }),
      () => {
        handled += 1;
      },
    );
    const port = Number(l.address().split(':')[1]);
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    await once(s, 'connect');
    s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await bounded(once(s, 'close'), 5000, 'the plain-text client to be closed');
    assert.equal(handled, 0);
  });

  test('a client that never starts its handshake is closed after handshakeTimeout', async (t) => {
    const l = await startListener(
      t,
      await resolveServerTls(undefined, silentLogger, { cwd: emptyDir }),
      echoConn,
      200,
    );
    const s = net.connect(Number(l.address().split(':')[1]), '127.0.0.1');
    s.on('error', () => {});
    await once(s, 'connect');
    const started = Date.now();
    await bounded(once(s, 'close'), 5000, 'the handshake timeout to close the idle client');
    const waited = Date.now() - started;
    assert.ok(waited >= 150, `closed after ${waited} ms, before the 200 ms handshake timeout`);
  });

  test('close() ends live connections', async (t) => {
    const l = new TlsListener({
      addr: '127.0.0.1:0',
      tls: await resolveServerTls(undefined, silentLogger, { cwd: emptyDir }),
    });
    await l.listen(echoConn);
    const conn = await new TlsDialer({ tls: { secure: false } }).dial(l.address(), tcpDialContext());
    conn.on('error', () => {});
    t.after(() => conn.destroy());
    const closed = once(conn, 'close');
    await bounded(l.close(), 5000, 'listener close()');
    await bounded(closed, 5000, 'the live connection to close');
    assert.equal(conn.destroyed, true, 'the live connection is closed');
  });

  test('serves TLS 1.3 without ALPN, as GOST', async (t) => {
    const l = await startListener(t, await resolveServerTls(undefined, silentLogger, { cwd: emptyDir }));
    const s = tls.connect({
      port: Number(l.address().split(':')[1]),
      host: '127.0.0.1',
      rejectUnauthorized: false,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    t.after(() => s.destroy());
    await once(s, 'secureConnect');
    assert.equal(s.alpnProtocol, false);
    assert.equal(s.getProtocol(), 'TLSv1.3');
  });
});

describe('parseTlsListenerMetadata', () => {
  test('reads handshakeTimeout, TCP keepalive and maxHandshakes', () => {
    assert.deepEqual(parseTlsListenerMetadata(new Metadata({})), {
      handshakeTimeout: 0,
      keepAlive: false,
      keepAliveIdle: 0,
      maxHandshakes: 1024,
    });
    assert.deepEqual(
      parseTlsListenerMetadata(
        new Metadata({
          handshakeTimeout: '5s',
          keepalive: 'true',
          'keepalive.idle': '30s',
          maxHandshakes: '8',
        }),
      ),
      { handshakeTimeout: 5000, keepAlive: true, keepAliveIdle: 30_000, maxHandshakes: 8 },
    );
  });
});
