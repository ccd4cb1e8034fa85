/**
 * Interop matrix, mwss: GOST's generated certificate, certificate files, a verified chain
 * (`caFile` + `secure=true` + `serverName`) and a wrong CA refused — both roles, through the CLIs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki, type TestPki } from '../../tls/pki.js';
import { ROLES, bounded, client, echoTarget, openTunnel, roundTrip, server } from './support.js';

/** The subject CN of the certificate a TLS server on `port` presents. */
async function presentedCn(port: number): Promise<string> {
  const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  await bounded(once(s, 'secureConnect'), 'the TLS handshake');
  const cn = s.getPeerCertificate().subject.CN;
  s.destroy();
  return String(cn);
}

let pki: TestPki;
test.before(async () => (pki = await makeTestPki()));
test.after(() => pki.cleanup());

for (const [c, s] of ROLES) {
  test(`${c} client → ${s} server, mwss with the server's generated certificate`, async (t) => {
    // An empty working directory: neither program finds a cert.pem/key.pem and both generate one.
    const cwd = mkdtempSync(join(tmpdir(), 'gost-matrix-tls-'));
    const target = await echoTarget();
    const srv = await server(s, (p) => `http+mwss://127.0.0.1:${p}?path=/ws`, { cwd });
    const cli = await client(c, 'http', [`http+mwss://127.0.0.1:${srv.port}?path=/ws`]);
    t.after(
      async () => (await cli.stop(), await srv.stop(), target.close(), rmSync(cwd, { recursive: true })),
    );
    assert.equal(await presentedCn(srv.port), 'gost.run', 'the generated certificate is GOST-style');
    await roundTrip(cli.port, target.addr, { size: 512 << 10 });
  });

  test(`${c} client → ${s} server, mwss with certFile/keyFile, verified by caFile+secure+serverName`, async (t) => {
    const target = await echoTarget();
    const { serverCert, serverKey, caCert } = pki.files;
    const srv = await server(
      s,
      (p) => `http+mwss://127.0.0.1:${p}?path=/ws&certFile=${serverCert}&keyFile=${serverKey}`,
    );
    const cli = await client(c, 'http', [
      `http+mwss://127.0.0.1:${srv.port}?path=/ws&caFile=${caCert}&secure=true&serverName=localhost`,
    ]);
    t.after(async () => (await cli.stop(), await srv.stop(), target.close()));
    assert.equal(await presentedCn(srv.port), 'localhost', 'the configured certificate is served');
    await roundTrip(cli.port, target.addr, { size: 512 << 10 });
  });

  test(`${c} client refuses a ${s} server whose certificate another CA signed`, async (t) => {
    const target = await echoTarget();
    const { serverCert, serverKey, otherCaCert } = pki.files;
    const srv = await server(
      s,
      (p) => `http+mwss://127.0.0.1:${p}?path=/ws&certFile=${serverCert}&keyFile=${serverKey}`,
    );
    const cli = await client(c, 'http', [
      `http+mwss://127.0.0.1:${srv.port}?path=/ws&caFile=${otherCaCert}&secure=true&serverName=localhost`,
    ]);
    t.after(async () => (await cli.stop(), await srv.stop(), target.close()));
    await assert.rejects(openTunnel(cli.port, 'http', target.addr), /CONNECT refused: "HTTP\/1\.1 503/);
    // Each client says why: Go's x509 error, Node's verification error.
    await cli.waitForLine(
      c === 'gost'
        ? /certificate signed by unknown authority/
        : /"code":"ERR_TLS","message":"tls: server certificate rejected: unable to verify the first certificate/,
    );
    assert.equal(target.connections(), 0, 'nothing reached the target');
  });
}
