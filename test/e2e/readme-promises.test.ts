// What the README promises a user of the command line, tried the way a user would: the built CLI,
// loopback, real sockets. Each test names the README claim it holds the program to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { startCli, freePort, type CliProcess } from '../helpers/cli.js';
import { curl } from '../helpers/curl.js';
import { bounded } from '../helpers/net.js';
import { makeTestPki } from '../tls/pki.js';

const STEP_MS = 10_000;

/** The JSON log lines of a process whose `msg` matches. */
function logged(cli: CliProcess, msg: RegExp): Array<Record<string, unknown>> {
  return cli.lines
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((o) => typeof o['msg'] === 'string' && msg.test(o['msg']));
}

function emptyDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'gost-ts-promises-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The SHA-256 fingerprint of the certificate a TLS server on `port` presents. */
async function servedFingerprint(port: number): Promise<string> {
  const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  s.on('error', () => {});
  try {
    await bounded(once(s, 'secureConnect'), STEP_MS, 'the TLS handshake');
    return s.getPeerCertificate().fingerprint256;
  } finally {
    s.destroy();
  }
}

// ---- "The server generates a self-signed certificate if it has none (its SHA-256 fingerprint is
// logged)" and "a warning is logged" (tls.secure off) -----------------------------------------------

test('README: the generated certificate’s SHA-256 fingerprint is logged, and it is the one served', async (t) => {
  const port = await freePort();
  const server = await startCli(['-L', `http+mwss://127.0.0.1:${port}?path=/ws`], { cwd: emptyDir(t) });
  t.after(() => server.stop());
  const [line] = logged(server, /generated self-signed certificate/);
  assert.ok(line !== undefined, `no fingerprint line at the default level:\n${server.lines.join('\n')}`);
  assert.equal(line['level'], 30, 'logged at info');
  assert.equal(line['fingerprint'], await servedFingerprint(port));
});

test('README: a client that does not verify the server certificate logs a warning', async (t) => {
  const serverPort = await freePort();
  const clientPort = await freePort();
  const server = await startCli(['-L', `http+mwss://127.0.0.1:${serverPort}?path=/ws`], {
    cwd: emptyDir(t),
  });
  t.after(() => server.stop());
  const client = await startCli([
    '-L',
    `127.0.0.1:${clientPort}`,
    '-F',
    `http+mwss://127.0.0.1:${serverPort}?path=/ws`,
  ]);
  t.after(() => client.stop());
  const [line] = logged(client, /server certificate not verified/);
  assert.ok(line !== undefined, `no warning at the default level:\n${client.lines.join('\n')}`);
  assert.equal(line['level'], 40, 'logged as a warning');
  const verified = await startCli([
    '-L',
    `127.0.0.1:${await freePort()}`,
    '-F',
    `http+mwss://127.0.0.1:${serverPort}?path=/ws&secure=true`,
  ]);
  t.after(() => verified.stop());
  assert.equal(logged(verified, /server certificate not verified/).length, 0, 'no warning with secure=true');
});

test('README: a cert.pem whose key.pem does not fit is passed over with a warning, not silently', async (t) => {
  const dir = emptyDir(t);
  const pki = await makeTestPki();
  t.after(() => pki.cleanup());
  writeFileSync(join(dir, 'cert.pem'), pki.server.cert);
  writeFileSync(join(dir, 'key.pem'), pki.client.key); // another certificate's key
  const port = await freePort();
  const server = await startCli(['-L', `http+mwss://127.0.0.1:${port}?path=/ws`], { cwd: dir });
  t.after(() => server.stop());
  const [warning] = logged(server, /ignoring unusable default certificate/);
  assert.ok(warning !== undefined, `no warning:\n${server.lines.join('\n')}`);
  assert.equal(warning['level'], 40);
  assert.match(String(warning['certFile']), /cert\.pem$/);
  const served = await servedFingerprint(port);
  assert.notEqual(
    served,
    new X509Certificate(pki.server.cert).fingerprint256,
    'the unusable pair is not served',
  );
  assert.equal(logged(server, /generated self-signed certificate/)[0]?.['fingerprint'], served);
});

// ---- "between two gost-ts ends the stream stays writable until both sides sent FIN, which makes
// half-close work" -------------------------------------------------------------------------------------

/** A target that reads until the client's FIN, then answers with the length and SHA-256 of it all. */
async function digestTarget(t: { after: (fn: () => Promise<void>) => void }): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    const hash = createHash('sha256');
    let n = 0;
    s.on('data', (c: Buffer) => {
      n += c.length;
      hash.update(c);
    });
    s.on('end', () => s.end(`${n} ${hash.digest('hex')}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

/** Reads from `s` until the blank line ending an HTTP head; returns the head and leaves the rest. */
function readHead(s: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      s.off('end', onEnd);
      s.pause();
      if (end + 4 < buf.length) s.unshift(buf.subarray(end + 4));
      resolve(buf.subarray(0, end).toString('latin1'));
    };
    const onEnd = (): void =>
      reject(new Error(`connection ended inside the reply head: ${JSON.stringify(buf.toString('latin1'))}`));
    s.on('data', onData);
    s.once('end', onEnd);
  });
}

/** Reads exactly `n` bytes from `s`, leaving the rest in the stream. */
function readExact(s: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (buf.length < n) return;
      s.off('data', onData);
      s.off('end', onEnd);
      s.pause();
      if (buf.length > n) s.unshift(buf.subarray(n));
      resolve(buf.subarray(0, n));
    };
    const onEnd = (): void => reject(new Error(`connection ended after ${buf.length} of ${n} bytes`));
    s.on('data', onData);
    s.once('end', onEnd);
  });
}

/** How the client reaches the target: through a proxy request, or the service forwards on its own. */
type Via = { connect: number } | { socks5: number } | 'forward';

/**
 * Connects to `port` (asking for the target as `via` says), sends 70 000 bytes, shuts its sending
 * side, and returns what comes back until the end of stream.
 */
async function sendThenShut(port: number, via: Via): Promise<{ reply: string; sent: string }> {
  const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  s.on('error', () => {});
  try {
    await bounded(once(s, 'connect'), STEP_MS, 'the connection to the proxy');
    if (typeof via === 'object' && 'connect' in via) {
      s.write(`CONNECT 127.0.0.1:${via.connect} HTTP/1.1\r\nHost: 127.0.0.1:${via.connect}\r\n\r\n`);
      assert.match(await bounded(readHead(s), STEP_MS, 'the CONNECT reply'), /^HTTP\/1\.1 200 /);
    } else if (typeof via === 'object') {
      s.write(Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, via.socks5 >> 8, via.socks5 & 0xff]));
      const reply = await bounded(readExact(s, 12), STEP_MS, 'the SOCKS5 replies');
      assert.deepEqual([...reply.subarray(0, 4)], [5, 0, 5, 0], 'SOCKS5: no auth, then succeeded');
    }
    const data = randomBytes(70_000);
    s.end(data);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.resume(); // the reply readers paused it
    await bounded(once(s, 'end'), STEP_MS, "the target's reply and end of stream");
    return {
      reply: Buffer.concat(chunks).toString(),
      sent: `70000 ${createHash('sha256').update(data).digest('hex')}`,
    };
  } finally {
    s.destroy();
  }
}

test('README: half-close works through the command line (http, socks5, tcp forward; with and without an mws chain)', async (t) => {
  const target = await digestTarget(t);
  const direct = await sendThenShut(target, 'forward');
  assert.equal(direct.reply, direct.sent, 'the target itself answers after the FIN');

  const mwsPort = await freePort();
  const server = await startCli(['-L', `http+mws://127.0.0.1:${mwsPort}?path=/ws`]);
  t.after(() => server.stop());
  const chain = ['-F', `http+mws://127.0.0.1:${mwsPort}?path=/ws`];
  const httpPlain = await freePort();
  const httpChained = await freePort();
  const fwdPlain = await freePort();
  const fwdChained = await freePort();
  const socksPlain = await freePort();
  const socksChained = await freePort();
  const plain = await startCli([
    '-L',
    `http://127.0.0.1:${httpPlain}`,
    '-L',
    `tcp://127.0.0.1:${fwdPlain}/127.0.0.1:${target}`,
    '-L',
    `socks5://127.0.0.1:${socksPlain}`,
  ]);
  t.after(() => plain.stop());
  const chained = await startCli([
    '-L',
    `http://127.0.0.1:${httpChained}`,
    '-L',
    `tcp://127.0.0.1:${fwdChained}/127.0.0.1:${target}`,
    '-L',
    `socks5://127.0.0.1:${socksChained}`,
    ...chain,
  ]);
  t.after(() => chained.stop());

  const cases: Array<[string, number, Via]> = [
    ['CONNECT through -L http://', httpPlain, { connect: target }],
    ['CONNECT through -L http:// -F http+mws://', httpChained, { connect: target }],
    ['-L tcp://…/target', fwdPlain, 'forward'],
    ['-L tcp://…/target -F http+mws://', fwdChained, 'forward'],
    ['SOCKS5 through -L socks5://', socksPlain, { socks5: target }],
    ['SOCKS5 through -L socks5:// -F http+mws://', socksChained, { socks5: target }],
  ];
  for (const [what, port, via] of cases) {
    const got = await sendThenShut(port, via);
    assert.equal(got.reply, got.sent, `${what}: the reply after the client's FIN`);
  }
});

// ---- "gost_service_handler_errors_total (label service)" ------------------------------------------

/** Sends `bytes` to `port` and waits until the server closes the connection. */
async function exchange(port: number, bytes: Buffer | string): Promise<Buffer> {
  const s = net.connect({ port, host: '127.0.0.1' });
  s.on('error', () => {});
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  try {
    await bounded(once(s, 'connect'), STEP_MS, 'the connection');
    s.write(bytes);
    await bounded(once(s, 'close'), STEP_MS, 'the server to close the connection');
    return Buffer.concat(chunks);
  } finally {
    s.destroy();
  }
}

/** The value of a counter for service-0 in a Prometheus text page, or 0 when it has no sample. */
function counter(page: string, name: string): number {
  const m = new RegExp(`^${name}\\{service="service-0"\\} (\\d+)$`, 'm').exec(page);
  return m ? Number(m[1]) : 0;
}

test('README: gost_service_handler_errors_total counts requests the handler could not serve', async (t) => {
  const proxyPort = await freePort();
  const metricsPort = await freePort();
  const closed = await freePort();
  const target = await digestTarget(t);
  const proxy = await startCli(['-L', `127.0.0.1:${proxyPort}`, '-metrics', `127.0.0.1:${metricsPort}`]);
  t.after(() => proxy.stop());
  const scrape = async (): Promise<string> => {
    const r = await curl([`http://127.0.0.1:${metricsPort}/metrics`]);
    assert.equal(r.code, 0, r.stderr);
    return r.body;
  };

  // A request that is served does not count.
  const ok = await sendThenShut(proxyPort, { connect: target });
  assert.equal(ok.reply, ok.sent);
  // Each: what it is, the bytes sent, and the start of the reply ('' for none at all).
  const failures: Array<[string, Buffer | string, Buffer | string]> = [
    ['a failed dial (503)', `CONNECT 127.0.0.1:${closed} HTTP/1.1\r\nHost: x\r\n\r\n`, 'HTTP/1.1 503 '],
    ['not a proxy request (400)', 'GET / HTTP/1.1\r\n\r\n', 'HTTP/1.1 400 '],
    // SOCKS5: no auth, then command 9 (unknown): method 0 chosen, then reply 7 (not supported).
    [
      'a refused SOCKS5 command',
      Buffer.from([5, 1, 0, 5, 9, 0, 1, 127, 0, 0, 1, 0, 80]),
      Buffer.from([5, 0, 5, 7]),
    ],
    // Not SOCKS, so the http handler reads it: not a request, closed without a reply (as GOST).
    ['a garbage first byte', Buffer.from([0xff, 0xfe, 0xfd, 0x0d, 0x0a, 0x0d, 0x0a]), ''],
  ];
  for (const [i, [what, bytes, reply]] of failures.entries()) {
    const got = await exchange(proxyPort, bytes);
    const expected = Buffer.from(reply);
    if (expected.length === 0) assert.equal(got.length, 0, `${what}: no reply`);
    else assert.deepEqual(got.subarray(0, expected.length), expected, `${what}: the reply`);
    // The counter moves once the handler is done with the connection, just after the close.
    let page = await scrape();
    for (let tries = 0; tries < 50 && counter(page, 'gost_service_handler_errors_total') < i + 1; tries++) {
      await new Promise((r) => setTimeout(r, 100));
      page = await scrape();
    }
    assert.equal(counter(page, 'gost_service_handler_errors_total'), i + 1, `${what} is counted`);
  }
  const page = await scrape();
  assert.equal(counter(page, 'gost_service_requests_total'), failures.length + 1);
});

// ---- upgrade request and extensions in the debug log ----------------------------------------------

test('-D logs the upgrade request (host, header) and the negotiated extensions on both ends', async (t) => {
  const serverPort = await freePort();
  const clientPort = await freePort();
  const target = await digestTarget(t);
  const server = await startCli([
    '-D',
    '-L',
    `http+mws://127.0.0.1:${serverPort}?path=/ws&enableCompression=true`,
  ]);
  t.after(() => server.stop());
  const client = await startCli([
    '-D',
    '-L',
    `http://127.0.0.1:${clientPort}`,
    '-F',
    `http+mws://127.0.0.1:${serverPort}?path=/ws&host=cdn.example&header=X-Trace:42&enableCompression=true`,
  ]);
  t.after(() => client.stop());
  const ok = await sendThenShut(clientPort, { connect: target });
  assert.equal(ok.reply, ok.sent);

  await client.waitForLine(/websocket: upgraded/, STEP_MS);
  const [up] = logged(client, /websocket: upgraded/);
  assert.equal(up?.['host'], 'cdn.example');
  assert.equal(up?.['path'], '/ws');
  assert.deepEqual((up?.['header'] as Record<string, unknown> | undefined)?.['X-Trace'], '42');
  assert.equal(up?.['extensions'], 'permessage-deflate');

  await server.waitForLine(/session accepted/, STEP_MS);
  const [acc] = logged(server, /session accepted/);
  assert.equal(acc?.['host'], 'cdn.example');
  assert.equal((acc?.['header'] as Record<string, unknown> | undefined)?.['x-trace'], '42');
  assert.equal(acc?.['extensions'], 'permessage-deflate');
});
