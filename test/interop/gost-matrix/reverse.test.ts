/**
 * Reverse tunnels and the relay protocol against the real GOST (v3.2.6), both roles, data checked
 * by hash: rtcp over socks5+mws (MUX BIND 0xF2 inside GOST's TLS method 0x80) and over relay+mws;
 * relay CONNECT and a relay server with a fixed target; socks5 CONNECT with TLS methods and auth;
 * 1,000 concurrent connections through one tunnel; a server restart under a tunnel; refusals.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { startCli, freePort, type CliProcess } from '../../helpers/cli.js';
import { startGost, type GostProcess } from '../../helpers/gost.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function echoTarget(t: TestContext): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** Connects to `port`, sends `payload`, resolves with the SHA-256 of as many bytes echoed back. */
async function echoHash(port: number, payload: Buffer, timeoutMs = 30_000): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  const h = createHash('sha256');
  let got = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`echo through :${port}: ${got} of ${payload.length} bytes after ${timeoutMs} ms`)),
        timeoutMs,
      );
      s.on('data', (c: Buffer) => {
        h.update(c);
        got += c.length;
        if (got >= payload.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      s.once('error', (err) => (clearTimeout(timer), reject(err)));
      s.once(
        'close',
        () => (clearTimeout(timer), reject(new Error(`closed after ${got} of ${payload.length} bytes`))),
      );
      s.once('connect', () => s.write(payload));
    });
  } finally {
    s.destroy();
  }
  return h.digest('hex');
}

async function stopAll(...ps: Array<CliProcess | GostProcess>): Promise<void> {
  await Promise.all(ps.map((p) => p.stop()));
}

for (const proto of ['socks5', 'relay'] as const) {
  describe(`rtcp over ${proto}+mws`, () => {
    it(`gost-ts rtcp client → real gost ${proto} server (bind=true): 1 MiB by hash, peer address reported`, async (t) => {
      const target = await echoTarget(t);
      const sp = await freePort();
      const pub = await freePort();
      const server = await startGost(['-L', `${proto}+mws://127.0.0.1:${sp}?path=/ws&bind=true`]);
      const client = await startCli([
        '-L',
        `rtcp://127.0.0.1:${pub}/127.0.0.1:${target}`,
        '-F',
        `${proto}+mws://127.0.0.1:${sp}?path=/ws`,
        '-D',
      ]);
      t.after(() => stopAll(client, server));
      await client.waitForLine(/rtcp: tunnel up/);
      const payload = randomBytes(1 << 20);
      assert.equal(await echoHash(pub, payload), sha(payload));
      // Our rtcp handler saw the peer's real address (from the header of the inner stream).
      await client.waitForLine(/"client":"127\.0\.0\.1:\d+"/);
    });

    it(`real gost rtcp client → gost-ts ${proto} server (bind=true): 1 MiB by hash`, async (t) => {
      const target = await echoTarget(t);
      const sp = await freePort();
      const pub = await freePort();
      const server = await startCli(['-L', `${proto}+mws://127.0.0.1:${sp}?path=/ws&bind=true`]);
      const client = await startGost([
        '-L',
        `rtcp://127.0.0.1:${pub}/127.0.0.1:${target}`,
        '-F',
        `${proto}+mws://127.0.0.1:${sp}?path=/ws`,
      ]);
      t.after(() => stopAll(client, server));
      await server.waitForLine(/bind OK/);
      const payload = randomBytes(1 << 20);
      assert.equal(await echoHash(pub, payload), sha(payload));
      // GOST's rtcp handler logs the peer it was told about: our inner-stream header reached it.
      await client.waitForLine(new RegExp(`"msg":"127\\.0\\.0\\.1:\\d+ <-> 127\\.0\\.0\\.1:${target}"`));
    });
  });
}

describe('mux.version=2 reaches the outer and the inner session', () => {
  it('gost rtcp client → gost-ts socks5 server, and gost-ts rtcp client → gost relay server, both v2', async (t) => {
    const target = await echoTarget(t);
    const [s1, p1, s2, p2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const tsServer = await startCli(['-L', `socks5+mws://127.0.0.1:${s1}?path=/ws&bind=true&mux.version=2`]);
    const gostServer = await startGost([
      '-L',
      `relay+mws://127.0.0.1:${s2}?path=/ws&bind=true&mux.version=2`,
    ]);
    const gostClient = await startGost([
      '-L',
      `rtcp://127.0.0.1:${p1}/127.0.0.1:${target}`,
      '-F',
      `socks5+mws://127.0.0.1:${s1}?path=/ws&mux.version=2`,
    ]);
    const tsClient = await startCli([
      '-L',
      `rtcp://127.0.0.1:${p2}/127.0.0.1:${target}`,
      '-F',
      `relay+mws://127.0.0.1:${s2}?path=/ws&mux.version=2`,
    ]);
    t.after(() => stopAll(gostClient, tsClient, tsServer, gostServer));
    await tsServer.waitForLine(/bind OK/);
    await tsClient.waitForLine(/rtcp: tunnel up/);
    const payload = randomBytes(1 << 20);
    assert.equal(await echoHash(p1, payload), sha(payload));
    assert.equal(await echoHash(p2, payload), sha(payload));
  });
});

describe('relay CONNECT', () => {
  for (const auth of ['', 'u:p@']) {
    it(`gost-ts → real gost relay server${auth ? ' (auth)' : ''}: 1 MiB by hash`, async (t) => {
      const target = await echoTarget(t);
      const sp = await freePort();
      const cp = await freePort();
      const server = await startGost(['-L', `relay+mws://${auth}127.0.0.1:${sp}?path=/ws`]);
      const client = await startCli([
        '-L',
        `tcp://127.0.0.1:${cp}/127.0.0.1:${target}`,
        '-F',
        `relay+mws://${auth}127.0.0.1:${sp}?path=/ws`,
      ]);
      t.after(() => stopAll(client, server));
      const payload = randomBytes(1 << 20);
      assert.equal(await echoHash(cp, payload), sha(payload));
      await server.waitForLine(/"handler":"relay"/);
    });

    it(`real gost → gost-ts relay server${auth ? ' (auth)' : ''}: 1 MiB by hash`, async (t) => {
      const target = await echoTarget(t);
      const sp = await freePort();
      const cp = await freePort();
      const server = await startCli(['-L', `relay+mws://${auth}127.0.0.1:${sp}?path=/ws`, '-D']);
      const client = await startGost([
        '-L',
        `tcp://127.0.0.1:${cp}/127.0.0.1:${target}`,
        '-F',
        `relay+mws://${auth}127.0.0.1:${sp}?path=/ws`,
      ]);
      t.after(() => stopAll(client, server));
      const payload = randomBytes(1 << 20);
      assert.equal(await echoHash(cp, payload), sha(payload));
      await server.waitForLine(/"cmd":"connect"/);
    });
  }

  it('wrong credentials: gost-ts server answers 02 (unauthorized) and the stream ends with no byte through', async (t) => {
    const target = await echoTarget(t);
    const sp = await freePort();
    const cp = await freePort();
    const server = await startCli(['-L', `relay+mws://u:p@127.0.0.1:${sp}?path=/ws`]);
    const client = await startGost([
      '-L',
      `tcp://127.0.0.1:${cp}/127.0.0.1:${target}`,
      '-F',
      `relay+mws://u:wrong@127.0.0.1:${sp}?path=/ws`,
    ]);
    t.after(() => stopAll(client, server));
    await assert.rejects(echoHash(cp, Buffer.from('x'), 10_000), /closed after 0 of 1 bytes/);
    await server.waitForLine(/relay: authentication failed/);
  });

  it('a relay server with a fixed target forwards every stream there, both ways', async (t) => {
    const target = await echoTarget(t);
    const [gsp, tsp, c1, c2] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const gostServer = await startGost(['-L', `relay+mws://127.0.0.1:${gsp}/127.0.0.1:${target}?path=/ws`]);
    const tsServer = await startCli([
      '-L',
      `relay+mws://127.0.0.1:${tsp}/127.0.0.1:${target}?path=/ws`,
      '-D',
    ]);
    // Each client asks for a target that does not exist; the fixed target wins.
    const tsClient = await startCli([
      '-L',
      `tcp://127.0.0.1:${c1}/127.0.0.1:9`,
      '-F',
      `relay+mws://127.0.0.1:${gsp}?path=/ws`,
    ]);
    const gostClient = await startGost([
      '-L',
      `tcp://127.0.0.1:${c2}/127.0.0.1:9`,
      '-F',
      `relay+mws://127.0.0.1:${tsp}?path=/ws`,
    ]);
    t.after(() => stopAll(tsClient, gostClient, gostServer, tsServer));
    const payload = randomBytes(256 << 10);
    assert.equal(await echoHash(c1, payload), sha(payload));
    assert.equal(await echoHash(c2, payload), sha(payload));
    await tsServer.waitForLine(/"cmd":"forward"/);
  });
});

describe('socks5 CONNECT with GOST TLS methods (0x80, 0x82 with auth)', () => {
  for (const auth of ['', 'u:p@']) {
    for (const dir of ['gost-ts → gost', 'gost → gost-ts'] as const) {
      it(`${dir}${auth ? ' (auth, 0x82)' : ' (0x80)'}: 1 MiB by hash`, async (t) => {
        const target = await echoTarget(t);
        const sp = await freePort();
        const cp = await freePort();
        const serverArgs = ['-L', `socks5+mws://${auth}127.0.0.1:${sp}?path=/ws`];
        const clientArgs = [
          '-L',
          `tcp://127.0.0.1:${cp}/127.0.0.1:${target}`,
          '-F',
          `socks5+mws://${auth}127.0.0.1:${sp}?path=/ws`,
        ];
        const server =
          dir === 'gost-ts → gost' ? await startGost(serverArgs) : await startCli([...serverArgs, '-D']);
        const client = dir === 'gost-ts → gost' ? await startCli(clientArgs) : await startGost(clientArgs);
        t.after(() => stopAll(client, server));
        const payload = randomBytes(1 << 20);
        assert.equal(await echoHash(cp, payload), sha(payload));
        if (dir === 'gost → gost-ts') {
          // GOST's client offers 00 80 (00 02 80 82 with auth); our server took the TLS method, as GOST's would.
          await server.waitForLine(/tls: generated self-signed certificate/);
        }
      });
    }
  }

  it('notls on the gost-ts server: the real gost client is served without TLS', async (t) => {
    const target = await echoTarget(t);
    const sp = await freePort();
    const cp = await freePort();
    const server = await startCli(['-L', `socks5+mws://127.0.0.1:${sp}?path=/ws&notls=true`]);
    const client = await startGost([
      '-L',
      `tcp://127.0.0.1:${cp}/127.0.0.1:${target}`,
      '-F',
      `socks5+mws://127.0.0.1:${sp}?path=/ws`,
    ]);
    t.after(() => stopAll(client, server));
    const payload = randomBytes(64 << 10);
    assert.equal(await echoHash(cp, payload), sha(payload));
    assert.equal(server.count(/generated self-signed certificate/), 0);
  });
});

describe('one rtcp tunnel under load and across a server restart', () => {
  for (const dir of [
    'gost-ts rtcp → real gost socks5 server',
    'real gost rtcp → gost-ts socks5 server',
  ] as const) {
    it(`1,000 concurrent connections through one tunnel (${dir}), each by hash`, async (t) => {
      const target = await echoTarget(t);
      const sp = await freePort();
      const pub = await freePort();
      const serverArgs = ['-L', `socks5+mws://127.0.0.1:${sp}?path=/ws&bind=true`];
      const clientArgs = [
        '-L',
        `rtcp://127.0.0.1:${pub}/127.0.0.1:${target}`,
        '-F',
        `socks5+mws://127.0.0.1:${sp}?path=/ws`,
      ];
      const ours = dir.startsWith('gost-ts');
      const server = ours ? await startGost(serverArgs) : await startCli(serverArgs);
      const client = ours ? await startCli(clientArgs) : await startGost(clientArgs);
      t.after(() => stopAll(client, server));
      if (ours) await client.waitForLine(/rtcp: tunnel up/);
      else await server.waitForLine(/bind OK/);
      const payloads = Array.from({ length: 1000 }, () => randomBytes(16 << 10));
      const results = await Promise.allSettled(payloads.map((p) => echoHash(pub, p, 120_000)));
      const bad = results.flatMap((r, i) =>
        r.status === 'rejected'
          ? [`#${i}: ${String(r.reason)}`]
          : r.value === sha(payloads[i] as Buffer)
            ? []
            : [`#${i}: hash`],
      );
      assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of 1000 failed`);
      // One tunnel all along: one bind.
      if (ours) assert.equal(client.count(/rtcp: tunnel up/), 1);
      else assert.equal(server.count(/bind OK/), 1);
    });
  }

  it('the gost-ts server restarts under a gost-ts rtcp client: the tunnel is back and the port serves again', async (t) => {
    const target = await echoTarget(t);
    const sp = await freePort();
    const pub = await freePort();
    const serverArgs = ['-L', `relay+mws://127.0.0.1:${sp}?path=/ws&bind=true`];
    let server = await startCli(serverArgs);
    const client = await startCli([
      '-L',
      `rtcp://127.0.0.1:${pub}/127.0.0.1:${target}`,
      '-F',
      `relay+mws://127.0.0.1:${sp}?path=/ws`,
    ]);
    t.after(() => stopAll(client, server));
    await client.waitForLine(/rtcp: tunnel up/);
    const payload = randomBytes(64 << 10);
    assert.equal(await echoHash(pub, payload), sha(payload));
    await server.stop('SIGKILL');
    await client.waitForLine(/rtcp: tunnel lost, binding again/, 40_000);
    server = await startCli(serverArgs);
    const deadline = Date.now() + 30_000;
    while (client.count(/rtcp: tunnel up/) < 2) {
      assert.ok(Date.now() < deadline, `no second bind within 30 s:\n${client.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await echoHash(pub, payload), sha(payload));
  });

  it('the real gost server restarts: the tunnel is back within the backoff and the port serves again', async (t) => {
    const target = await echoTarget(t);
    const sp = await freePort();
    const pub = await freePort();
    const serverArgs = ['-L', `socks5+mws://127.0.0.1:${sp}?path=/ws&bind=true`];
    let server = await startGost(serverArgs);
    const client = await startCli([
      '-L',
      `rtcp://127.0.0.1:${pub}/127.0.0.1:${target}`,
      '-F',
      `socks5+mws://127.0.0.1:${sp}?path=/ws`,
    ]);
    t.after(() => stopAll(client, server));
    await client.waitForLine(/rtcp: tunnel up/);
    const payload = randomBytes(64 << 10);
    assert.equal(await echoHash(pub, payload), sha(payload));
    await server.stop('SIGKILL');
    await client.waitForLine(/rtcp: tunnel lost, binding again/, 40_000);
    server = await startGost(serverArgs);
    // First retry after 1 s, then 2 s, 4 s, 5 s...: with the server back it binds on the next step.
    const deadline = Date.now() + 30_000;
    while (client.count(/rtcp: tunnel up/) < 2) {
      assert.ok(Date.now() < deadline, `no second bind within 30 s:\n${client.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await echoHash(pub, payload), sha(payload));
    // Each retry was logged once, with GOST's delays.
    const delays = client.lines
      .filter((l) => /rtcp: (bind failed, retrying|tunnel lost)/.test(l))
      .map((l) => Number(/"retryMs":(\d+)/.exec(l)?.[1]));
    assert.equal(delays[0], 1000);
    for (let i = 1; i < delays.length; i++) assert.equal(delays[i], Math.min((delays[i - 1] ?? 0) * 2, 5000));
  });
});

describe('the gost-ts server releases a bound port when its tunnel dies', () => {
  it('real gost rtcp client killed: the port is released (logged) and a new client binds it again', async (t) => {
    const target = await echoTarget(t);
    const sp = await freePort();
    const pub = await freePort();
    const server = await startCli(['-L', `socks5+mws://127.0.0.1:${sp}?path=/ws&bind=true`]);
    const clientArgs = [
      '-L',
      `rtcp://127.0.0.1:${pub}/127.0.0.1:${target}`,
      '-F',
      `socks5+mws://127.0.0.1:${sp}?path=/ws`,
    ];
    let client = await startGost(clientArgs);
    t.after(() => stopAll(client, server));
    await server.waitForLine(/bind OK/);
    const payload = randomBytes(64 << 10);
    assert.equal(await echoHash(pub, payload), sha(payload));
    await client.stop('SIGKILL');
    await server.waitForLine(/bind: tunnel closed, port released/, 40_000);
    client = await startGost(clientArgs);
    const deadline = Date.now() + 15_000;
    while (server.count(/bind OK/) < 2) {
      assert.ok(Date.now() < deadline, `no second bind:\n${server.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await echoHash(pub, payload), sha(payload));
    assert.equal(server.count(/already in use/), 0);
  });
});

describe('refusals seen from the real gost', () => {
  it('gost rtcp client → gost-ts server without bind=true: refused 05 02, logged, retried; other clients unaffected', async (t) => {
    const target = await echoTarget(t);
    const sp = await freePort();
    const pub = await freePort();
    const cp = await freePort();
    const server = await startCli(['-L', `socks5+mws://127.0.0.1:${sp}?path=/ws`]);
    const client = await startGost([
      '-L',
      `rtcp://127.0.0.1:${pub}/127.0.0.1:${target}`,
      '-F',
      `socks5+mws://127.0.0.1:${sp}?path=/ws`,
    ]);
    // Another client of the same server. (Not through the same GOST process: after a refused bind
    // GOST's own client leaves a write deadline on its pooled WebSocket connection, and its next
    // streams on it fail with "i/o timeout", with a GOST server as with ours.)
    const other = await startGost([
      '-L',
      `tcp://127.0.0.1:${cp}/127.0.0.1:${target}`,
      '-F',
      `socks5+mws://127.0.0.1:${sp}?path=/ws`,
    ]);
    t.after(() => stopAll(client, other, server));
    await server.waitForLine(/BIND is disabled/);
    await client.waitForLine(/bind on .* failed/);
    const payload = randomBytes(64 << 10);
    assert.equal(await echoHash(cp, payload), sha(payload));
    // GOST retries with its backoff (its second attempt dies on the deadline noted above).
    await client.waitForLine(/retrying in 2s/, 15_000);
  });

  it('gost-ts rtcp client → real gost server without bind: the refusal is logged and retried with backoff', async (t) => {
    const sp = await freePort();
    const pub = await freePort();
    const server = await startGost(['-L', `relay+mws://127.0.0.1:${sp}?path=/ws`]);
    const client = await startCli([
      '-L',
      `rtcp://127.0.0.1:${pub}/127.0.0.1:9`,
      '-F',
      `relay+mws://127.0.0.1:${sp}?path=/ws`,
    ]);
    t.after(() => stopAll(client, server));
    await client.waitForLine(
      /"retryMs":2000.*rtcp: bind failed, retrying|rtcp: bind failed, retrying.*"retryMs":2000/,
      20_000,
    );
    const first = client.lines.find((l) => /rtcp: bind failed/.test(l)) ?? '';
    assert.match(first, /3 Forbidden/);
    assert.match(first, /"retryMs":1000/);
  });
});
