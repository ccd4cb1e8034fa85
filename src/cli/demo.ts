import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { silentLogger } from '../core/logger.js';
import { buildConfigFromArgs, parseArgs } from './args.js';
import { buildRuntime } from '../config/build.js';
import type { Runtime } from '../runtime/runtime.js';
import { createLogger } from './logger.js';

async function startRuntime(argv: string[], debug: boolean): Promise<Runtime> {
  const runtime = await buildRuntime(await buildConfigFromArgs(parseArgs(argv)), {
    log: debug ? createLogger({ level: 'debug' }).log : silentLogger,
  });
  await runtime.start();
  return runtime;
}

function fetchViaProxy(proxyPort: number, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port: proxyPort, path: url, headers: { Host: new URL(url).host } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(`${res.statusCode ?? 0} ${Buffer.concat(chunks).toString().trim()}`));
      },
    );
    req.on('error', reject);
  });
}

async function connectViaProxy(proxyPort: number, target: string): Promise<string> {
  const socket = net.connect(proxyPort, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  let buf = '';
  for await (const chunk of socket) {
    buf += (chunk as Buffer).toString();
    if (buf.includes('\r\n\r\n')) break;
  }
  const status = buf.split('\r\n')[0] ?? '';
  socket.destroy();
  return status;
}

/**
 * `gost-ts demo [--serve] [-D]`: runs the spec's two commands on loopback — a server
 * (`-L http+mws://127.0.0.1:PORT?path=/ws`) and a client (`-L 127.0.0.1:PORT -F http+mws://...`) —
 * plus a tiny web server, fetches a page and opens a CONNECT tunnel through them, and reports.
 * With --serve it keeps the pair running until Ctrl-C. Returns the exit code.
 */
export async function runDemo(argv: string[]): Promise<number> {
  const serve = argv.includes('--serve');
  const debug = argv.includes('-D');
  const origin = http.createServer((_req, res) => res.end('hello from the origin, through gost-ts mws\n'));
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  const originPort = (origin.address() as net.AddressInfo).port;

  const server = await startRuntime(['-L', 'http+mws://127.0.0.1:0?path=/ws'], debug);
  const serverAddr = server.services[0]?.address() ?? '';
  const client = await startRuntime(['-L', '127.0.0.1:0', '-F', `http+mws://${serverAddr}?path=/ws`], debug);
  const clientAddr = client.services[0]?.address() ?? '';
  const clientPort = Number(clientAddr.slice(clientAddr.lastIndexOf(':') + 1));
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  out(`server: gost-ts -L http+mws://${serverAddr}?path=/ws`);
  out(`client: gost-ts -L ${clientAddr} -F http+mws://${serverAddr}?path=/ws`);
  let ok = true;
  try {
    const page = await fetchViaProxy(clientPort, `http://127.0.0.1:${originPort}/`);
    out(`GET through the tunnel: ${page}`);
    ok &&= page.startsWith('200 hello');
    const tunnel = await connectViaProxy(clientPort, `127.0.0.1:${originPort}`);
    out(`CONNECT through the tunnel: ${tunnel}`);
    ok &&= tunnel.startsWith('HTTP/1.1 200');
  } catch (err) {
    out(`demo failed: ${(err as Error).message}`);
    ok = false;
  }
  out(ok ? 'demo: OK — one WebSocket session carried both connections' : 'demo: FAILED');
  if (serve && ok) {
    // Listen for Ctrl-C before saying so: a signal that arrives first would kill the process.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    out(
      `serving; use ${clientAddr} as your HTTP/SOCKS proxy (curl -x http://${clientAddr} http://127.0.0.1:${originPort}/). Ctrl-C stops.`,
    );
    await stopped;
  }
  await client.close();
  await server.close();
  origin.close();
  return ok ? 0 : 1;
}
