/**
 * A small process the fault matrix runs inside a network namespace (it cannot open sockets in one
 * itself). Talks JSON lines: commands on stdin, events on stdout.
 *
 *   ns-agent.ts source HOST     an endless-download TCP server on HOST:0; prints {"event":"ready","port"}
 *   ns-agent.ts app PROXY TARGET  an application using the HTTP proxy PROXY (host:port):
 *     {"cmd":"open","n":N}  N downloads from TARGET (download.py); {"event":"flowing"} once
 *                           each got 256 KiB, then {"event":"ended","kind","code","bytes"} for each as it ends
 *     {"cmd":"probe"}       one CONNECT + 64 KiB read: {"event":"probe","ok","err"}
 *   ns-agent.ts rawws HOST PORT NOP_MS  a raw WebSocket peer speaking smux v1 on HOST:PORT in place of
 *                         a tunnel server: answers each stream's first frame (the CONNECT) with a 200
 *                         and 512 KiB, sends a NOP every NOP_MS on every connection; prints
 *                         {"event":"ready"}. The two faults a network cannot make:
 *     {"cmd":"close-frame"}  every open connection gets a WebSocket Close frame (1000)
 *     {"cmd":"silent"}       every open connection stays open and reads, but sends nothing more
 *                            (no NOP either), so the other end's keepalive expires
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { once } from 'node:events';
import { OP_CLOSE, RawWsPeer } from '../helpers/raw-ws.js';
import { connectVia, endlessSource, received } from './support.js';

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

/** The application (download.py): a CONNECT tunnel to `target` through `proxy`, read until it ends. */
function download(proxy: string, target: string): Promise<void> {
  const [host, port] = hostPort(proxy);
  const app = spawn('python3', [downloadScript, host, String(port), target], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  app.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    createInterface({ input: app.stdout }).on('line', (line) => {
      const [kind, bytes, ...what] = line.split(' ');
      if (kind === 'flowing') {
        resolve();
        return;
      }
      emit({ event: 'ended', kind, bytes: Number(bytes), what: what.join(' ') });
      resolve();
    });
    app.once('exit', (code) => {
      if (code !== 0 && stderr !== '') emit({ event: 'ended', kind: 'error', what: stderr.trim() });
      resolve();
    });
  });
}

/** One smux v1 frame (version 1: no window updates). */
function smuxFrame(cmd: number, sid: number, data: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 1;
  h[1] = cmd;
  h.writeUInt16LE(data.length, 2);
  h.writeUInt32LE(sid, 4);
  return Buffer.concat([h, data]);
}

const downloadScript = fileURLToPath(new URL('./download.py', import.meta.url));

function hostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'source') {
  const src = await endlessSource(a ?? '0.0.0.0');
  emit({ event: 'ready', port: src.port });
} else if (mode === 'app' && a !== undefined && b !== undefined) {
  const [proxyHost, proxyPort] = hostPort(a);
  const open = async (n: number): Promise<void> => {
    await Promise.all(Array.from({ length: n }, () => download(a, b)));
    emit({ event: 'flowing' });
  };
  const probe = async (): Promise<void> => {
    try {
      const s = await connectVia(proxyPort, b, proxyHost);
      await received(s, 64 * 1024, 5000);
      s.destroy();
      emit({ event: 'probe', ok: true });
    } catch (err) {
      emit({ event: 'probe', ok: false, err: (err as Error).message });
    }
  };
  emit({ event: 'ready' });
  createInterface({ input: process.stdin }).on('line', (line) => {
    const cmd = JSON.parse(line) as { cmd: string; n?: number };
    if (cmd.cmd === 'open') void open(cmd.n ?? 1);
    else if (cmd.cmd === 'probe') void probe();
  });
  process.stdin.once('end', () => process.exit(0));
} else if (mode === 'rawws' && a !== undefined && b !== undefined) {
  const nopMs = Number(process.argv[5] ?? 500);
  const open = new Set<{ peer: RawWsPeer; silent: boolean }>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const conn = { peer: new RawWsPeer(socket, { role: 'server' }), silent: false };
    open.add(conn);
    const served = new Set<number>();
    conn.peer.on('smux', (f: { cmd: number; sid: number }) => {
      if (f.cmd !== 2 || served.has(f.sid) || conn.silent) return;
      served.add(f.sid);
      conn.peer.sendBinary(smuxFrame(2, f.sid, Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n')));
      for (let sent = 0; sent < 512 * 1024; sent += 32 * 1024)
        conn.peer.sendBinary(smuxFrame(2, f.sid, Buffer.alloc(32 * 1024, 0x61)));
    });
    // The other end answers a Close with its own: the connection is over.
    conn.peer.on('frame', (f: { opcode: number }) => {
      if (f.opcode === OP_CLOSE) socket.destroy();
    });
    const nop = setInterval(() => {
      if (!conn.silent) conn.peer.sendBinary(smuxFrame(3, 0, Buffer.alloc(0)));
    }, nopMs);
    socket.once('close', () => {
      clearInterval(nop);
      open.delete(conn);
    });
  });
  server.listen(Number(b), a);
  await once(server, 'listening');
  emit({ event: 'ready' });
  createInterface({ input: process.stdin }).on('line', (line) => {
    const cmd = JSON.parse(line) as { cmd: string };
    for (const conn of open) {
      if (cmd.cmd === 'close-frame') conn.peer.sendClose(1000);
      else if (cmd.cmd === 'silent') conn.silent = true;
    }
    emit({ event: 'done', cmd: cmd.cmd, connections: open.size });
  });
  process.stdin.once('end', () => process.exit(0));
} else {
  process.stderr.write('usage: ns-agent.ts source HOST | app PROXY TARGET | rawws HOST PORT NOP_MS\n');
  process.exit(2);
}
