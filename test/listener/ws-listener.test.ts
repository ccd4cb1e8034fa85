// GOST's non-multiplexed `ws`/`wss` listener with the `ws`/`wss` dialer, through loopback sockets.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Metadata } from '../../src/core/metadata.js';
import { TunnelError } from '../../src/core/errors.js';
import type { ClientTlsOptions, Conn, ServerTlsOptions } from '../../src/core/types.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import { WsListener } from '../../src/listener/ws/listener.js';
import { parseWsListenerMetadata } from '../../src/listener/ws/metadata.js';
import { WsDialer } from '../../src/dialer/ws/dialer.js';
import { parseWsDialerMetadata } from '../../src/dialer/ws/metadata.js';
import { WebSocketDuplex } from '../../src/transport/websocket/ws-duplex.js';
import { resolveClientTls, resolveServerTls } from '../../src/common/tls-server.js';
import { tcpDialContext } from '../helpers/mws.js';
import { bounded, readAll, waitFor } from '../helpers/net.js';
import { makeTestPki, type TestPki } from '../tls/pki.js';
import { echoConn, echoRoundTrip, recordingLogger } from '../tls/support.js';

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

type T = { after: (fn: () => Promise<void> | void) => void };

async function startWs(
  t: T,
  md: Record<string, unknown>,
  onConn: (c: Conn) => void = echoConn,
  tls?: ServerTlsOptions,
  log: Logger = silentLogger,
): Promise<WsListener> {
  const l = new WsListener({ ...parseWsListenerMetadata(new Metadata(md)), addr: '127.0.0.1:0', tls, log });
  await l.listen(onConn);
  t.after(() => l.close());
  return l;
}

function wsDialer(md: Record<string, unknown> = {}, tls?: ClientTlsOptions): WsDialer {
  return new WsDialer({ ...parseWsDialerMetadata(new Metadata(md)), tls });
}

describe('ws listener + dialer', () => {
  test('carry bytes both ways, and every dial is its own WebSocket (one upgrade per dial)', async (t) => {
    const accepted: Conn[] = [];
    const l = await startWs(t, {}, (c) => {
      accepted.push(c);
      echoConn(c);
    });
    const dialer = wsDialer();
    const conns = await Promise.all([0, 1, 2].map(() => dialer.dial(l.address(), tcpDialContext())));
    assert.ok(conns.every((c) => c instanceof WebSocketDuplex));
    const results = await Promise.all(
      conns.map((c, i) => {
        const data = randomBytes(200_000 + i);
        return echoRoundTrip(c, data).then((got) => assert.deepEqual(got, data));
      }),
    );
    assert.equal(results.length, 3);
    assert.equal(l.upgradeCount, 3, 'one WebSocket upgrade per dial');
    assert.equal(accepted.length, 3);
    const ports = new Set(accepted.map((c) => c.remotePort));
    assert.equal(ports.size, 3, 'three distinct TCP connections');
    await dialer.close(); // nothing pooled: a no-op
  });

  test('path and host metadata reach the listener; only `path` upgrades', async (t) => {
    const log = recordingLogger();
    const l = await startWs(t, { path: '/tunnel' }, echoConn, undefined, log);
    const conn = await wsDialer({ path: '/tunnel', host: 'cdn.example:443' }).dial(
      l.address(),
      tcpDialContext(),
    );
    assert.deepEqual(await echoRoundTrip(conn, Buffer.from('hi')), Buffer.from('hi'));
    const accepted = log.entries.find((e) => e.msg === 'ws: connection accepted');
    assert.equal(accepted?.obj['host'], 'cdn.example:443');

    await assert.rejects(wsDialer({ path: '/ws' }).dial(l.address(), tcpDialContext()), (err: unknown) => {
      assert.ok(err instanceof TunnelError);
      assert.equal(err.code, 'ERR_WS_HANDSHAKE');
      assert.match(err.message, /404/);
      return true;
    });
    assert.equal(l.upgradeCount, 1);
  });

  test('ending one side ends the other, after all data', async (t) => {
    const received: Promise<Buffer>[] = [];
    const l = await startWs(t, {}, (c) => {
      c.on('error', () => {});
      received.push(readAll(c));
    });
    const conn = await wsDialer().dial(l.address(), tcpDialContext());
    conn.on('error', () => {});
    const data = randomBytes(300_000);
    conn.end(data);
    await waitFor(() => received.length === 1, 5000, 'the accepted connection');
    assert.deepEqual(await bounded(received[0] as Promise<Buffer>, 10_000, 'the end of the stream'), data);
  });

  test('close() closes live connections', async (t) => {
    const l = await startWs(t, {});
    const conn = await wsDialer().dial(l.address(), tcpDialContext());
    conn.on('error', () => {});
    let closedAt = 0;
    const closed = once(conn, 'close').then(() => (closedAt = Date.now()));
    await bounded(l.close(), 5000, 'listener close()');
    await bounded(closed, 5000, 'the live connection to close');
    assert.ok(closedAt > 0 && conn.destroyed, 'the live connection is closed');
  });

  test('a connection upgraded while the listener is not accepting is closed', async (t) => {
    const l = await startWs(t, {});
    (l as unknown as { onConn: undefined }).onConn = undefined; // as during close()
    const conn = await wsDialer().dial(l.address(), tcpDialContext());
    conn.on('error', () => {});
    const got = readAll(conn);
    conn.write('anyone there?');
    await bounded(once(conn, 'close'), 5000, 'the unaccepted connection to close');
    assert.equal((await got).length, 0, 'nobody echoed');
    assert.equal(conn.destroyed, true);
  });
});

describe('wss listener + dialer', () => {
  test('default self-signed certificate, unverified client: bytes both ways', async (t) => {
    const l = await startWs(
      t,
      {},
      echoConn,
      await resolveServerTls(undefined, silentLogger, { cwd: emptyDir }),
    );
    const conn = await wsDialer({}, await resolveClientTls(undefined)).dial(l.address(), tcpDialContext());
    const data = randomBytes(500_000);
    assert.deepEqual(await echoRoundTrip(conn, data), data);
    assert.equal(l.upgradeCount, 1);
  });

  test('CA-issued certificate: secure=true + caFile passes, a wrong CA fails with ERR_TLS', async (t) => {
    const serverTls = await resolveServerTls(
      { certFile: pki.files.serverCert, keyFile: pki.files.serverKey },
      silentLogger,
    );
    const l = await startWs(t, {}, echoConn, serverTls);
    const ok = await wsDialer({}, await resolveClientTls({ secure: true, caFile: pki.files.caCert })).dial(
      l.address(),
      tcpDialContext(),
    );
    assert.deepEqual(await echoRoundTrip(ok, Buffer.from('ok')), Buffer.from('ok'));
    await assert.rejects(
      wsDialer({}, await resolveClientTls({ secure: true, caFile: pki.files.otherCaCert })).dial(
        l.address(),
        tcpDialContext(),
      ),
      (err: unknown) =>
        err instanceof TunnelError && err.code === 'ERR_TLS' && /certificate/.test(err.message),
    );
    assert.equal(l.upgradeCount, 1);
  });

  test('plaintext WebSocket to a wss port gets the connection closed, never an upgrade', async (t) => {
    const l = await startWs(
      t,
      {},
      echoConn,
      await resolveServerTls(undefined, silentLogger, { cwd: emptyDir }),
    );
    await assert.rejects(wsDialer().dial(l.address(), tcpDialContext()), TunnelError);
    assert.equal(l.upgradeCount, 0);
  });

  test('a client stalled before its TLS handshake is closed after handshakeTimeout', async (t) => {
    const l = await startWs(
      t,
      { handshakeTimeout: '200ms' },
      echoConn,
      await resolveServerTls(undefined, silentLogger, { cwd: emptyDir }),
    );
    const s = net.connect(Number(l.address().split(':')[1]), '127.0.0.1');
    s.on('error', () => {});
    await once(s, 'connect');
    await bounded(once(s, 'close'), 5000, 'handshakeTimeout (200 ms) to close the stalled client');
    assert.equal(s.destroyed, true);
  });
});

describe('ws metadata', () => {
  test('listener: ws.* keys as mws, no mux keys', () => {
    const md = new Metadata({ 'ws.path': '/x', backlog: '5', keepalive: 'true', enableCompression: 'true' });
    const parsed = parseWsListenerMetadata(md);
    assert.equal(parsed.ws.path, '/x');
    assert.equal(parsed.ws.enableCompression, true);
    assert.equal(parsed.backlog, 5);
    assert.equal(parsed.keepAlive, true);
    assert.equal('mux' in parsed, false);
  });

  test('dialer: host, path, keepalive/ttl pings, no mux keys', () => {
    const parsed = parseWsDialerMetadata(
      new Metadata({ host: 'cdn.example', path: 'ws2', keepalive: 'true', ttl: '2s' }),
    );
    assert.equal(parsed.host, 'cdn.example');
    assert.equal(parsed.ws.path, '/ws2');
    assert.equal(parsed.pingInterval, 2000);
    assert.equal('mux' in parsed, false);
    assert.deepEqual(parseWsDialerMetadata(new Metadata({})).host, undefined);
  });
});
