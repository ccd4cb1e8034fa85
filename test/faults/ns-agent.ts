/**
 * A small process the fault matrix runs inside a network namespace (it cannot open sockets in one
 * itself). Talks JSON lines: commands on stdin, events on stdout.
 *
 *   ns-agent.ts source HOST     an endless-download TCP server on HOST:0; prints {"event":"ready","port"}
 *   ns-agent.ts app PROXY TARGET  an application using the HTTP proxy PROXY (host:port):
 *     {"cmd":"open","n":N}  N downloads from TARGET (download.py); {"event":"flowing"} once
 *                           each got 256 KiB, then {"event":"ended","kind","code","bytes"} for each as it ends
 *     {"cmd":"probe"}       one CONNECT + 64 KiB read: {"event":"probe","ok","err"}
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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
} else {
  process.stderr.write('usage: ns-agent.ts source HOST | app PROXY TARGET\n');
  process.exit(2);
}
