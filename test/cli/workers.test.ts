// `-workers N`: an mws server in several processes, driven by real GOST clients (one WebSocket
// session each). What the logs and the metrics endpoint show is checked, not timing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, startCli, type CliProcess } from '../helpers/cli.js';
import { startGost, type GostProcess } from '../helpers/gost.js';
import { delay, echoServer, waitFor } from '../helpers/net.js';

const CLIENTS = 4;
const STEP_MS = 10_000;

/** One CONNECT through an HTTP proxy, one echo of `payload`, close. */
async function connectEcho(proxyPort: number, targetPort: number, payload: string): Promise<string> {
  const s = net.connect({ host: '127.0.0.1', port: proxyPort });
  const timer = setTimeout(() => s.destroy(new Error(`no echo of ${payload} within ${STEP_MS} ms`)), STEP_MS);
  try {
    await once(s, 'connect');
    s.write(`CONNECT 127.0.0.1:${targetPort} HTTP/1.1\r\nHost: 127.0.0.1:${targetPort}\r\n\r\n`);
    let got = '';
    let echoed = '';
    let head = true;
    for await (const chunk of s) {
      got += (chunk as Buffer).toString('latin1');
      if (head) {
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) continue;
        assert.match(got.slice(0, end), /^HTTP\/1\.[01] 200/, 'CONNECT refused');
        head = false;
        echoed = got.slice(end + 4);
        s.write(payload);
      } else {
        echoed += (chunk as Buffer).toString('latin1');
      }
      if (echoed.length >= payload.length) break;
    }
    return echoed;
  } finally {
    clearTimeout(timer);
    s.destroy();
  }
}

/** The `worker` field of every log line matching `msg`. */
function workersLogging(cli: CliProcess, msg: string): number[] {
  return cli.lines.flatMap((l) => {
    if (!l.startsWith('{')) return [];
    const e = JSON.parse(l) as { msg?: string; worker?: number };
    return e.msg === msg && typeof e.worker === 'number' ? [e.worker] : [];
  });
}

function pidsOf(cli: CliProcess, msg: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of cli.lines) {
    if (!l.startsWith('{')) continue;
    const e = JSON.parse(l) as { msg?: string; worker?: number; pid?: number };
    if (e.msg === msg && typeof e.worker === 'number' && typeof e.pid === 'number') out.set(e.worker, e.pid);
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function metricValue(port: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
  assert.ok(line !== undefined, `no ${name} in the metrics:\n${text.slice(0, 2000)}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('-workers 2: sessions land in both workers, metrics add up, a killed worker is replaced, SIGTERM stops all', async () => {
  const echo = await echoServer();
  const serverPort = await freePort();
  const metricsPort = await freePort();
  const server = await startCli([
    '-L',
    `http+mws://127.0.0.1:${serverPort}?path=/ws`,
    '-workers',
    '2',
    '-metrics',
    `127.0.0.1:${metricsPort}`,
    '-D',
  ]);
  const clients: { gost: GostProcess; port: number }[] = [];
  try {
    const started = pidsOf(server, 'worker started');
    assert.deepEqual([...started.keys()].sort(), [1, 2], 'both workers logged their start');

    for (let i = 0; i < CLIENTS; i++) {
      const port = await freePort();
      const gost = await startGost([
        '-L',
        `http://127.0.0.1:${port}`,
        '-F',
        `http+mws://127.0.0.1:${serverPort}?path=/ws`,
      ]);
      clients.push({ gost, port });
      assert.equal(await connectEcho(port, echo.port, `hello ${i}`), `hello ${i}`);
    }
    // Each GOST client holds one WebSocket session; the primary hands connections out in turn.
    await waitFor(
      () => workersLogging(server, 'mws: session accepted').length >= CLIENTS,
      STEP_MS,
      `${CLIENTS} sessions accepted`,
    );
    const sessionWorkers = new Set(workersLogging(server, 'mws: session accepted'));
    assert.deepEqual([...sessionWorkers].sort(), [1, 2], 'sessions in both workers');

    // Connections are counted in the worker that served them; the endpoint shows the sum.
    await waitFor(
      () => workersLogging(server, 'closed').length >= CLIENTS,
      STEP_MS,
      'every connection closed in its worker',
    );
    assert.equal(await metricValue(metricsPort, 'gost_service_requests_total'), CLIENTS);
    assert.equal(await metricValue(metricsPort, 'gost_mws_sessions'), 0, 'client side: none');

    // A worker that dies is replaced in the same slot, by a new process that serves again.
    const victim = started.get(1) ?? assert.fail('no pid for worker 1');
    process.kill(victim, 'SIGKILL');
    await server.waitForLine(/"msg":"worker died, restarting it"/, STEP_MS);
    await waitFor(
      () => {
        const pid = pidsOf(server, 'worker started').get(1);
        return pid !== undefined && pid !== victim;
      },
      STEP_MS,
      'a new worker 1',
    );
    const replacement = pidsOf(server, 'worker started').get(1) ?? 0;
    assert.ok(alive(replacement), 'the replacement runs');
    // A GOST client whose session was in the dead worker answers 503 until it notices and redials
    // (GOST's behaviour with any server that went away); after that, every client gets through.
    for (const [i, c] of clients.entries()) {
      let last: unknown;
      for (let attempt = 0; attempt < 10; attempt++) {
        try {
          last = await connectEcho(c.port, echo.port, `again ${i}`);
          break;
        } catch (err) {
          last = err;
          await delay(200);
        }
      }
      assert.equal(last, `again ${i}`, `client ${i} after the restart: ${String(last)}`);
    }

    const workerPids = [...pidsOf(server, 'worker started').values()];
    assert.equal(await server.stop('SIGTERM'), 0, 'the primary exits cleanly');
    await waitFor(() => workerPids.every((p) => !alive(p)), STEP_MS, 'every worker gone after SIGTERM');
  } finally {
    for (const c of clients) await c.gost.stop();
    await server.stop('SIGKILL');
    await echo.close();
  }
});

test('-workers 2 with a port already in use: the primary stops and exits with status 1', async () => {
  const busy = net.createServer();
  busy.listen(0, '127.0.0.1');
  await once(busy, 'listening');
  const port = (busy.address() as net.AddressInfo).port;
  try {
    const cli = await startCli(['-L', `http://127.0.0.1:${port}`, '-workers', '2'], {
      ready: /"msg":"starting workers"/,
    });
    const [code] = (await Promise.race([
      once(cli.proc, 'exit'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('primary still running')), STEP_MS)),
    ])) as [number | null];
    assert.equal(code, 1);
    assert.ok(
      cli.lines.some((l) => l.includes('worker exited before its services listened')),
      cli.lines.join('\n'),
    );
  } finally {
    busy.close();
  }
});
