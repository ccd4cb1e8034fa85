/**
 * mwss against the Go peer (gorilla/websocket + xtaci/smux over Go's crypto/tls, wired as GOST does):
 * facts §11 scenario 3 — both directions with GOST's default self-signed certificate and an
 * unverifying client, then a verified chain (secure=true + caFile) against a Go server.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goPeerMissingReason, startGoPeer } from '../helpers/go-peer.js';
import { tcpDialContext } from '../helpers/mws.js';
import { Metadata } from '../../src/core/metadata.js';
import { TunnelError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import type { ClientTlsOptions, Conn } from '../../src/core/types.js';
import { MwsDialer } from '../../src/dialer/mws/dialer.js';
import { parseMwsDialerMetadata } from '../../src/dialer/mws/metadata.js';
import { MwsListener } from '../../src/listener/mws/listener.js';
import { parseMwsListenerMetadata } from '../../src/listener/mws/metadata.js';
import { resolveClientTls, resolveServerTls } from '../../src/common/tls-server.js';
import { makeTestPki, type TestPki } from '../tls/pki.js';
import { echoRoundTrip, recordingLogger } from '../tls/support.js';

const skip = goPeerMissingReason();
if (skip) console.warn(`\n*** TLS interop tests SKIPPED: ${skip} ***\n`);

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

function mwssDialer(tls: ClientTlsOptions): MwsDialer {
  return new MwsDialer({ ...parseMwsDialerMetadata(new Metadata({})), tls, sessionTimeout: 10_000 });
}

/** TS side of a GOST server: answers the tunnel CONNECT in its own frame, then echoes. */
function connectThenEcho(conn: Conn): void {
  let head = Buffer.alloc(0);
  conn.on('error', () => {});
  const onData = (c: Buffer): void => {
    head = Buffer.concat([head, c]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    conn.off('data', onData);
    conn.write('HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\n');
    const rest = head.subarray(end + 4);
    if (rest.length > 0) conn.write(rest);
    conn.pipe(conn);
  };
  conn.on('data', onData);
}

describe('TS mwss client → Go mwss server', { skip }, () => {
  test('Go’s default self-signed certificate, unverified client (GOST default): streams echo both ways', async (t) => {
    const peer = await startGoPeer('server', ['-tls', '-handler', 'echo']);
    const dialer = mwssDialer(await resolveClientTls(undefined));
    t.after(async () => (await dialer.close(), await peer.stop()));
    const streams = await Promise.all([0, 1, 2, 3].map(() => dialer.dial(peer.addr, tcpDialContext())));
    const payloads = streams.map(() => randomBytes(512 * 1024));
    const echoed = await Promise.all(streams.map((s, i) => echoRoundTrip(s, payloads[i] as Buffer)));
    echoed.forEach((e, i) => assert.deepEqual(e, payloads[i]));
    assert.equal(dialer.sessionCount, 1);
    assert.equal(peer.lines.filter((l) => l.startsWith('SESSION_OPEN')).length, 1);
  });

  test('Go’s default certificate is refused by a verifying client (secure=true)', async (t) => {
    const peer = await startGoPeer('server', ['-tls', '-handler', 'echo']);
    const dialer = mwssDialer({ secure: true, serverName: 'gost.run' });
    t.after(async () => (await dialer.close(), await peer.stop()));
    await assert.rejects(
      dialer.dial(peer.addr, tcpDialContext()),
      (err: unknown) =>
        err instanceof TunnelError && err.code === 'ERR_TLS' && /certificate/.test(err.message),
    );
  });

  test('CA-issued certificate on the Go server: secure=true + caFile passes, a wrong CA fails', async (t) => {
    const peer = await startGoPeer('server', [
      '-tls',
      '-cert',
      pki.files.serverCert,
      '-key',
      pki.files.serverKey,
      '-handler',
      'echo',
    ]);
    const good = mwssDialer(
      await resolveClientTls({ secure: true, caFile: pki.files.caCert, serverName: 'localhost' }),
    );
    const bad = mwssDialer(await resolveClientTls({ secure: true, caFile: pki.files.otherCaCert }));
    t.after(async () => (await good.close(), await bad.close(), await peer.stop()));
    const s = await good.dial(peer.addr, tcpDialContext());
    const data = randomBytes(100_000);
    assert.deepEqual(await echoRoundTrip(s, data), data);
    await assert.rejects(bad.dial(peer.addr, tcpDialContext()), (err: unknown) => {
      assert.ok(err instanceof TunnelError && err.code === 'ERR_TLS', String(err));
      assert.match(err.message, /certificate/);
      return true;
    });
  });
});

describe('Go mwss client → TS mwss server', { skip }, () => {
  test('TS default self-signed certificate (fingerprint logged), Go client unverified: bytes both ways', async (t) => {
    const log = recordingLogger();
    const listener = new MwsListener({
      ...parseMwsListenerMetadata(new Metadata({})),
      addr: '127.0.0.1:0',
      tls: await resolveServerTls(undefined, log, { cwd: emptyDir }),
      log: silentLogger,
    });
    await listener.listen(connectThenEcho);
    assert.ok(
      log.entries.some((e) => e.msg === 'tls: generated self-signed certificate' && e.obj['fingerprint']),
    );
    const peer = await startGoPeer('client', [
      '-server',
      listener.address(),
      '-tls',
      '-forward',
      '127.0.0.1:9',
    ]);
    t.after(async () => (await peer.stop(), await listener.close()));
    const results = await Promise.all(
      [0, 1, 2].map(async () => {
        const c = net.connect(peer.port, '127.0.0.1');
        await once(c, 'connect');
        const data = randomBytes(300_000);
        return { data, got: await echoRoundTrip(c, data) };
      }),
    );
    for (const r of results) assert.deepEqual(r.got, r.data);
    assert.equal(listener.upgradeCount, 1, 'one WebSocket session over TLS carried every connection');
  });

  test('a Go client without TLS cannot talk to the TS mwss port', async (t) => {
    const listener = new MwsListener({
      ...parseMwsListenerMetadata(new Metadata({})),
      addr: '127.0.0.1:0',
      tls: await resolveServerTls(undefined, silentLogger, { cwd: emptyDir }),
      log: silentLogger,
    });
    await listener.listen(connectThenEcho);
    const peer = await startGoPeer('client', ['-server', listener.address(), '-forward', '127.0.0.1:9']);
    t.after(async () => (await peer.stop(), await listener.close()));
    const c = net.connect(peer.port, '127.0.0.1');
    c.on('error', () => {}); // a reset is as good as a close here
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    await once(c, 'connect');
    c.write('hello');
    await closed;
    assert.equal(listener.upgradeCount, 0);
  });
});
