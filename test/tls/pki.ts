// Test PKI: a throw-away CA and certificates it issues (ECDSA P-256), written to a temp directory
// so they can be used as certFile/keyFile/caFile. Shared by the TLS, ws and interop tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
import * as x509 from '@peculiar/x509';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 24 * 3600 * 1000;

export interface TestCa {
  cert: string;
  key: string;
  certObj: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export interface IssuedCert {
  cert: string;
  key: string;
}

async function exportKey(k: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', k), 'PRIVATE KEY');
}

/** A self-signed CA named `CN=<name>`. */
export async function makeCa(name: string): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const certObj = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: certObj.toString('pem'), key: await exportKey(keys.privateKey), certObj, keys };
}

/** A leaf certificate signed by `ca` for the given DNS names and IPs (server and client auth). */
export async function issue(
  ca: TestCa,
  opts: { cn: string; dns?: string[]; ips?: string[] },
): Promise<IssuedCert> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const names = [
    ...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    subject: `CN=${opts.cn}`,
    issuer: ca.certObj.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await exportKey(keys.privateKey) };
}

/** Everything a TLS test needs: two unrelated CAs, a server leaf for localhost/127.0.0.1, a client leaf. */
export interface TestPki {
  dir: string;
  ca: TestCa;
  otherCa: TestCa;
  server: IssuedCert;
  client: IssuedCert;
  /** Paths of the PEM files in `dir`. */
  files: {
    caCert: string;
    otherCaCert: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
  };
  cleanup(): void;
}

export async function makeTestPki(): Promise<TestPki> {
  const ca = await makeCa('gost-ts test CA');
  const otherCa = await makeCa('unrelated test CA');
  const server = await issue(ca, { cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'] });
  const client = await issue(ca, { cn: 'test client' });
  const dir = mkdtempSync(join(tmpdir(), 'gost-ts-pki-'));
  const write = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  return {
    dir,
    ca,
    otherCa,
    server,
    client,
    files: {
      caCert: write('ca.pem', ca.cert),
      otherCaCert: write('other-ca.pem', otherCa.cert),
      serverCert: write('server.pem', server.cert),
      serverKey: write('server-key.pem', server.key),
      clientCert: write('client.pem', client.cert),
      clientKey: write('client-key.pem', client.key),
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
