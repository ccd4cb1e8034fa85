/**
 * The real GOST (v3.2.6) as the peer, through the built CLI, both roles: gost-ts client → gost
 * server and gost client → gost-ts server, the spec's http+mws pair, data checked by hash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { startCli, freePort } from '../../helpers/cli.js';
import { startGost, runGost } from '../../helpers/gost.js';

/**
 * A TCP echo server. (GOST ends both directions when either side ends, so the payload comes back
 * as an echo rather than as a digest after a half-close.)
 */
async function echoTarget(): Promise<{ port: number; close: () => void }> {
  const server = net.createServer((s) => {
    s.pipe(s);
    s.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

/** CONNECTs through the HTTP proxy at `proxyPort`, sends `payload`, returns the SHA-256 of its echo. */
async function sendThrough(proxyPort: number, target: string, payload: Buffer): Promise<string> {
  const s = net.connect(proxyPort, '127.0.0.1');
  await once(s, 'connect');
  s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  let head = Buffer.alloc(0);
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await once(s, 'data')) as [Buffer];
    head = Buffer.concat([head, chunk]);
  }
  const end = head.indexOf('\r\n\r\n') + 4;
  assert.match(head.subarray(0, end).toString('latin1'), /^HTTP\/1\.[01] 200/);
  const h = createHash('sha256');
  let got = 0;
  const take = (c: Buffer): void => {
    h.update(c);
    got += c.length;
  };
  take(head.subarray(end));
  const done = new Promise<void>((resolve, reject) => {
    const check = (): void => void (got >= payload.length && resolve());
    s.on('data', (c: Buffer) => (take(c), check()));
    s.once('close', () => reject(new Error(`connection closed after ${got} of ${payload.length} bytes`)));
    check();
  });
  s.write(payload);
  await done;
  s.destroy();
  return h.digest('hex');
}

test('the built GOST is v3.2.6', async () => {
  const r = await runGost(['-V']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^gost 3\.2\.6 /);
});

test('gost-ts client → real gost server (http+mws): 4 MiB by hash', async (t) => {
  const target = await echoTarget();
  const sp = await freePort();
  const server = await startGost(['-L', `http+mws://127.0.0.1:${sp}?path=/ws`]);
  const cp = await freePort();
  const client = await startCli([
    '-L',
    `http://127.0.0.1:${cp}`,
    '-F',
    `http+mws://127.0.0.1:${sp}?path=/ws`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), target.close()));
  const payload = randomBytes(4 << 20);
  const got = await sendThrough(cp, `127.0.0.1:${target.port}`, payload);
  assert.equal(got, createHash('sha256').update(payload).digest('hex'));
  // The stream went through GOST's mws listener and its http handler.
  await server.waitForLine(new RegExp(`"handler":"http".*"listener":"mws".*127\\.0\\.0\\.1:${target.port}`));
});

test('real gost client → gost-ts server (http+mws): 4 MiB by hash', async (t) => {
  const target = await echoTarget();
  const sp = await freePort();
  const server = await startCli(['-L', `http+mws://127.0.0.1:${sp}?path=/ws`]);
  const cp = await freePort();
  const client = await startGost([
    '-L',
    `http://127.0.0.1:${cp}`,
    '-F',
    `http+mws://127.0.0.1:${sp}?path=/ws`,
  ]);
  t.after(async () => (await client.stop(), await server.stop(), target.close()));
  const payload = randomBytes(4 << 20);
  const got = await sendThrough(cp, `127.0.0.1:${target.port}`, payload);
  assert.equal(got, createHash('sha256').update(payload).digest('hex'));
  // GOST's client routed the request for the target through its chain's node, the gost-ts server.
  await client.waitForLine(
    new RegExp(`"dst":"127\\.0\\.0\\.1:${sp}".*"host":"127\\.0\\.0\\.1:${target.port}"`),
  );
});
