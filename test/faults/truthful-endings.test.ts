import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, startCli, type CliProcess } from '../helpers/cli.js';
import {
  connectVia,
  endlessSource,
  ending,
  received,
  recvDownload,
  uploadForever,
  within,
} from './support.js';

/** A gost-ts server and a gost-ts client (HTTP proxy) on loopback, both through the command line. */
async function pair(serverPort: number): Promise<{ server: CliProcess; client: CliProcess; proxy: number }> {
  const server = await startServer(serverPort);
  const proxy = await freePort();
  const client = await startCli([
    '-L',
    `http://127.0.0.1:${proxy}`,
    '-F',
    `http+mws://127.0.0.1:${serverPort}?path=/ws&muxKeepAliveInterval=1s&muxKeepAliveTimeout=3s`,
  ]);
  return { server, client, proxy };
}

function startServer(port: number): Promise<CliProcess> {
  return startCli(['-L', `http+mws://127.0.0.1:${port}?path=/ws`]);
}

describe('truthful endings: a broken tunnel resets, a finished stream ends', () => {
  it('kill -9 of the server resets every download relayed over the session (no clean EOF)', async (t) => {
    const source = await endlessSource();
    const port = await freePort();
    const { server, client, proxy } = await pair(port);
    t.after(async () => {
      await Promise.all([server.stop('SIGKILL'), client.stop('SIGKILL')]);
      await source.close();
    });
    const downloads = [0, 1, 2, 3].map(() => recvDownload(proxy, `127.0.0.1:${source.port}`));
    await within(Promise.all(downloads.map((d) => d.flowing)), 10_000, 'the downloads to flow');
    server.proc.kill('SIGKILL');
    const seen = await within(
      Promise.all(downloads.map((d) => d.ended)),
      10_000,
      'the four downloads to end',
    );
    for (const e of seen) assert.equal(e.kind, 'reset', `download ended with ${JSON.stringify(e)}`);
    // The client process carries on and the next dial after recovery succeeds.
    const again = await startServer(port);
    t.after(() => again.stop('SIGKILL'));
    const next = await connectVia(proxy, `127.0.0.1:${source.port}`);
    await received(next, 64 * 1024);
    next.destroy();
    assert.equal(client.proc.exitCode, null, 'the client process is still running');
  });

  it('kill -9 of the client resets the server side connections to targets (uploads)', async (t) => {
    // The target reads with plain recv(2), as download.py does (see recvDownload).
    const sink = spawn('python3', [fileURLToPath(new URL('./sink.py', import.meta.url))], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const sinkLines: string[] = [];
    createInterface({ input: sink.stdout }).on('line', (l) => sinkLines.push(l));
    const source = {
      port: await within(
        (async () => {
          while (sinkLines.length === 0) await new Promise((r) => setTimeout(r, 20));
          return Number(sinkLines[0]);
        })(),
        10_000,
        'the sink to listen',
      ),
      endings: () => sinkLines.slice(1),
      close: (): Promise<void> => {
        sink.kill('SIGKILL');
        return Promise.resolve();
      },
    };
    const port = await freePort();
    const { server, client, proxy } = await pair(port);
    t.after(async () => {
      await Promise.all([server.stop('SIGKILL'), client.stop('SIGKILL')]);
      await source.close();
    });
    const uploads = await Promise.all([0, 1].map(() => connectVia(proxy, `127.0.0.1:${source.port}`)));
    for (const s of uploads) uploadForever(s);
    await within(
      (async () => {
        while (uploads.some((s) => s.bytesWritten < 1024 * 1024)) await new Promise((r) => setTimeout(r, 20));
      })(),
      10_000,
      'uploads under way',
    );
    client.proc.kill('SIGKILL');
    await within(
      (async () => {
        while (source.endings().length < 2) await new Promise((r) => setTimeout(r, 20));
      })(),
      10_000,
      'the target connections to end',
    );
    for (const e of source.endings()) assert.match(e, /^reset /, `target saw ${e}`);
  });

  it('a stream that ends normally still ends with FIN, data intact', async (t) => {
    const payload = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const origin = net.createServer((s) => s.end(payload));
    origin.listen(0, '127.0.0.1');
    await once(origin, 'listening');
    const port = await freePort();
    const { server, client, proxy } = await pair(port);
    t.after(async () => {
      await Promise.all([server.stop(), client.stop()]);
      origin.close();
    });
    const s = await connectVia(proxy, `127.0.0.1:${(origin.address() as net.AddressInfo).port}`);
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    const e = await within(ending(s), 10_000, 'the download to end');
    assert.equal(e.kind, 'end');
    assert.ok(Buffer.concat(chunks).equals(payload), 'every byte arrives unaltered');
  });
});
