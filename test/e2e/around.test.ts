/**
 * Issue 4 acceptance through the CLI: SOCKS over mws with and without auth, multi-hop chains, a
 * multi-node hop with a dead node, port forwarding, and the reply codes for an unreachable target.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { SocksClient } from 'socks';
import { startCli, freePort, type CliProcess } from '../helpers/cli.js';
import { curl } from '../helpers/curl.js';
import { webOrigin } from '../helpers/origins.js';
import { echoServer } from '../helpers/net.js';

async function server(
  url: (port: number) => string,
  debug = false,
): Promise<{ cli: CliProcess; port: number }> {
  const port = await freePort();
  return { cli: await startCli([...(debug ? ['-D'] : []), '-L', url(port)]), port };
}

async function socksEcho(
  proxyPort: number,
  type: 4 | 5,
  target: number,
  auth?: { userId: string; password: string },
) {
  const { socket } = await SocksClient.createConnection({
    proxy: { host: '127.0.0.1', port: proxyPort, type, ...(auth ?? {}) },
    command: 'connect',
    destination: { host: type === 4 ? 'localhost' : '127.0.0.1', port: target },
    timeout: 5000,
  });
  socket.write('socks says hi');
  const [chunk] = (await once(socket, 'data')) as [Buffer];
  socket.destroy();
  return chunk.toString();
}

describe('SOCKS through auto over mws', () => {
  test('SOCKS5 and SOCKS4a CONNECT without auth; SOCKS5 with auth; a wrong password is refused', async (t) => {
    const echo = await echoServer();
    const srv = await server((p) => `http+mws://127.0.0.1:${p}?path=/ws`);
    const open = await freePort();
    const authed = await freePort();
    const clientOpen = await startCli([
      '-L',
      `127.0.0.1:${open}`,
      '-F',
      `http+mws://127.0.0.1:${srv.port}?path=/ws`,
    ]);
    const clientAuthed = await startCli([
      '-L',
      `alice:s3cret@127.0.0.1:${authed}`,
      '-F',
      `http+mws://127.0.0.1:${srv.port}?path=/ws`,
    ]);
    t.after(
      async () => (
        await clientOpen.stop(),
        await clientAuthed.stop(),
        await srv.cli.stop(),
        await echo.close()
      ),
    );
    assert.equal(await socksEcho(open, 5, echo.port), 'socks says hi');
    assert.equal(await socksEcho(open, 4, echo.port), 'socks says hi');
    assert.equal(
      await socksEcho(authed, 5, echo.port, { userId: 'alice', password: 's3cret' }),
      'socks says hi',
    );
    await assert.rejects(socksEcho(authed, 5, echo.port, { userId: 'alice', password: 'wrong' }));
    await assert.rejects(socksEcho(authed, 5, echo.port));
    // curl's own SOCKS5 client, with credentials.
    const web = await webOrigin();
    t.after(() => web.close());
    const r = await curl([
      '--socks5-hostname',
      `127.0.0.1:${authed}`,
      '--proxy-user',
      'alice:s3cret',
      `${web.url}curl-socks`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.body, 'hello /curl-socks\n');
    const denied = await curl([
      '-x',
      `http://127.0.0.1:${authed}`,
      `${web.url}no-creds`,
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
    ]);
    assert.equal(denied.body, '407');
  });

  test('an unreachable target gives 503 to HTTP, 05 04/05 to SOCKS5 and 5B to SOCKS4', async (t) => {
    const srv = await server((p) => `http+mws://127.0.0.1:${p}?path=/ws`);
    const port = await freePort();
    const client = await startCli([
      '-L',
      `127.0.0.1:${port}`,
      '-F',
      `http+mws://127.0.0.1:${srv.port}?path=/ws`,
    ]);
    t.after(async () => (await client.stop(), await srv.cli.stop()));
    const dead = await freePort();
    const http = net.connect(port, '127.0.0.1');
    http.write(`CONNECT 127.0.0.1:${dead} HTTP/1.1\r\nHost: 127.0.0.1:${dead}\r\n\r\n`);
    const [reply] = (await once(http, 'data')) as [Buffer];
    assert.match(reply.toString(), /^HTTP\/1\.1 503/);
    http.destroy();
    const s5 = net.connect(port, '127.0.0.1');
    s5.write(Buffer.from([5, 1, 0]));
    await once(s5, 'data');
    s5.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, dead >> 8, dead & 0xff]));
    const [r5] = (await once(s5, 'data')) as [Buffer];
    assert.equal(r5[0], 5);
    assert.notEqual(r5[1], 0, `SOCKS5 reply code ${r5[1]}`);
    s5.destroy();
    const s4 = net.connect(port, '127.0.0.1');
    s4.write(Buffer.from([4, 1, dead >> 8, dead & 0xff, 127, 0, 0, 1, 0]));
    const [r4] = (await once(s4, 'data')) as [Buffer];
    assert.equal(r4[1], 0x5b);
    s4.destroy();
  });
});

describe('chains', () => {
  test('a 3-hop chain mws → mwss → http carries traffic through every hop', async (t) => {
    const web = await webOrigin();
    const a = await server((p) => `http+mws://127.0.0.1:${p}?path=/ws`, true);
    const b = await server((p) => `http+mwss://127.0.0.1:${p}?path=/ws`, true);
    const c = await server((p) => `http://127.0.0.1:${p}`, true);
    const port = await freePort();
    const client = await startCli([
      '-L',
      `127.0.0.1:${port}`,
      '-F',
      `http+mws://127.0.0.1:${a.port}?path=/ws`,
      '-F',
      `http+mwss://127.0.0.1:${b.port}?path=/ws`,
      '-F',
      `http://127.0.0.1:${c.port}`,
    ]);
    t.after(
      async () => (
        await client.stop(),
        await a.cli.stop(),
        await b.cli.stop(),
        await c.cli.stop(),
        web.close()
      ),
    );
    for (let i = 0; i < 3; i++) {
      const r = await curl(['-x', `http://127.0.0.1:${port}`, `${web.url}hop${i}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.body, `hello /hop${i}\n`);
    }
    assert.equal(a.cli.count(/mws: session accepted/), 1, 'one session on the first hop');
    assert.equal(b.cli.count(/mws: session accepted/), 1, 'one session on the second hop, through the first');
    assert.ok(c.cli.count(/"msg":"accepted"/) >= 3, 'the last hop saw every connection');
  });

  test('a 3-node round hop with one node down: traffic flows and the dead node is skipped after maxFails', async (t) => {
    const web = await webOrigin();
    const a = await server((p) => `http+mws://127.0.0.1:${p}?path=/ws`, true);
    const b = await server((p) => `http+mws://127.0.0.1:${p}?path=/ws`, true);
    const dead = await freePort();
    const port = await freePort();
    const client = await startCli([
      '-L',
      `127.0.0.1:${port}`,
      '-F',
      `http+mws://127.0.0.1:${a.port},127.0.0.1:${dead},127.0.0.1:${b.port}?path=/ws&strategy=round&maxFails=1&failTimeout=60s`,
    ]);
    t.after(async () => (await client.stop(), await a.cli.stop(), await b.cli.stop(), web.close()));
    const codes: number[] = [];
    for (let i = 0; i < 9; i++)
      codes.push((await curl(['-x', `http://127.0.0.1:${port}`, `${web.url}n${i}`])).code);
    assert.ok(
      codes.filter((c) => c !== 0).length <= 1,
      `at most one failure (maxFails=1): ${codes.join(',')}`,
    );
    assert.deepEqual(codes.slice(3), [0, 0, 0, 0, 0, 0], 'once marked, the dead node is skipped');
    const served = a.cli.count(/"msg":"accepted"/) + b.cli.count(/"msg":"accepted"/);
    assert.ok(
      a.cli.count(/"msg":"accepted"/) >= 3 && b.cli.count(/"msg":"accepted"/) >= 3,
      `both live nodes served (${served})`,
    );
  });

  test('with retries=1 on the service, no request fails even on the first pass over the dead node', async (t) => {
    const web = await webOrigin();
    const a = await server((p) => `http+mws://127.0.0.1:${p}?path=/ws`);
    const dead = await freePort();
    const port = await freePort();
    const client = await startCli([
      '-L',
      `127.0.0.1:${port}?retries=1`,
      '-F',
      `http+mws://127.0.0.1:${dead},127.0.0.1:${a.port}?path=/ws`,
    ]);
    t.after(async () => (await client.stop(), await a.cli.stop(), web.close()));
    for (let i = 0; i < 4; i++) {
      const r = await curl(['-x', `http://127.0.0.1:${port}`, `${web.url}r${i}`]);
      assert.equal(r.code, 0, `request ${i}: ${r.stderr}`);
    }
  });
});

describe('port forwarding', () => {
  test('-L tcp://:PORT/target -F http+mws://server sends every connection to the target', async (t) => {
    const echo = await echoServer();
    const srv = await server((p) => `http+mws://127.0.0.1:${p}?path=/ws`);
    const port = await freePort();
    const fwd = await startCli([
      '-L',
      `tcp://127.0.0.1:${port}/127.0.0.1:${echo.port}`,
      '-F',
      `http+mws://127.0.0.1:${srv.port}?path=/ws`,
    ]);
    t.after(async () => (await fwd.stop(), await srv.cli.stop(), await echo.close()));
    for (let i = 0; i < 3; i++) {
      const s = net.connect(port, '127.0.0.1');
      await once(s, 'connect');
      s.write(`forwarded ${i}`);
      const [chunk] = (await once(s, 'data')) as [Buffer];
      assert.equal(chunk.toString(), `forwarded ${i}`);
      s.destroy();
    }
    assert.equal(echo.connections(), 3);
  });
});
