import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import { freePort, startCli } from '../helpers/cli.js';
import { startGost } from '../helpers/gost.js';
import { echoServer } from '../helpers/net.js';
import { connectVia, endlessSource, recvDownload, within } from './support.js';

async function pair(env: NodeJS.ProcessEnv = {}) {
  const port = await freePort();
  const server = await startCli(['-L', `http+mws://127.0.0.1:${port}?path=/ws`], {
    env: { ...process.env, ...env },
  });
  const proxy = await freePort();
  const client = await startCli([
    '-L',
    `http://127.0.0.1:${proxy}`,
    '-F',
    `http+mws://127.0.0.1:${port}?path=/ws`,
  ]);
  return { server, client, proxy };
}

async function echoOnce(s: Socket, text: string): Promise<string> {
  s.write(text);
  s.resume();
  const [reply] = (await within(once(s, 'data'), 10_000, `the echo of ${text}`)) as [Buffer];
  return reply.toString();
}

describe('graceful stop (SIGTERM)', () => {
  it('stops accepting, lets open streams finish, then exits 0', async (t) => {
    const echo = await echoServer();
    const { server, client, proxy } = await pair({ GOST_TS_STOP_GRACE: '30s' });
    t.after(async () => {
      await Promise.all([server.stop('SIGKILL'), client.stop('SIGKILL')]);
      await echo.close();
    });
    const open = await connectVia(proxy, `127.0.0.1:${echo.port}`);
    assert.equal(await echoOnce(open, 'before'), 'before');
    server.proc.kill('SIGTERM');
    await server.waitForLine(/stopping: waiting for open connections/);
    // The open stream still works; a new one is refused (the CONNECT fails).
    assert.equal(await echoOnce(open, 'during'), 'during');
    await assert.rejects(connectVia(proxy, `127.0.0.1:${echo.port}`), /CONNECT .*: HTTP\/1\.1 503/);
    const exited = once(server.proc, 'exit') as Promise<[number | null]>;
    assert.equal(server.proc.exitCode, null, 'still running while a stream is open');
    open.end();
    const [code] = await within(exited, 10_000, 'the server to exit once the stream finished');
    assert.equal(code, 0);
  });

  it('after the grace period what is left is reset, and the exit code is 0', async (t) => {
    const source = await endlessSource();
    const { server, client, proxy } = await pair({ GOST_TS_STOP_GRACE: '1s' });
    t.after(async () => {
      await Promise.all([server.stop('SIGKILL'), client.stop('SIGKILL')]);
      await source.close();
    });
    const download = recvDownload(proxy, `127.0.0.1:${source.port}`);
    await within(download.flowing, 10_000, 'the download to flow');
    const exited = once(server.proc, 'exit') as Promise<[number | null]>;
    server.proc.kill('SIGTERM');
    assert.equal((await within(download.ended, 15_000, 'the download to end')).kind, 'reset');
    assert.equal((await within(exited, 15_000, 'the server to exit'))[0], 0);
    await server.waitForLine(/grace period over, resetting/, 1000).catch(() => {
      throw new Error(`no "grace period over" log line:\n${server.lines.join('\n')}`);
    });
  });

  it('a second SIGTERM ends at once', async (t) => {
    const source = await endlessSource();
    const { server, client, proxy } = await pair({ GOST_TS_STOP_GRACE: '120s' });
    t.after(async () => {
      await Promise.all([server.stop('SIGKILL'), client.stop('SIGKILL')]);
      await source.close();
    });
    const download = recvDownload(proxy, `127.0.0.1:${source.port}`);
    await within(download.flowing, 10_000, 'the download to flow');
    const exited = once(server.proc, 'exit') as Promise<[number | null]>;
    server.proc.kill('SIGTERM');
    await server.waitForLine(/stopping: waiting for open connections/);
    server.proc.kill('SIGTERM');
    assert.equal((await within(exited, 10_000, 'the server to exit on the second SIGTERM'))[0], 0);
    assert.equal((await within(download.ended, 10_000, 'the download to end')).kind, 'reset');
  });
});

/** A TCP connect to `port` on 127.0.0.1 is refused: nothing listens there any more. */
async function assertRefused(port: number, what: string): Promise<void> {
  const s = net.connect(port, '127.0.0.1');
  try {
    await assert.rejects(within(once(s, 'connect'), 10_000, `a connect to ${what}`), {
      code: 'ECONNREFUSED',
    });
  } finally {
    s.destroy();
  }
}

describe('graceful stop: every listener kind stops accepting at once, open connections go on', () => {
  for (const kind of ['tcp', 'tls', 'ws', 'wss', 'mws', 'mwss'] as const) {
    it(`${kind}: the port is closed during the grace period`, async (t) => {
      const echo = await echoServer();
      const port = await freePort();
      const server = await startCli(['-L', `http+${kind}://127.0.0.1:${port}`], {
        env: { ...process.env, GOST_TS_STOP_GRACE: '30s' },
      });
      const proxy = await freePort();
      const client = await startCli([
        '-L',
        `http://127.0.0.1:${proxy}`,
        '-F',
        `http+${kind}://127.0.0.1:${port}`,
      ]);
      t.after(async () => {
        await Promise.all([server.stop('SIGKILL'), client.stop('SIGKILL')]);
        await echo.close();
      });
      const open = await connectVia(proxy, `127.0.0.1:${echo.port}`);
      assert.equal(await echoOnce(open, 'before'), 'before');
      server.proc.kill('SIGTERM');
      await server.waitForLine(/stopping: waiting for open connections/);
      await assertRefused(port, `the ${kind} listener during its grace period`);
      assert.equal(await echoOnce(open, 'during'), 'during');
      await assert.rejects(connectVia(proxy, `127.0.0.1:${echo.port}`), /CONNECT .*: HTTP\/1\.1 503/);
      const exited = once(server.proc, 'exit') as Promise<[number | null]>;
      open.end();
      assert.equal((await within(exited, 10_000, 'the server to exit'))[0], 0);
    });
  }

  it('rtcp: new peers on the published port are refused, the open one goes on', async (t) => {
    const echo = await echoServer();
    const relayPort = await freePort();
    const published = await freePort();
    const gost = await startGost(['-L', `relay+mws://127.0.0.1:${relayPort}?path=/ws&bind=true`]);
    const rtcp = await startCli(
      [
        '-L',
        `rtcp://127.0.0.1:${published}/127.0.0.1:${echo.port}`,
        '-F',
        `relay+mws://127.0.0.1:${relayPort}?path=/ws`,
      ],
      { env: { ...process.env, GOST_TS_STOP_GRACE: '30s' } },
    );
    t.after(async () => {
      await Promise.all([rtcp.stop('SIGKILL'), gost.stop()]);
      await echo.close();
    });
    await rtcp.waitForLine(/rtcp: tunnel up/);
    const open = net.connect(published, '127.0.0.1');
    open.on('error', () => {});
    await within(once(open, 'connect'), 10_000, 'a connect to the published port');
    assert.equal(await echoOnce(open, 'before'), 'before');
    rtcp.proc.kill('SIGTERM');
    await rtcp.waitForLine(/stopping: waiting for open connections/);
    assert.equal(await echoOnce(open, 'during'), 'during');
    // GOST still accepts the TCP connection, but its stream is refused: closed, nothing echoed.
    const late = net.connect(published, '127.0.0.1');
    late.on('error', () => {});
    let echoed = 0;
    late.on('data', (c: Buffer) => (echoed += c.length));
    late.write('late');
    await within(once(late, 'close'), 10_000, 'the late connection to be closed');
    assert.equal(echoed, 0, 'a peer that came during the grace period was served');
    const exited = once(rtcp.proc, 'exit') as Promise<[number | null]>;
    open.end();
    assert.equal((await within(exited, 10_000, 'the rtcp client to exit'))[0], 0);
  });
});
