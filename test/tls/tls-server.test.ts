import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, TunnelError } from '../../src/core/errors.js';
import {
  certificateFingerprint,
  generateSelfSignedCertificate,
  resolveClientTls,
  resolveServerTls,
} from '../../src/common/tls-server.js';
import { makeTestPki, type TestPki } from './pki.js';
import { recordingLogger } from './support.js';

const FINGERPRINT = /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/;

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

describe('resolveServerTls: default certificate', () => {
  test('generates GOST’s default once per process and logs its SHA-256 fingerprint', async () => {
    const log = recordingLogger();
    const a = await resolveServerTls(undefined, log, { cwd: emptyDir });
    const b = await resolveServerTls({}, log, { cwd: emptyDir });
    assert.equal(a.cert, b.cert, 'cached: the same certificate for every listener');
    assert.equal(a.ca, undefined);
    const generatedLogs = log.entries.filter((e) => e.msg === 'tls: generated self-signed certificate');
    assert.equal(generatedLogs.length, 1);
    assert.equal(generatedLogs[0]?.level, 'info');
    assert.match(String(generatedLogs[0]?.obj['fingerprint']), FINGERPRINT);
    assert.equal(generatedLogs[0]?.obj['fingerprint'], certificateFingerprint(a.cert));

    const x = new X509Certificate(a.cert);
    assert.match(x.subject, /CN=gost\.run/);
    assert.match(x.subject, /O=GOST/);
    assert.equal(x.subjectAltName, 'DNS:gost.run');
    assert.equal(x.ca, true);
    assert.equal(x.checkIssued(x), true, 'self-signed');
    assert.equal(x.publicKey.asymmetricKeyType, 'ec');
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 364 && days < 366, `valid for a year, got ${days} days`);
  });

  test('commonName, organization and validity tune the generated certificate', async () => {
    const log = recordingLogger();
    const tls = await resolveServerTls(
      { commonName: 'tunnel.example', organization: 'ACME', validity: 7 * 86_400_000 },
      log,
      { cwd: emptyDir },
    );
    const x = new X509Certificate(tls.cert);
    assert.match(x.subject, /CN=tunnel\.example/);
    assert.match(x.subject, /O=ACME/);
    assert.equal(x.subjectAltName, 'DNS:tunnel.example');
    const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days < 7.1, `valid for a week, got ${days} days`);
    assert.equal(log.entries.filter((e) => e.msg === 'tls: generated self-signed certificate').length, 1);
  });

  test('cert.pem + key.pem in the working directory win over generation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gost-ts-cwd-'));
    try {
      copyFileSync(pki.files.serverCert, join(dir, 'cert.pem'));
      copyFileSync(pki.files.serverKey, join(dir, 'key.pem'));
      const tls = await resolveServerTls(undefined, recordingLogger(), { cwd: dir });
      assert.equal(tls.cert, pki.server.cert);
      assert.equal(tls.key, pki.server.key);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('only cert.pem, or an unusable pair, falls back to generation (GOST), with a warning for the latter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gost-ts-cwd-'));
    try {
      copyFileSync(pki.files.serverCert, join(dir, 'cert.pem'));
      const onlyCert = await resolveServerTls(undefined, recordingLogger(), { cwd: dir });
      assert.notEqual(onlyCert.cert, pki.server.cert);
      copyFileSync(pki.files.clientKey, join(dir, 'key.pem')); // key of another certificate
      const log = recordingLogger();
      const mismatched = await resolveServerTls(undefined, log, { cwd: dir });
      assert.notEqual(mismatched.cert, pki.server.cert);
      assert.ok(log.entries.some((e) => e.level === 'warn' && /ignoring unusable/.test(e.msg ?? '')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('caFile with the default certificate still requires client certificates', async () => {
    const tls = await resolveServerTls({ caFile: pki.files.caCert }, recordingLogger(), { cwd: emptyDir });
    assert.equal(tls.ca?.toString(), pki.ca.cert);
  });
});

describe('resolveServerTls: configured files', () => {
  test('certFile + keyFile (+ caFile) are read', async () => {
    const tls = await resolveServerTls(
      { certFile: pki.files.serverCert, keyFile: pki.files.serverKey, caFile: pki.files.caCert },
      recordingLogger(),
    );
    assert.equal(tls.cert.toString(), pki.server.cert);
    assert.equal(tls.key.toString(), pki.server.key);
    assert.equal(tls.ca?.toString(), pki.ca.cert);
  });

  test('relative paths resolve against cwd', async () => {
    const tls = await resolveServerTls(
      { certFile: 'server.pem', keyFile: 'server-key.pem' },
      recordingLogger(),
      {
        cwd: pki.dir,
      },
    );
    assert.equal(tls.cert.toString(), pki.server.cert);
  });

  test('a missing file is a ConfigError naming the file and the key', async () => {
    const missing = join(pki.dir, 'nope.pem');
    await assert.rejects(
      resolveServerTls({ certFile: missing, keyFile: pki.files.serverKey }, recordingLogger(), {
        path: 'services[0].listener.tls',
      }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'ERR_CONFIG_INVALID');
        assert.equal(err.path, 'services[0].listener.tls.certFile');
        assert.ok(err.message.includes(missing), err.message);
        assert.match(err.message, /ENOENT/);
        return true;
      },
    );
    await assert.rejects(
      resolveServerTls({ caFile: missing }, recordingLogger(), { cwd: emptyDir }),
      (err: unknown) =>
        err instanceof ConfigError && err.path === 'tls.caFile' && err.message.includes(missing),
    );
  });

  test('an unreadable file (a directory) is a ConfigError naming it', async () => {
    await assert.rejects(
      resolveServerTls({ certFile: pki.dir, keyFile: pki.files.serverKey }, recordingLogger()),
      (err: unknown) => err instanceof ConfigError && err.message.includes(pki.dir),
    );
  });

  test('certFile without keyFile, and a key that does not fit, are ConfigErrors', async () => {
    await assert.rejects(
      resolveServerTls({ certFile: pki.files.serverCert }, recordingLogger()),
      (err: unknown) => err instanceof ConfigError && err.path === 'tls.keyFile',
    );
    await assert.rejects(
      resolveServerTls({ certFile: pki.files.serverCert, keyFile: pki.files.clientKey }, recordingLogger()),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message.includes(pki.files.serverCert) &&
        /unusable/.test(err.message),
    );
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a pem');
    await assert.rejects(
      resolveServerTls(
        { certFile: pki.files.serverCert, keyFile: pki.files.serverKey, caFile: garbage },
        recordingLogger(),
      ),
      (err: unknown) => err instanceof ConfigError && err.message.includes(garbage),
    );
  });
});

describe('resolveClientTls', () => {
  test('defaults: secure=false, nothing else', async () => {
    assert.deepEqual(await resolveClientTls(undefined), { secure: false });
    assert.deepEqual(await resolveClientTls({}), { secure: false });
  });

  test('reads caFile and the client certificate; keeps secure and serverName', async () => {
    const tls = await resolveClientTls({
      secure: true,
      serverName: 'localhost',
      caFile: pki.files.caCert,
      certFile: pki.files.clientCert,
      keyFile: pki.files.clientKey,
    });
    assert.equal(tls.secure, true);
    assert.equal(tls.serverName, 'localhost');
    assert.equal(tls.ca?.toString(), pki.ca.cert);
    assert.equal(tls.cert?.toString(), pki.client.cert);
    assert.equal(tls.key?.toString(), pki.client.key);
  });

  test('missing files and half a key pair are ConfigErrors naming the file', async () => {
    const missing = join(pki.dir, 'missing-ca.pem');
    await assert.rejects(
      resolveClientTls({ caFile: missing }, { path: 'chains[0].hops[0].nodes[0].dialer.tls' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.path === 'chains[0].hops[0].nodes[0].dialer.tls.caFile' &&
        err.message.includes(missing),
    );
    await assert.rejects(
      resolveClientTls({ keyFile: pki.files.clientKey }),
      (err: unknown) => err instanceof ConfigError && err.path === 'tls.certFile',
    );
  });
});

describe('certificateFingerprint', () => {
  test('is the colon-separated upper-case SHA-256 of the DER, as openssl prints it', async () => {
    const { cert } = await generateSelfSignedCertificate();
    const fp = certificateFingerprint(cert);
    assert.match(fp, FINGERPRINT);
    const { createHash } = await import('node:crypto');
    const der = new X509Certificate(cert).raw;
    const expected = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':');
    assert.equal(fp, expected);
    assert.equal(certificateFingerprint(Buffer.from(cert)), fp);
  });

  test('rejects text that is not a certificate with ERR_TLS', () => {
    assert.throws(
      () => certificateFingerprint('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      (err: unknown) => err instanceof TunnelError && err.code === 'ERR_TLS',
    );
  });
});
