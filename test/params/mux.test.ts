// smux parameters of the mws dialer and listener, observed as smux frames on the wire (facts §3, §9.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Conn } from '../../src/core/types.js';
import { encodeControl, encodePsh, encodeUpd } from '../../src/mux/smux/frame.js';
import { tcpDialContext } from '../helpers/mws.js';
import { delay, waitFor } from '../helpers/net.js';
import type { RawWsPeer } from '../helpers/raw-ws.js';
import { dialerRig, gaps, listenerRig, rawClient, readBytes, within } from './_util.js';

const SYN = 0;
const PSH = 2;
const NOP = 3;
const UPD = 4;

const nops = (p: RawWsPeer): number => p.smuxFrames.filter((f) => f.cmd === NOP && f.sid === 0).length;

/** A raw client session against a listener: SYN 3 (echoed by the listener rig). */
function openEcho(c: RawWsPeer, version = 1, sid = 3): void {
  c.sendBinary(encodeControl(version, SYN, sid));
}

// ---- keepalive: disabled / interval / timeout ---------------------------------------------------

/**
 * NOPs sent every 250 ms: the mean gap over the first five is checked, not each gap, because arrival
 * times bunch when the machine is loaded. Its lower bound catches a sender much faster than asked, the
 * upper one a sender on the default interval (10 s); both leave room for a busy event loop.
 */
function assertKeepaliveRate(at: number[]): void {
  const first5 = at.slice(0, 5);
  const mean = ((first5[4] as number) - (first5[0] as number)) / 4;
  assert.ok(mean > 120 && mean < 2000, `mean NOP gap ${mean} ms, gaps ${gaps(first5).join(', ')} ms`);
}

for (const key of ['muxKeepAliveDisabled', 'mux.keepaliveDisabled'] as const) {
  test(`dialer ${key}=true: no NOP frames (even with a 200 ms interval)`, async (t) => {
    const { peer, stream } = await dialerRig(t, { [key]: true, 'mux.keepaliveInterval': '200ms' });
    await stream;
    await delay(900);
    assert.equal(nops(peer), 0);
    assert.equal(peer.isClosed, false, 'and no keepalive check closes the silent session');
  });

  test(`listener ${key}=true: no NOP frames, silent client not dropped`, async (t) => {
    const { port } = await listenerRig(t, {
      [key]: true,
      muxKeepAliveInterval: '200ms',
      muxKeepAliveTimeout: '400ms',
    });
    const c = await rawClient(t, port);
    await delay(1000);
    assert.equal(nops(c), 0);
    assert.equal(c.isClosed, false);
  });
}

for (const key of ['muxKeepAliveInterval', 'mux.keepaliveInterval'] as const) {
  test(`dialer ${key}=250ms: NOP (cmd 3, sid 0, length 0) about every 250 ms`, async (t) => {
    const { peer, stream } = await dialerRig(t, { [key]: '250ms' });
    await stream;
    await waitFor(() => nops(peer) >= 5, 10_000, 'five NOPs (the default interval would take 50 s)');
    const n = peer.smuxFrames.filter((f) => f.cmd === NOP);
    assert.ok(n.every((f) => f.sid === 0 && f.length === 0 && f.version === 1));
    assertKeepaliveRate(n.map((f) => f.at));
  });

  test(`listener ${key}=250ms: NOP about every 250 ms`, async (t) => {
    const { port } = await listenerRig(t, { [key]: '250ms' });
    const c = await rawClient(t, port);
    await waitFor(() => nops(c) >= 5, 10_000, 'five NOPs (the default interval would take 50 s)');
    assertKeepaliveRate(c.smuxFrames.filter((f) => f.cmd === NOP).map((f) => f.at));
  });
}

test('default keepalive interval: no NOP within the first second', async (t) => {
  const { peer, stream } = await dialerRig(t, {});
  await stream;
  await delay(1000);
  assert.equal(nops(peer), 0);
});

for (const key of ['muxKeepAliveTimeout', 'mux.keepaliveTimeout'] as const) {
  test(`dialer ${key}=600ms: a silent server is dropped within ~600 ms`, async (t) => {
    const { peer, stream } = await dialerRig(t, { [key]: '600ms', muxKeepAliveInterval: '200ms' });
    const s = await stream;
    const start = Date.now();
    // Bounds wide enough for a loaded machine; the default timeout (30 s) would still fail them.
    assert.equal(await peer.closesWithin(5000), true, 'dropped');
    const elapsed = Date.now() - start;
    assert.ok(elapsed < 4000, `dropped after ${elapsed} ms`);
    await waitFor(() => s.destroyed, 2000, 'stream destroyed with its session');
  });

  test(`listener ${key}=600ms: a silent client is dropped; a talking one is kept`, async (t) => {
    const { port } = await listenerRig(t, { [key]: '600ms', muxKeepAliveInterval: '200ms' });
    const silent = await rawClient(t, port);
    const talking = await rawClient(t, port);
    const timer = setInterval(() => talking.sendBinary(encodeControl(1, NOP, 0)), 150);
    t.after(() => clearInterval(timer));
    const start = Date.now();
    assert.equal(await silent.closesWithin(5000), true, 'silent client dropped');
    assert.ok(Date.now() - start < 4000, `dropped after ${Date.now() - start} ms`);
    await delay(700);
    assert.equal(talking.isClosed, false, 'the client that sends NOPs survives');
  });
}

test('default keepalive timeout: a silent peer is still connected after 1.5 s', async (t) => {
  const { peer, stream } = await dialerRig(t, { muxKeepAliveInterval: '200ms' });
  await stream;
  assert.equal(await peer.closesWithin(1500), false);
});

// ---- maxFrameSize --------------------------------------------------------------------------------

for (const key of ['muxMaxFrameSize', 'mux.maxFrameSize'] as const) {
  test(`dialer ${key}=1000: a 10 000-byte write becomes PSH frames ≤ 1000`, async (t) => {
    const { peer, stream } = await dialerRig(t, { [key]: 1000 });
    const s = await stream;
    s.write(Buffer.alloc(10_000, 3));
    await waitFor(
      () => peer.smuxFrames.filter((f) => f.cmd === PSH).reduce((n, f) => n + f.length, 0) >= 10_000,
      3000,
      'all data',
    );
    const psh = peer.smuxFrames.filter((f) => f.cmd === PSH);
    assert.equal(psh.length, 10);
    assert.ok(psh.every((f) => f.length === 1000 && f.sid === 3));
  });

  test(`listener ${key}=1000: echoed 10 000 bytes come back in PSH frames ≤ 1000`, async (t) => {
    const { port } = await listenerRig(t, { [key]: 1000 });
    const c = await rawClient(t, port);
    openEcho(c);
    c.sendBinary(encodePsh(1, 3, Buffer.alloc(10_000, 5)));
    await waitFor(
      () => c.smuxFrames.filter((f) => f.cmd === PSH).reduce((n, f) => n + f.length, 0) >= 10_000,
      3000,
      'echo',
    );
    const psh = c.smuxFrames.filter((f) => f.cmd === PSH);
    assert.ok(
      psh.every((f) => f.length <= 1000),
      psh.map((f) => f.length).join(','),
    );
    assert.ok(psh.length >= 10);
  });
}

test('default maxFrameSize: a 40 000-byte write → 32768 + 7232', async (t) => {
  const { peer, stream } = await dialerRig(t, {});
  const s = await stream;
  s.write(Buffer.alloc(40_000, 3));
  await waitFor(() => peer.smuxFrames.filter((f) => f.cmd === PSH).length >= 2, 3000, 'frames');
  assert.deepEqual(
    peer.smuxFrames.filter((f) => f.cmd === PSH).map((f) => f.length),
    [32_768, 7232],
  );
});

// ---- maxReceiveBuffer ----------------------------------------------------------------------------

/**
 * Dialer: stream 3 is never read; the raw server sends `fill` bytes to it, then "hello" to stream 5,
 * whose reader does read. Resolves whether "hello" arrived within `waitMs`: short where it must not
 * arrive (the window can only miss a fault, never fail a good run), long where it must, so a loaded
 * machine does not fail it.
 */
async function dialerHeadOfLine(
  t: Parameters<typeof dialerRig>[0],
  md: Record<string, unknown>,
  fill: number,
  waitMs: number,
) {
  const { peer, stream, dialer, server } = await dialerRig(t, md);
  const idle = await stream; // sid 3, never read
  const reader = await dialer.dial(server.addr, tcpDialContext()); // sid 5
  t.after(() => reader.destroy());
  await peer.waitSmux((f) => f.cmd === SYN && f.sid === 5);
  for (let sent = 0; sent < fill; sent += 32_768) peer.sendBinary(encodePsh(1, 3, Buffer.alloc(32_768, 1)));
  peer.sendBinary(encodePsh(1, 5, Buffer.from('hello')));
  const got = await within(
    readBytes(reader, 5, waitMs).then((b) => b.toString()),
    waitMs + 100,
    'nothing',
  ).catch(() => 'nothing');
  return { got, idle, reader };
}

for (const key of ['muxMaxReceiveBuffer', 'mux.maxReceiveBuffer'] as const) {
  test(`dialer ${key}=65536: an unread stream with 64 KiB buffered stops the carrier (head-of-line)`, async (t) => {
    const { got, idle, reader } = await dialerHeadOfLine(t, { [key]: 65_536 }, 4 * 32_768, 700);
    assert.equal(got, 'nothing', 'the session must stop reading after 64 KiB');
    // Reading the idle stream gives budget back; the queued frame for stream 5 is then delivered.
    const later = readBytes(reader, 5, 3000);
    idle.resume();
    assert.equal((await later).toString(), 'hello');
  });
}

test('dialer default maxReceiveBuffer (4 MiB): 128 KiB unread does not block other streams', async (t) => {
  const { got } = await dialerHeadOfLine(t, {}, 4 * 32_768, 5000);
  assert.equal(got, 'hello');
});

test('listener muxMaxReceiveBuffer=65536: an unread stream blocks the session after 64 KiB', async (t) => {
  for (const [md, expectBlocked] of [
    [{ muxMaxReceiveBuffer: 65_536 }, true],
    [{}, false],
  ] as const) {
    let held: Conn | undefined;
    const { port } = await listenerRig(t, md, (c) => {
      if (held === undefined)
        held = c; // the first stream is never read
      else c.pipe(c);
    });
    const c = await rawClient(t, port);
    openEcho(c, 1, 3);
    for (let i = 0; i < 4; i++) c.sendBinary(encodePsh(1, 3, Buffer.alloc(32_768, 1)));
    openEcho(c, 1, 5);
    c.sendBinary(encodePsh(1, 5, Buffer.from('hello')));
    // A short window where the echo must not come (it can only miss a fault), a long one where it must.
    const waitMs = expectBlocked ? 700 : 5000;
    const echoed = await within(
      c.waitSmux((f) => f.cmd === PSH && f.sid === 5, waitMs).then(() => true),
      waitMs + 100,
      false,
    ).catch(() => false);
    assert.equal(echoed, !expectBlocked, JSON.stringify(md));
    if (expectBlocked) {
      held?.resume();
      await c.waitSmux((f) => f.cmd === PSH && f.sid === 5, 3000);
    }
  }
});

// ---- maxStreamBuffer (v2 window) and version -----------------------------------------------------

for (const key of ['muxMaxStreamBuffer', 'mux.maxStreamBuffer'] as const) {
  test(`dialer mux.version=2 ${key}=100000: UPD frames carry window=100000`, async (t) => {
    const { peer, stream } = await dialerRig(t, { 'mux.version': 2, [key]: 100_000 });
    const s = await stream;
    peer.sendBinary(encodePsh(2, 3, Buffer.alloc(119, 1)));
    assert.equal((await readBytes(s, 119)).length, 119);
    const upd = await peer.waitSmux((f) => f.cmd === UPD);
    assert.deepEqual([upd.version, upd.sid, upd.length, upd.consumed, upd.window], [2, 3, 8, 119, 100_000]);
  });

  test(`listener mux.version=2 ${key}=100000: UPD window=100000`, async (t) => {
    const { port } = await listenerRig(t, { 'mux.version': 2, [key]: 100_000 });
    const c = await rawClient(t, port);
    openEcho(c, 2);
    c.sendBinary(encodePsh(2, 3, Buffer.alloc(62, 1)));
    const upd = await c.waitSmux((f) => f.cmd === UPD);
    assert.deepEqual([upd.version, upd.sid, upd.consumed, upd.window], [2, 3, 62, 100_000]);
  });
}

test('mux.version=2 default maxStreamBuffer: UPD window=65536', async (t) => {
  const { peer, stream } = await dialerRig(t, { 'mux.version': 2 });
  const s = await stream;
  peer.sendBinary(encodePsh(2, 3, Buffer.alloc(10, 1)));
  await readBytes(s, 10);
  const upd = await peer.waitSmux((f) => f.cmd === UPD);
  assert.equal(upd.window, 65_536);
});

test('mux.version: version byte on the wire (dialer SYN), v1 by default', async (t) => {
  const v2 = await dialerRig(t, { 'mux.version': 2 });
  await v2.stream;
  assert.deepEqual((await v2.peer.waitSmux((f) => f.cmd === SYN)).version, 2);
  const v1 = await dialerRig(t, {});
  await v1.stream;
  const syn = await v1.peer.waitSmux((f) => f.cmd === SYN);
  assert.deepEqual([syn.version, syn.sid], [1, 3]);
  // v1 never sends UPD even when reading.
  const s = await v1.stream;
  v1.peer.sendBinary(encodePsh(1, 3, Buffer.alloc(10, 1)));
  await readBytes(s, 10);
  await delay(100);
  assert.equal(v1.peer.smuxFrames.filter((f) => f.cmd === UPD).length, 0);
});

test('listener mux.version=2: NOP with version 2; a v1 frame kills the session', async (t) => {
  const { port } = await listenerRig(t, { 'mux.version': 2, muxKeepAliveInterval: '200ms' });
  const c = await rawClient(t, port);
  const nop = await c.waitSmux((f) => f.cmd === NOP, 2000);
  assert.equal(nop.version, 2);
  c.sendBinary(encodeControl(1, SYN, 3));
  assert.equal(await c.closesWithin(5000), true);
});

test('dialer v2 sender honours the peer window from UPD (window=1000 → at most 1000 in flight)', async (t) => {
  const { peer, stream } = await dialerRig(t, { 'mux.version': 2 });
  const s = await stream;
  peer.sendBinary(encodeUpd(2, 3, 0, 1000));
  // Frames are handled in order: once this PSH reaches the stream's reader, the UPD before it has
  // been applied, so the write below meets the 1000-byte window, not the initial one.
  peer.sendBinary(encodePsh(2, 3, Buffer.from('go')));
  assert.equal((await readBytes(s, 2)).toString(), 'go');
  s.write(Buffer.alloc(5000, 9));
  const sentBytes = (): number =>
    peer.smuxFrames.filter((f) => f.cmd === PSH).reduce((n, f) => n + f.length, 0);
  await waitFor(() => sentBytes() >= 1000, 3000, 'the first window of data');
  await delay(300); // room for anything beyond the window to show up (it must not)
  assert.equal(sentBytes(), 1000);
  peer.sendBinary(encodeUpd(2, 3, 1000, 1000));
  await waitFor(() => sentBytes() === 2000, 3000, 'the next window');
});
