import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { freePort, startCli } from '../helpers/cli.js';
import { curl } from '../helpers/curl.js';
import { OP_BINARY, encodeFrame, openRawWsClient, rawWsClient, type RawWsPeer } from '../helpers/raw-ws.js';
import { echoServer } from '../helpers/net.js';
import { connectVia, within } from './support.js';
import { SmuxSession, type SmuxStream } from '../../src/mux/smux/index.js';
import { parseRelayRequest, encodeRelayResponse, addrFeature } from '../../src/proto/relay/codec.js';
import { CMD_BIND } from '../../src/proto/relay/constants.js';

const CMD_SYN = 0;
const CMD_FIN = 1;
const CMD_PSH = 2;

/** smux v1 frames as one masked WebSocket message. */
function smuxMessage(frames: { cmd: number; sid: number; data?: Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of frames) {
    const h = Buffer.alloc(8);
    h[0] = 1;
    h[1] = f.cmd;
    h.writeUInt16LE(f.data?.length ?? 0, 2);
    h.writeUInt32LE(f.sid, 4);
    parts.push(h);
    if (f.data !== undefined) parts.push(f.data);
  }
  return encodeFrame({ opcode: OP_BINARY, payload: Buffer.concat(parts), mask: true });
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  await within(
    (async () => {
      while (!cond()) await new Promise((r) => setTimeout(r, 20));
    })(),
    ms,
    what,
  );
}

/**
 * A bare WebSocket client that counts the smux FINs it receives without keeping the bytes (the
 * recording test peer would copy 100,000 small messages quadratically).
 */
async function floodClient(port: number): Promise<{ socket: net.Socket; fins(): number }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(
    `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 7).toString('base64')}\r\n\r\n`,
  );
  let buf: Buffer = Buffer.alloc(0);
  let upgraded = false;
  let smux: Buffer = Buffer.alloc(0);
  let fins = 0;
  const ready = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!buf.subarray(0, 12).toString().includes('101')) reject(new Error(buf.toString()));
        upgraded = true;
        buf = buf.subarray(end + 4);
        resolve();
      }
      const payloads: Buffer[] = [];
      for (;;) {
        if (buf.length < 2) break;
        let len = (buf[1] as number) & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) break;
          len = buf.readUInt16BE(2);
          off = 4;
        } else if (len === 127) {
          if (buf.length < 10) break;
          len = Number(buf.readBigUInt64BE(2));
          off = 10;
        }
        if (buf.length < off + len) break;
        if (((buf[0] as number) & 0x0f) === OP_BINARY) payloads.push(buf.subarray(off, off + len));
        buf = buf.subarray(off + len);
      }
      if (payloads.length > 0) smux = Buffer.concat([smux, ...payloads]);
      let at = 0;
      while (smux.length - at >= 8) {
        const cmd = smux[at + 1] as number;
        const len = cmd === CMD_PSH ? smux.readUInt16LE(at + 2) : cmd === 4 ? 8 : 0;
        if (smux.length - at < 8 + len) break;
        if (cmd === CMD_FIN) fins += 1;
        at += 8 + len;
      }
      smux = smux.subarray(at);
    });
  });
  await within(ready, 5000, 'the 101');
  return { socket, fins: () => fins };
}

function finsFor(peer: RawWsPeer): Set<number> {
  return new Set(peer.smuxFrames.filter((f) => f.cmd === CMD_FIN).map((f) => f.sid));
}

describe('limits', () => {
  /**
   * 100,000 streams opened on one session by a peer that never completes a request: bare SYNs, or
   * SYNs each followed by one byte. With the default options every stream beyond the 1024 pending
   * ones is refused with FIN, the server's RSS grows by less than FLOOD_BUDGET at its peak (measured
   * 13–18 MB over an idle 66–70 MB; the budget keeps the whole process under 100 MB with room for
   * a garbage collection that comes late) and another session keeps working.
   */
  const FLOOD_BUDGET = 30 * 1024 * 1024;
  for (const kind of ['bare SYNs', 'SYNs each followed by one byte'] as const) {
    it(`a flood of 100,000 ${kind} on one session stays within ${FLOOD_BUDGET / 1048576} MB and other sessions keep working`, async (t) => {
      const port = await freePort();
      const metricsPort = await freePort();
      const server = await startCli([
        '-L',
        `http+mws://127.0.0.1:${port}?path=/ws`,
        '-metrics',
        `127.0.0.1:${metricsPort}`,
      ]);
      const proxy = await freePort();
      const client = await startCli([
        '-L',
        `http://127.0.0.1:${proxy}`,
        '-F',
        `http+mws://127.0.0.1:${port}?path=/ws`,
      ]);
      const echo = await echoServer();
      t.after(async () => {
        await Promise.all([server.stop('SIGKILL'), client.stop('SIGKILL')]);
        await echo.close();
      });
      const pid = server.proc.pid as number;
      const before = rssBytes(pid);
      const flood = await floodClient(port);
      t.after(() => flood.socket.destroy());
      const total = 100_000;
      const oneByte = Buffer.from('C');
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 20);
      t.after(() => clearInterval(sampler));
      for (let batch = 0; batch < total / 1000; batch++) {
        const frames = [];
        for (let i = 0; i < 1000; i++) {
          const sid = 2 * (batch * 1000 + i) + 1;
          frames.push({ cmd: CMD_SYN, sid });
          if (kind !== 'bare SYNs') frames.push({ cmd: CMD_PSH, sid, data: oneByte });
        }
        if (!flood.socket.write(smuxMessage(frames))) await once(flood.socket, 'drain');
      }
      // Every stream beyond the pending-stream limit is refused with FIN at once.
      await until(
        () => flood.fins() >= total - 1024,
        60_000,
        `FINs for the refused SYNs (${flood.fins()} so far)`,
      );
      clearInterval(sampler);
      peak = Math.max(peak, rssBytes(pid));
      const mb = (n: number): number => Math.round(n / 1048576);
      t.diagnostic(`server RSS ${mb(before)} MB before, peak ${mb(peak)} MB (+${mb(peak - before)} MB)`);
      assert.ok(
        peak - before < FLOOD_BUDGET,
        `the flood cost ${mb(peak - before)} MB (${mb(before)} -> ${mb(peak)} MB; budget ${mb(FLOOD_BUDGET)} MB)`,
      );
      // Another session is served as usual.
      const s = await connectVia(proxy, `127.0.0.1:${echo.port}`);
      s.write('still here');
      s.resume();
      const [reply] = (await within(once(s, 'data'), 10_000, 'the echo through a second session')) as [
        Buffer,
      ];
      assert.equal(reply.toString(), 'still here');
      s.destroy();
      await server.waitForLine(/limit reached: pending_streams_per_session/);
      const m = (await curl([`http://127.0.0.1:${metricsPort}/metrics`])).body;
      const hits = /gost_ts_limit_hits_total\{limit="pending_streams_per_session"\} (\d+)/.exec(m);
      assert.ok(hits !== null && Number(hits[1]) >= total - 1024, `metric: ${hits?.[0] ?? 'missing'}`);
    });
  }

  it('streams per session: SYNs beyond mux.maxStreams get FIN, the first ones stay open', async (t) => {
    const port = await freePort();
    const server = await startCli(['-L', `http+mws://127.0.0.1:${port}?path=/ws&mux.maxStreams=3`]);
    t.after(() => server.stop('SIGKILL'));
    const peer = await openRawWsClient(port, { path: '/ws' });
    t.after(() => peer.destroy());
    const frames = [];
    // Each stream sends the start of a request, so none is pending; the handler waits for the rest.
    for (const sid of [1, 3, 5, 7, 9])
      frames.push({ cmd: CMD_SYN, sid }, { cmd: CMD_PSH, sid, data: Buffer.from('CON') });
    peer.socket.write(smuxMessage(frames));
    await until(() => finsFor(peer).size >= 2, 10_000, 'FIN for the streams over the limit');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual([...finsFor(peer)].sort(), [7, 9]);
    await server.waitForLine(/limit reached: streams_per_session \(3\)/);
  });

  it("pending streams: SYNs beyond mux.maxPendingStreams get FIN until a stream's request is read", async (t) => {
    const echo = await echoServer();
    const port = await freePort();
    const server = await startCli(['-L', `http+mws://127.0.0.1:${port}?path=/ws&mux.maxPendingStreams=2`]);
    t.after(async () => {
      await server.stop('SIGKILL');
      await echo.close();
    });
    const peer = await openRawWsClient(port, { path: '/ws' });
    t.after(() => peer.destroy());
    peer.socket.write(smuxMessage([1, 3, 5].map((sid) => ({ cmd: CMD_SYN, sid }))));
    await until(() => finsFor(peer).has(5), 10_000, 'FIN for stream 5');
    // The start of a request is not a request: stream 1 still counts, so stream 7 is refused.
    peer.socket.write(
      smuxMessage([
        { cmd: CMD_PSH, sid: 1, data: Buffer.from('CON') },
        { cmd: CMD_SYN, sid: 7 },
      ]),
    );
    await until(() => finsFor(peer).has(7), 10_000, 'FIN for stream 7');
    // Stream 1's request is complete and served: no longer pending, so stream 9 fits, 11 does not.
    peer.socket.write(
      smuxMessage([
        { cmd: CMD_PSH, sid: 1, data: Buffer.from(`NECT 127.0.0.1:${echo.port} HTTP/1.1\r\n\r\n`) },
      ]),
    );
    await until(
      () => peer.smuxFrames.some((f) => f.cmd === CMD_PSH && f.sid === 1),
      10_000,
      "the reply to stream 1's CONNECT",
    );
    peer.socket.write(
      smuxMessage([
        { cmd: CMD_SYN, sid: 9 },
        { cmd: CMD_SYN, sid: 11 },
      ]),
    );
    await until(() => finsFor(peer).has(11), 10_000, 'FIN for stream 11');
    assert.equal(finsFor(peer).has(9), false, 'stream 9 was accepted');
    assert.equal(finsFor(peer).has(1), false, 'stream 1 is open');
    await server.waitForLine(/limit reached: pending_streams_per_session \(2\)/);
  });

  it('sessions per listener: an upgrade beyond maxSessions is answered 503', async (t) => {
    const port = await freePort();
    const server = await startCli(['-L', `http+mws://127.0.0.1:${port}?path=/ws&maxSessions=2`]);
    t.after(() => server.stop('SIGKILL'));
    const a = await openRawWsClient(port, { path: '/ws' });
    const b = await openRawWsClient(port, { path: '/ws' });
    t.after(() => (a.destroy(), b.destroy()));
    const c = rawWsClient(port, { path: '/ws' });
    t.after(() => c.destroy());
    const res = await within(c.response, 5000, 'the reply to the third upgrade');
    assert.equal(res.status, 503);
    await server.waitForLine(/limit reached: sessions_per_listener \(2\)/);
    // A slot frees when a session ends.
    a.destroy();
    await a.closed;
    await until(() => true, 100, 'nothing');
    const d = await within(
      (async () => {
        for (;;) {
          try {
            return await openRawWsClient(port, { path: '/ws' });
          } catch {
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      })(),
      5000,
      'an upgrade once a session ended',
    );
    d.destroy();
  });

  it('handshakes per listener: connections beyond ws.maxHandshakes are closed at once', async (t) => {
    const port = await freePort();
    const server = await startCli(['-L', `http+mws://127.0.0.1:${port}?path=/ws&ws.maxHandshakes=2`]);
    t.after(() => server.stop('SIGKILL'));
    const idle: net.Socket[] = [];
    t.after(() => idle.forEach((s) => s.destroy()));
    for (let i = 0; i < 2; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      await once(s, 'connect');
      idle.push(s);
    }
    await new Promise((r) => setTimeout(r, 100)); // the server has counted both
    const third = net.connect(port, '127.0.0.1');
    third.on('error', () => {});
    idle.push(third);
    await within(once(third, 'close'), 5000, 'the third connection to be closed');
    await server.waitForLine(/limit reached: handshakes_per_listener \(2\)/);
    assert.equal(idle[0]?.destroyed, false, 'the first ones are still waiting for their handshake');
  });

  for (const kind of ['tls', 'wss', 'mwss'] as const) {
    it(`${kind}: connections that stall in the TLS handshake count against ws.maxHandshakes`, async (t) => {
      const echo = await echoServer();
      const port = await freePort();
      const metricsPort = await freePort();
      const server = await startCli([
        '-L',
        `http+${kind}://127.0.0.1:${port}?maxHandshakes=2`,
        '-metrics',
        `127.0.0.1:${metricsPort}`,
      ]);
      const proxy = await freePort();
      const client = await startCli([
        '-L',
        `http://127.0.0.1:${proxy}`,
        '-F',
        `http+${kind}://127.0.0.1:${port}`,
      ]);
      const stalled: net.Socket[] = [];
      t.after(async () => {
        stalled.forEach((s) => s.destroy());
        await Promise.all([server.stop('SIGKILL'), client.stop('SIGKILL')]);
        await echo.close();
      });
      const open = await connectVia(proxy, `127.0.0.1:${echo.port}`);
      open.resume();
      const echoed = async (text: string): Promise<string> => {
        open.write(text);
        const [reply] = (await within(once(open, 'data'), 10_000, `the echo of ${text}`)) as [Buffer];
        return reply.toString();
      };
      assert.equal(await echoed('before'), 'before');
      // One peer sends nothing, one the start of a ClientHello: both stall before TLS is done.
      const clientHelloStart = Buffer.from('16030100c8010000c40303', 'hex');
      for (const first of [undefined, clientHelloStart]) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => {});
        await once(s, 'connect');
        if (first !== undefined) s.write(first);
        stalled.push(s);
      }
      // The limit is full: one more connection is closed at once, long before any timeout (60 s).
      const third = net.connect(port, '127.0.0.1');
      third.on('error', () => {});
      stalled.push(third);
      await within(once(third, 'close'), 10_000, 'the connection beyond the limit to be closed');
      await server.waitForLine(/limit reached: handshakes_per_listener \(2\)/);
      const m = (await curl([`http://127.0.0.1:${metricsPort}/metrics`])).body;
      assert.match(m, /gost_ts_limit_hits_total\{limit="handshakes_per_listener"\} [1-9]/);
      // What was established keeps working; once the stalled peers go, new clients get in.
      assert.equal(await echoed('during'), 'during');
      assert.equal(stalled[0]?.destroyed, false, 'a stalled peer within the limit is still waiting');
      for (const s of stalled) s.destroy();
      const proxy2 = await freePort();
      const client2 = await startCli([
        '-L',
        `http://127.0.0.1:${proxy2}`,
        '-F',
        `http+${kind}://127.0.0.1:${port}`,
      ]);
      t.after(() => client2.stop('SIGKILL'));
      const fresh = await connectVia(proxy2, `127.0.0.1:${echo.port}`);
      fresh.write('fresh');
      fresh.resume();
      const [reply] = (await within(once(fresh, 'data'), 10_000, 'the echo through a new client')) as [
        Buffer,
      ];
      assert.equal(reply.toString(), 'fresh');
      fresh.destroy();
      open.destroy();
    });

    it(`${kind}: a TLS handshake that stalls is closed after handshakeTimeout`, async (t) => {
      const port = await freePort();
      const server = await startCli(['-L', `http+${kind}://127.0.0.1:${port}?handshakeTimeout=1s`]);
      t.after(() => server.stop('SIGKILL'));
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      t.after(() => s.destroy());
      await once(s, 'connect');
      s.write(Buffer.from('16030100c8010000c40303', 'hex'));
      await within(once(s, 'close'), 15_000, 'the server to close the stalled handshake');
    });
  }

  it("rtcp backlog: peers beyond the tunnel's backlog are refused, counted and logged", async (t) => {
    const echo = await echoServer();
    // A relay server that accepts the bind, then opens inner streams and sends their peer headers
    // only when told: until then each one is held by the tunnel.
    let session: SmuxSession | undefined;
    let onBound: (s: SmuxSession) => void = () => {};
    const bound = new Promise<SmuxSession>((resolve) => (onBound = resolve));
    const relay = net.createServer((sock) => {
      sock.on('error', () => {});
      let head = Buffer.alloc(0);
      const onData = (c: Buffer): void => {
        head = Buffer.concat([head, c]);
        const req = parseRelayRequest(head);
        if (req === undefined) return;
        sock.off('data', onData);
        assert.equal(req.value.cmd, CMD_BIND);
        sock.write(encodeRelayResponse(0, [addrFeature('127.0.0.1', 2222)]));
        session = new SmuxSession(sock, { client: true, acceptStreams: false });
        onBound(session);
      };
      sock.on('data', onData);
    });
    relay.listen(0, '127.0.0.1');
    await once(relay, 'listening');
    t.after(() => relay.close());
    const metricsPort = await freePort();
    const rtcp = await startCli([
      '-L',
      `rtcp://127.0.0.1:2222/127.0.0.1:${echo.port}?backlog=2`,
      '-F',
      `relay://127.0.0.1:${(relay.address() as net.AddressInfo).port}`,
      '-metrics',
      `127.0.0.1:${metricsPort}`,
    ]);
    t.after(async () => {
      session?.close();
      await rtcp.stop('SIGKILL');
      await echo.close();
    });
    const server = await within(bound, 10_000, 'the rtcp client to bind');
    const ended = (s: SmuxStream): Promise<unknown> => {
      s.resume();
      return once(s, 'end');
    };
    const streams = [0, 1, 2, 3].map(() => server.openStream());
    // Two are held waiting for their headers; the other two are refused at once (FIN).
    await within(
      Promise.all([ended(streams[2] as SmuxStream), ended(streams[3] as SmuxStream)]),
      10_000,
      'FIN for the streams beyond the backlog',
    );
    await rtcp.waitForLine(/limit reached: bind_backlog \(2\)/);
    const m = (await curl([`http://127.0.0.1:${metricsPort}/metrics`])).body;
    assert.match(m, /gost_ts_limit_hits_total\{limit="bind_backlog"\} 2\b/);
    // A header arrives: that stream goes to the service (echoed), which frees a place.
    const first = streams[0] as SmuxStream;
    first.write(encodeRelayResponse(0, [addrFeature('10.9.8.7', 4000)]));
    first.write('hello');
    const [reply] = (await within(once(first, 'data'), 10_000, 'the echo through the tunnel')) as [Buffer];
    assert.equal(reply.toString(), 'hello');
    const next = server.openStream();
    next.write(encodeRelayResponse(0, [addrFeature('10.9.8.7', 4001)]));
    next.write('again');
    const [again] = (await within(once(next, 'data'), 10_000, 'a stream once a place was free')) as [Buffer];
    assert.equal(again.toString(), 'again');
  });
});
