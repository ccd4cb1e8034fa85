/**
 * Graceful stop (SIGTERM) of the `udp` and `rudp` listeners, as the README's "Stopping" says: a
 * peer that was not there before gets nothing, a session already open keeps relaying until it ends
 * (or the grace period does), and the UDP port is released once the service has no session left —
 * seen from outside as ICMP port unreachable, i.e. ECONNREFUSED on a connected UDP socket. Where
 * the port must close while the process still runs, a TCP forward with an open connection holds
 * the process in its grace period, so the port closing cannot be the process exiting.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { freePort, startCli, type CliProcess } from '../helpers/cli.js';
import { startGost } from '../helpers/gost.js';
import { bounded, echoServer } from '../helpers/net.js';
import { freeUdpPort, udpEcho, waitForEcho } from '../helpers/udp.js';

const graceEnv = (grace: string): NodeJS.ProcessEnv => ({ ...process.env, GOST_TS_STOP_GRACE: grace });

/**
 * A UDP target that echoes every datagram at once, except those starting with `hold`, which it
 * only records; `seen` lists every payload it received, in order.
 */
async function holdingTarget(): Promise<{
  port: number;
  seen: string[];
  received: (text: string) => Promise<void>;
  close: () => void;
}> {
  const sock = dgram.createSocket('udp4');
  const seen: string[] = [];
  const waiters = new Map<string, () => void>();
  sock.on('message', (msg, r) => {
    const text = msg.toString();
    seen.push(text);
    waiters.get(text)?.();
    if (!text.startsWith('hold')) sock.send(msg, r.port, r.address);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return {
    port: sock.address().port,
    seen,
    received: (text) =>
      seen.includes(text)
        ? Promise.resolve()
        : bounded(new Promise<void>((r) => waiters.set(text, r)), 10_000, `the target to receive "${text}"`),
    close: () => sock.close(),
  };
}

/** A UDP socket connected to 127.0.0.1:`port` that records what comes back and ICMP refusals. */
async function peer(
  t: TestContext,
  port: number,
): Promise<{ sock: dgram.Socket; got: string[]; reply: (sent: string) => Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString()));
  sock.on('error', () => undefined);
  sock.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  t.after(() => sock.close());
  return {
    sock,
    got,
    reply: async (sent) => {
      sock.send(sent);
      const [m] = (await bounded(once(sock, 'message'), 10_000, `the reply to "${sent}"`)) as [Buffer];
      assert.equal(m.toString(), sent);
    },
  };
}

/**
 * Sends a probe every 100 ms (at most 200) from a socket connected to `port` until the kernel
 * answers ECONNREFUSED: nothing is bound there any more. Fails naming `what` otherwise.
 */
async function untilRefused(port: number, what: string): Promise<{ answered: number }> {
  const sock = dgram.createSocket('udp4');
  let answered = 0;
  sock.on('message', () => (answered += 1));
  const refused = new Promise<void>((resolve) =>
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve();
    }),
  );
  sock.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  try {
    for (let i = 0; i < 200; i++) {
      sock.send('probe');
      const done = await Promise.race([
        refused.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 100)),
      ]);
      if (done) return { answered };
    }
    throw new Error(`${what}: 127.0.0.1:${port} still takes datagrams after 200 probes`);
  } finally {
    sock.close();
  }
}

/** An open TCP connection through the forward on `port` that echoes, to hold the grace period. */
async function heldConnection(
  t: TestContext,
  port: number,
): Promise<{ echo: (text: string) => Promise<void>; end(): void }> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await bounded(once(s, 'connect'), 10_000, 'a connection to the TCP forward');
  t.after(() => s.destroy());
  return {
    echo: async (text) => {
      s.write(text);
      const [d] = (await bounded(once(s, 'data'), 10_000, `the TCP echo of "${text}"`)) as [Buffer];
      assert.equal(d.toString(), text);
    },
    end: () => s.end(),
  };
}

async function exitCode(cli: CliProcess, what: string): Promise<number | null> {
  if (cli.proc.exitCode !== null) return cli.proc.exitCode;
  const [code] = (await bounded(once(cli.proc, 'exit'), 20_000, what)) as [number | null];
  return code;
}

describe('graceful stop of the udp listener', () => {
  it('with no session open the port is released at once, while the process still waits for others', async (t) => {
    const echo = await udpEcho();
    const tcpEcho = await echoServer();
    const up = await freeUdpPort();
    const tp = await freePort();
    const cli = await startCli(
      [
        '-L',
        `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}`,
        '-L',
        `tcp://127.0.0.1:${tp}/127.0.0.1:${tcpEcho.port}`,
      ],
      { env: graceEnv('30s') },
    );
    t.after(async () => {
      await cli.stop('SIGKILL');
      echo.close();
      await tcpEcho.close();
    });
    // The udp service works (its session ends with the reply: keepalive is off).
    await (await peer(t, up)).reply('before');
    const held = await heldConnection(t, tp);
    await held.echo('held');
    cli.proc.kill('SIGTERM');
    await cli.waitForLine(/stopping: waiting for open connections/);
    const { answered } = await untilRefused(up, 'the udp port during the grace period');
    assert.equal(answered, 0, 'a probe during the stop was answered');
    assert.equal(cli.proc.exitCode, null, 'the process still runs: the port closing was the listener');
    await held.echo('still held');
    held.end();
    assert.equal(await exitCode(cli, 'the exit once the TCP connection ended'), 0);
  });

  it('an open session keeps relaying, a new peer gets nothing, the port is released once the session ends', async (t) => {
    const target = await holdingTarget();
    const tcpEcho = await echoServer();
    const up = await freeUdpPort();
    const tp = await freePort();
    const cli = await startCli(
      [
        '-L',
        `udp://127.0.0.1:${up}/127.0.0.1:${target.port}`,
        '-L',
        `tcp://127.0.0.1:${tp}/127.0.0.1:${tcpEcho.port}`,
      ],
      { env: graceEnv('30s') },
    );
    t.after(async () => {
      await cli.stop('SIGKILL');
      target.close();
      await tcpEcho.close();
    });
    const held = await heldConnection(t, tp);
    await held.echo('held');
    const a = await peer(t, up);
    a.sock.send('hold-a'); // opens A's session; the target keeps it waiting for an answer
    await target.received('hold-a');
    cli.proc.kill('SIGTERM');
    await cli.waitForLine(/stopping: waiting for open connections/);
    const b = await peer(t, up);
    await new Promise<void>((r) => b.sock.send('late-b', () => r()));
    // The listener reads A's next datagram after B's, and the answer ends A's session (keepalive
    // off), the udp service's last: the service then closes its port.
    await a.reply('during-a');
    const { answered } = await untilRefused(up, 'the udp port once its last session ended');
    assert.equal(answered, 0, 'a probe during the stop was answered');
    assert.equal(cli.proc.exitCode, null, 'the process still runs: the port closing was the listener');
    assert.deepEqual(b.got, [], 'the peer that came during the stop was answered');
    assert.ok(
      !target.seen.includes('late-b'),
      'the datagram of the peer that came during the stop was relayed',
    );
    await held.echo('still held');
    held.end();
    assert.equal(await exitCode(cli, 'the exit once the TCP connection ended'), 0);
  });

  it('a session still open when the grace period ends is cut and the port released', async (t) => {
    const echo = await udpEcho();
    const up = await freeUdpPort();
    const cli = await startCli(
      ['-L', `udp://127.0.0.1:${up}/127.0.0.1:${echo.port}?keepalive=true&ttl=120s`],
      {
        env: graceEnv('1s'),
      },
    );
    t.after(async () => {
      await cli.stop('SIGKILL');
      echo.close();
    });
    const a = await peer(t, up);
    await a.reply('before');
    cli.proc.kill('SIGTERM');
    await cli.waitForLine(/grace period over, resetting/, 20_000);
    assert.equal(await exitCode(cli, 'the exit after the grace period'), 0);
    await untilRefused(up, 'the udp port after the grace period');
  });
});

describe('graceful stop of the rudp listener (real GOST binds the port)', () => {
  async function gostBinder(t: TestContext): Promise<number> {
    const sp = await freePort();
    const gost = await startGost(['-L', `relay+mws://127.0.0.1:${sp}?path=/ws&bind=true`]);
    t.after(() => gost.stop());
    return sp;
  }

  it('with no session open the remote port is released at once, while the process still waits for others', async (t) => {
    const sp = await gostBinder(t);
    const echo = await udpEcho();
    const tcpEcho = await echoServer();
    const rp = await freeUdpPort();
    const tp = await freePort();
    const cli = await startCli(
      [
        '-L',
        `rudp://127.0.0.1:${rp}/127.0.0.1:${echo.port}?ttl=1s`,
        '-L',
        `tcp://127.0.0.1:${tp}/127.0.0.1:${tcpEcho.port}`,
        '-F',
        `relay+mws://127.0.0.1:${sp}?path=/ws`,
      ],
      { env: graceEnv('30s') },
    );
    t.after(async () => {
      await cli.stop('SIGKILL');
      echo.close();
      await tcpEcho.close();
    });
    await cli.waitForLine(/rudp: bound on the remote node/);
    await waitForEcho(rp); // its session ends 1 s after its last datagram (ttl)
    const held = await heldConnection(t, tp);
    await held.echo('held');
    cli.proc.kill('SIGTERM');
    await cli.waitForLine(/stopping: waiting for open connections/);
    await untilRefused(rp, 'the port GOST bound for the rudp listener, during the grace period');
    assert.equal(cli.proc.exitCode, null, 'the process still runs: the port closing was the listener');
    await held.echo('still held');
    held.end();
    assert.equal(await exitCode(cli, 'the exit once the TCP connection ended'), 0);
  });

  it('an open session keeps relaying, a new peer gets nothing, the remote port is released once it ends', async (t) => {
    const sp = await gostBinder(t);
    const target = await holdingTarget();
    const rp = await freeUdpPort();
    const cli = await startCli(
      [
        '-L',
        `rudp://127.0.0.1:${rp}/127.0.0.1:${target.port}?ttl=120s`,
        '-F',
        `relay+mws://127.0.0.1:${sp}?path=/ws`,
      ],
      { env: graceEnv('30s') },
    );
    t.after(async () => {
      await cli.stop('SIGKILL');
      target.close();
    });
    await cli.waitForLine(/rudp: bound on the remote node/);
    const a = await peer(t, rp);
    a.sock.send('hold-a');
    await target.received('hold-a');
    cli.proc.kill('SIGTERM');
    await cli.waitForLine(/stopping: waiting for open connections/);
    const b = await peer(t, rp);
    await new Promise<void>((r) => b.sock.send('late-b', () => r()));
    // A's datagrams and B's come down the one bind stream in order: A's answer comes after B's was read.
    await a.reply('during-a');
    assert.equal(
      cli.proc.exitCode,
      null,
      'the rudp session (keepalive) holds the process in its grace period',
    );
    assert.deepEqual(b.got, [], 'the peer that came during the stop was answered');
    assert.ok(
      !target.seen.includes('late-b'),
      'the datagram of the peer that came during the stop was relayed',
    );
    // The session ends at the end of the grace period: SIGTERM again ends it now, as documented.
    cli.proc.kill('SIGTERM');
    assert.equal(await exitCode(cli, 'the exit on the second SIGTERM'), 0);
    await untilRefused(rp, 'the port GOST bound for the rudp listener, after the stop');
  });
});
