import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort, startCli } from '../helpers/cli.js';
import { startRawWsServer, type RawWsPeer } from '../helpers/raw-ws.js';
import { within } from './support.js';

// The two faults a network cannot make: the server's WebSocket sends a Close frame in the middle of
// a download, or it stays connected but falls silent (no smux frame, so the keepalive expires).
// The server is a raw WebSocket peer speaking smux v1; the application reads with plain recv(2)
// (download.py), as in the namespace matrix.

const downloadScript = fileURLToPath(new URL('./download.py', import.meta.url));
const KEEPALIVE_TIMEOUT_MS = 2000;

function psh(sid: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 1;
  h[1] = 2;
  h.writeUInt16LE(data.length, 2);
  h.writeUInt32LE(sid, 4);
  return Buffer.concat([h, data]);
}

/** Answers the first CONNECT with 200 and streams `bytes` of data on it; returns the peer and sid. */
async function serveDownload(peer: RawWsPeer, bytes: number): Promise<number> {
  const req = await peer.waitSmux((f) => f.cmd === 2, 10_000);
  peer.sendBinary(psh(req.sid, Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n')));
  for (let sent = 0; sent < bytes; sent += 32 * 1024)
    peer.sendBinary(psh(req.sid, Buffer.alloc(32 * 1024, 0x61)));
  return req.sid;
}

function download(proxy: number): { lines: string[]; done: Promise<string> } {
  const app = spawn('python3', [downloadScript, '127.0.0.1', String(proxy), 'origin.test:80'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const done = new Promise<string>((resolve) => {
    createInterface({ input: app.stdout }).on('line', (l) => {
      lines.push(l);
      if (l !== 'flowing') resolve(l);
    });
    app.once('exit', () => resolve(lines.at(-1) ?? 'no output'));
  });
  return { lines, done };
}

describe('WebSocket faults: the application sees a reset', () => {
  for (const fault of ['close frame', 'keepalive expiry'] as const) {
    it(`${fault} in the middle of a download resets it; the client carries on`, async (t) => {
      const raw = await startRawWsServer();
      const proxy = await freePort();
      const client = await startCli([
        '-L',
        `http://127.0.0.1:${proxy}`,
        '-F',
        `http+mws://${raw.addr}?path=/ws&muxKeepAliveInterval=500ms&muxKeepAliveTimeout=${KEEPALIVE_TIMEOUT_MS}ms`,
      ]);
      t.after(async () => {
        await client.stop('SIGKILL');
        await raw.close();
      });
      const app = download(proxy);
      const peer = await raw.nextConnection(10_000);
      await serveDownload(peer, 512 * 1024);
      const t0 = Date.now();
      if (fault === 'close frame') peer.sendClose(1000);
      // keepalive expiry: the peer stays connected and reads, but sends nothing more.
      const ending = await within(app.done, 3 * KEEPALIVE_TIMEOUT_MS + 5000, 'the download to end');
      assert.match(ending, /^reset /, `the application saw "${ending}" (${app.lines.join(' | ')})`);
      assert.ok(Date.now() - t0 <= 2 * KEEPALIVE_TIMEOUT_MS + 3000, `ended after ${Date.now() - t0} ms`);
      // The client is still running and opens a new session for the next connection.
      const next = download(proxy);
      const again = await raw.nextConnection(10_000);
      await serveDownload(again, 64 * 1024);
      again.sendClose(1000);
      await within(next.done, 10_000, 'the next download');
      assert.equal(client.proc.exitCode, null);
    });
  }
});
