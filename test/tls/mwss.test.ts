// mwss end to end through loopback sockets: GOST's TLS defaults (self-signed server certificate,
// unverified client), verified chains, mutual TLS, SNI, and GOST's "CA but no host name check".
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Metadata } from '../../src/core/metadata.js';
import { TunnelError } from '../../src/core/errors.js';
import type { ClientTlsOptions, ServerTlsOptions } from '../../src/core/types.js';
import { silentLogger } from '../../src/core/logger.js';
import { MwsDialer } from '../../src/dialer/mws/dialer.js';
import { parseMwsDialerMetadata } from '../../src/dialer/mws/metadata.js';
import { MwsListener } from '../../src/listener/mws/listener.js';
import { parseMwsListenerMetadata } from '../../src/listener/mws/metadata.js';
import { certificateFingerprint, resolveClientTls, resolveServerTls } from '../../src/common/tls-server.js';
import { tcpDialContext } from '../helpers/mws.js';
import { makeTestPki, type TestPki } from './pki.js';
import { echoConn, echoRoundTrip, recordingLogger } from './support.js';

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

interface Pair {
  listener: MwsListener;
  dialer: MwsDialer;
  /** TLS sockets the listener accepted, in order (to look at SNI and the client certificate). */
  tlsSockets: TLSSocket[];
}

/** An mwss listener on 127.0.0.1:0 echoing every stream, and an mwss dialer; closed after the test. */
async function mwssPair(
  t: { after: (fn: () => Promise<void>) => void },
  serverTls: ServerTlsOptions,
  clientTls: ClientTlsOptions,
  dialerMd: Record<string, unknown> = {},
): Promise<Pair> {
  const listener = new MwsListener({
    ...parseMwsListenerMetadata(new Metadata({})),
    addr: '127.0.0.1:0',
    tls: serverTls,
    log: silentLogger,
  });
  const tlsSockets: TLSSocket[] = [];
  (
    listener as unknown as { host: { server: { on(e: string, f: (s: TLSSocket) => void): void } } }
  ).host.server.on('secureConnection', (s) => tlsSockets.push(s));
  await listener.listen(echoConn);
  const dialer = new MwsDialer({
    ...parseMwsDialerMetadata(new Metadata(dialerMd)),
    tls: clientTls,
    sessionTimeout: 5_000,
  });
  t.after(async () => {
    await dialer.close();
    await listener.close();
  });
  return { listener, dialer, tlsSockets };
}

async function assertEchoes(p: Pair, addr = p.listener.address()): Promise<void> {
  const data = randomBytes(100_000);
  const stream = await p.dialer.dial(addr, tcpDialContext());
  assert.deepEqual(await echoRoundTrip(stream, data), data);
}

const isTlsError = (err: unknown): boolean => err instanceof TunnelError && err.code === 'ERR_TLS';

describe('mwss with GOST defaults', () => {
  test('a generated self-signed certificate serves mwss to an unverifying client, and its fingerprint is logged', async (t) => {
    const log = recordingLogger();
    const serverTls = await resolveServerTls(undefined, log, { cwd: emptyDir });
    const generated = log.entries.find((e) => e.msg === 'tls: generated self-signed certificate');
    assert.ok(generated, 'generation logged');
    assert.equal(generated.level, 'info');
    const fingerprint = generated.obj['fingerprint'];
    assert.match(String(fingerprint), /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    const p = await mwssPair(t, serverTls, await resolveClientTls(undefined));
    await assertEchoes(p);
    // The certificate on the wire is the one whose fingerprint was logged.
    const served = p.tlsSockets[0]?.getCertificate();
    assert.ok(served && 'raw' in served);
    assert.equal(certificateFingerprint(toPem(served.raw)), fingerprint);
  });

  test('the self-signed default is rejected by a client that verifies (secure=true)', async (t) => {
    const serverTls = await resolveServerTls(undefined, silentLogger, { cwd: emptyDir });
    const p = await mwssPair(t, serverTls, { secure: true, serverName: 'gost.run' });
    await assert.rejects(p.dialer.dial(p.listener.address(), tcpDialContext()), (err: unknown) => {
      assert.ok(isTlsError(err), String(err));
      assert.match((err as Error).message, /certificate/);
      return true;
    });
  });
});

describe('mwss with a CA-issued certificate', () => {
  const serverTls = (): Promise<ServerTlsOptions> =>
    resolveServerTls({ certFile: pki.files.serverCert, keyFile: pki.files.serverKey }, silentLogger);

  test('secure=true + caFile passes (IP address checked against the IP SAN, no SNI sent)', async (t) => {
    const p = await mwssPair(
      t,
      await serverTls(),
      await resolveClientTls({ secure: true, caFile: pki.files.caCert }),
    );
    await assertEchoes(p);
    assert.equal(p.tlsSockets[0]?.servername, false, 'no SNI for an IP literal');
  });

  test('secure=true + caFile + serverName=localhost passes and sends SNI', async (t) => {
    const p = await mwssPair(
      t,
      await serverTls(),
      await resolveClientTls({ secure: true, caFile: pki.files.caCert, serverName: 'localhost' }),
    );
    await assertEchoes(p);
    assert.equal(p.tlsSockets[0]?.servername, 'localhost');
  });

  test('a wrong CA fails with ERR_TLS and a message about the certificate', async (t) => {
    const p = await mwssPair(
      t,
      await serverTls(),
      await resolveClientTls({ secure: true, caFile: pki.files.otherCaCert, serverName: 'localhost' }),
    );
    await assert.rejects(p.dialer.dial(p.listener.address(), tcpDialContext()), (err: unknown) => {
      assert.ok(isTlsError(err), String(err));
      assert.match((err as Error).message, /^tls: server certificate rejected: .*certificate/);
      return true;
    });
    assert.equal(p.dialer.sessionCount, 0, 'a failed session leaves the pool');
  });

  test('a wrong server name with secure=true fails (host name checked)', async (t) => {
    const p = await mwssPair(
      t,
      await serverTls(),
      await resolveClientTls({ secure: true, caFile: pki.files.caCert, serverName: 'wrong.example' }),
    );
    await assert.rejects(p.dialer.dial(p.listener.address(), tcpDialContext()), (err: unknown) => {
      assert.ok(isTlsError(err), String(err));
      assert.match((err as Error).message, /certificate does not match.*wrong\.example/);
      return true;
    });
  });

  test('secure=false + caFile: the chain is checked, the host name is not (GOST)', async (t) => {
    // Wrong name, right CA: accepted.
    const ok = await mwssPair(
      t,
      await serverTls(),
      await resolveClientTls({ secure: false, caFile: pki.files.caCert, serverName: 'wrong.example' }),
    );
    await assertEchoes(ok);
    assert.equal(ok.tlsSockets[0]?.servername, 'wrong.example');
    // Wrong CA: refused even though secure=false.
    const bad = await mwssPair(
      t,
      await serverTls(),
      await resolveClientTls({ secure: false, caFile: pki.files.otherCaCert }),
    );
    await assert.rejects(bad.dialer.dial(bad.listener.address(), tcpDialContext()), (err: unknown) => {
      assert.ok(isTlsError(err), String(err));
      assert.match((err as Error).message, /certificate/);
      return true;
    });
  });
});

describe('mwss with mutual TLS (listener caFile)', () => {
  const serverTls = (): Promise<ServerTlsOptions> =>
    resolveServerTls(
      { certFile: pki.files.serverCert, keyFile: pki.files.serverKey, caFile: pki.files.caCert },
      silentLogger,
    );

  test('a client without a certificate is refused', async (t) => {
    const p = await mwssPair(t, await serverTls(), await resolveClientTls({}));
    await assert.rejects(p.dialer.dial(p.listener.address(), tcpDialContext()), (err: unknown) => {
      assert.ok(err instanceof TunnelError, String(err));
      // TLS 1.3: the client's handshake completes before the server's verdict, so the refusal
      // surfaces during the WebSocket upgrade that follows.
      assert.ok(['ERR_TLS', 'ERR_WS_HANDSHAKE'].includes(err.code), err.code);
      return true;
    });
    assert.equal(p.listener.upgradeCount, 0);
  });

  test('a client with a certificate from another CA is refused', async (t) => {
    const { issue } = await import('./pki.js');
    const stranger = await issue(pki.otherCa, { cn: 'stranger' });
    const p = await mwssPair(t, await serverTls(), { secure: false, cert: stranger.cert, key: stranger.key });
    await assert.rejects(p.dialer.dial(p.listener.address(), tcpDialContext()));
    assert.equal(p.listener.upgradeCount, 0);
  });

  test('a client with a certificate from the CA passes', async (t) => {
    const p = await mwssPair(
      t,
      await serverTls(),
      await resolveClientTls({ certFile: pki.files.clientCert, keyFile: pki.files.clientKey }),
    );
    await assertEchoes(p);
    const peer = p.tlsSockets[0]?.getPeerCertificate();
    assert.equal(peer?.subject.CN, 'test client');
  });
});

function toPem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}
