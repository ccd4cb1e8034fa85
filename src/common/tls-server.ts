import { X509Certificate, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { createSecureContext, type TlsOptions } from 'node:tls';
import { ConfigError, TunnelError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ClientTlsOptions, ServerTlsOptions } from '../core/types.js';

/** Server TLS settings as configured (`listener.tls`, top-level `tls`, `certFile=`… on `-L`). */
export interface ServerTlsConfig {
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  /** Client certificates are required and verified against this CA. */
  readonly caFile?: string | undefined;
  /** Lifetime of a generated certificate, ms. Default one year. */
  readonly validity?: number | undefined;
  /** CN (and SAN DNS name) of a generated certificate. Default `gost.run`. */
  readonly commonName?: string | undefined;
  /** O of a generated certificate. Default `GOST`. */
  readonly organization?: string | undefined;
}

/** Client TLS settings as configured (`dialer.tls`, `secure=`/`serverName=`/`caFile=`… on `-F`). */
export interface ClientTlsConfig {
  readonly secure?: boolean | undefined;
  readonly serverName?: string | undefined;
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
}

export interface ResolveTlsOptions {
  /** Config path named in ConfigErrors, e.g. `services[0].listener.tls`. Default `tls`. */
  path?: string | undefined;
  /** Where GOST's default `cert.pem`/`key.pem` are looked for. Default the process working directory. */
  cwd?: string | undefined;
}

/** GOST's generated default certificate (`internal/util/tls`). */
export const DEFAULT_CERT_COMMON_NAME = 'gost.run';
export const DEFAULT_CERT_ORGANIZATION = 'GOST';
export const DEFAULT_CERT_VALIDITY = 365 * 24 * 3600 * 1000;

/** A PEM certificate and its PKCS#8 PEM private key. */
export interface CertificateKeyPair {
  cert: string;
  key: string;
}

/** Reads a configured file, turning any failure into a ConfigError that names the file. */
async function readConfigured(file: string, key: string, path: string, cwd: string): Promise<Buffer> {
  const full = resolvePath(cwd, file);
  try {
    return await readFile(full);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`${path}.${key}`, `cannot read ${JSON.stringify(full)} (${why})`);
  }
}

/** Fails early, naming the files, when the key does not fit the certificate or a PEM is malformed. */
function checkMaterial(opts: TlsOptions, files: string, path: string): void {
  try {
    createSecureContext(opts);
  } catch (err) {
    throw new ConfigError(path, `unusable TLS material in ${files}: ${(err as Error).message}`);
  }
}

/** A CA file must hold at least one certificate (Go's AppendCertsFromPEM; Node would ignore junk). */
function checkCa(ca: Buffer, file: string, path: string): void {
  try {
    new X509Certificate(ca);
  } catch (err) {
    throw new ConfigError(
      path,
      `no usable PEM certificate in ${JSON.stringify(file)}: ${(err as Error).message}`,
    );
  }
}

/**
 * SHA-256 fingerprint of a certificate (the first one of a PEM bundle) as `AB:CD:…`, the form
 * browsers and `openssl x509 -fingerprint -sha256` show, so an operator can pin a generated
 * certificate. Throws ERR_TLS when the text holds no certificate.
 */
export function certificateFingerprint(pem: string | Buffer): string {
  try {
    return new X509Certificate(pem).fingerprint256;
  } catch (err) {
    throw new TunnelError('ERR_TLS', `tls: not a PEM certificate: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Makes a certificate shaped like GOST's generated default: ECDSA P-256, self-signed CA (so it can
 * also be handed to clients as their `caFile`), subject `CN=<commonName>, O=<organization>`, SAN DNS
 * `<commonName>`, server and client auth, valid from one hour ago (clock skew) for `validity` ms.
 */
export async function generateSelfSignedCertificate(
  opts: {
    commonName?: string | undefined;
    organization?: string | undefined;
    validity?: number | undefined;
  } = {},
): Promise<CertificateKeyPair> {
  // Loaded on first use: only a TLS listener without certificate files needs it, and it costs a
  // process that never does ~18 MB of memory.
  const x509 = await import('@peculiar/x509');
  const cn = opts.commonName || DEFAULT_CERT_COMMON_NAME;
  const org = opts.organization || DEFAULT_CERT_ORGANIZATION;
  const validity = opts.validity !== undefined && opts.validity > 0 ? opts.validity : DEFAULT_CERT_VALIDITY;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: [{ CN: [cn] }, { O: [org] }],
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + validity),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: cn }]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

/** Generated certificates of this process, per CN/O/validity: every listener serves the same one. */
const generated = new Map<string, Promise<CertificateKeyPair>>();

async function defaultCertificate(
  cfg: ServerTlsConfig | undefined,
  log: Logger,
): Promise<CertificateKeyPair> {
  const spec = {
    commonName: cfg?.commonName || DEFAULT_CERT_COMMON_NAME,
    organization: cfg?.organization || DEFAULT_CERT_ORGANIZATION,
    validity: cfg?.validity !== undefined && cfg.validity > 0 ? cfg.validity : DEFAULT_CERT_VALIDITY,
  };
  const cacheKey = `${spec.commonName}\0${spec.organization}\0${spec.validity}`;
  const cached = generated.get(cacheKey);
  if (cached !== undefined) return cached;
  const created = generateSelfSignedCertificate(spec).then((pair) => {
    log.info(
      { fingerprint: certificateFingerprint(pair.cert), commonName: spec.commonName },
      'tls: generated self-signed certificate',
    );
    return pair;
  });
  generated.set(cacheKey, created);
  created.catch(() => generated.delete(cacheKey));
  return created;
}

/** GOST's `cert.pem` + `key.pem` in the working directory, when both exist and fit together. */
async function workingDirectoryCertificate(
  cwd: string,
  log: Logger,
): Promise<CertificateKeyPair | undefined> {
  const certFile = resolvePath(cwd, 'cert.pem');
  const keyFile = resolvePath(cwd, 'key.pem');
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  } catch {
    return undefined;
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    // GOST falls back to a generated certificate here; say why the files were passed over.
    log.warn(
      { certFile, keyFile, err: (err as Error).message },
      'tls: ignoring unusable default certificate',
    );
    return undefined;
  }
  log.debug({ certFile, fingerprint: certificateFingerprint(cert) }, 'tls: using default certificate');
  return { cert, key };
}

/**
 * Resolves a listener's TLS material the way GOST does (`config/parsing/tls.go`):
 * - `certFile` + `keyFile` (relative to `cwd`): those files;
 * - neither: GOST's default chain, `cert.pem` + `key.pem` in the working directory if both exist,
 *   else a generated self-signed certificate (made once per process and CN/O/validity, its SHA-256
 *   fingerprint logged at info). Unlike GOST, nothing is written to `~/.gost`.
 *
 * `caFile` makes client certificates required and verified against it. GOST ignores `caFile` when
 * no `certFile`/`keyFile` is given; we honour it with the default certificate too, so asking for
 * mutual TLS never silently yields a listener that accepts anyone.
 *
 * Rejects with a ConfigError naming the file when a configured file is missing or unreadable, when
 * only one of `certFile`/`keyFile` is set, or when the key does not fit the certificate.
 */
export async function resolveServerTls(
  cfg: ServerTlsConfig | undefined,
  log: Logger,
  opts: ResolveTlsOptions = {},
): Promise<ServerTlsOptions> {
  const path = opts.path ?? 'tls';
  const cwd = opts.cwd ?? process.cwd();
  const ca = cfg?.caFile ? await readConfigured(cfg.caFile, 'caFile', path, cwd) : undefined;
  let pair: CertificateKeyPair;
  if (cfg?.certFile || cfg?.keyFile) {
    if (!cfg.certFile || !cfg.keyFile) {
      throw new ConfigError(
        `${path}.${cfg.certFile ? 'keyFile' : 'certFile'}`,
        'certFile and keyFile must be given together',
      );
    }
    const [cert, key] = await Promise.all([
      readConfigured(cfg.certFile, 'certFile', path, cwd),
      readConfigured(cfg.keyFile, 'keyFile', path, cwd),
    ]);
    pair = { cert: cert.toString('utf8'), key: key.toString('utf8') };
    checkMaterial({ cert, key }, `${cfg.certFile} / ${cfg.keyFile}`, path);
  } else {
    pair = (await workingDirectoryCertificate(cwd, log)) ?? (await defaultCertificate(cfg, log));
  }
  if (ca !== undefined) checkCa(ca, cfg?.caFile ?? '', `${path}.caFile`);
  return { cert: pair.cert, key: pair.key, ...(ca !== undefined ? { ca } : {}) };
}

/**
 * Resolves a dialer's TLS policy, reading `caFile` and the client certificate (`certFile` +
 * `keyFile`, both or neither). `secure` defaults to false, as in GOST: the server certificate is
 * not checked unless asked for (see `tlsClientConnect`). Rejects with a ConfigError naming the file.
 */
export async function resolveClientTls(
  cfg: ClientTlsConfig | undefined,
  opts: ResolveTlsOptions = {},
): Promise<ClientTlsOptions> {
  const path = opts.path ?? 'tls';
  const cwd = opts.cwd ?? process.cwd();
  const out: ClientTlsOptions = { secure: cfg?.secure ?? false };
  if (cfg?.serverName) out.serverName = cfg.serverName;
  if (cfg?.caFile) {
    out.ca = await readConfigured(cfg.caFile, 'caFile', path, cwd);
    checkCa(out.ca, cfg.caFile, `${path}.caFile`);
  }
  if (cfg?.certFile || cfg?.keyFile) {
    if (!cfg.certFile || !cfg.keyFile) {
      throw new ConfigError(
        `${path}.${cfg.certFile ? 'keyFile' : 'certFile'}`,
        'certFile and keyFile must be given together',
      );
    }
    const [cert, key] = await Promise.all([
      readConfigured(cfg.certFile, 'certFile', path, cwd),
      readConfigured(cfg.keyFile, 'keyFile', path, cwd),
    ]);
    checkMaterial({ cert, key }, `${cfg.certFile} / ${cfg.keyFile}`, path);
    out.cert = cert;
    out.key = key;
  }
  return out;
}

/**
 * Node `tls`/`https` server options for resolved material: HTTP/1.1-only TLS as GOST's listeners
 * (no ALPN), and, with a CA, client certificates required and verified.
 */
export function serverTlsContextOptions(opts: ServerTlsOptions): TlsOptions {
  return {
    cert: opts.cert,
    key: opts.key,
    ...(opts.ca !== undefined ? { ca: opts.ca, requestCert: true, rejectUnauthorized: true } : {}),
  };
}
