import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { relay } from '../../src/common/relay.js';
import {
  SocketSet,
  closeServer,
  listen,
  readToEnd,
  waitClose,
  waitFor,
} from '../helpers/proxy-test-utils.js';
import { bounded } from '../helpers/net.js';

/** A connected loopback TCP pair [client, server side], both allowHalfOpen, destroyed in t.after. */
async function tcpPair(t: TestContext): Promise<[net.Socket, net.Socket]> {
  const sockets = new SocketSet();
  let accepted!: (s: net.Socket) => void;
  const serverSide = new Promise<net.Socket>((r) => (accepted = r));
  const server = net.createServer({ allowHalfOpen: true }, (s) => accepted(sockets.add(s)));
  const port = await listen(server);
  const client = sockets.add(net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }));
  await new Promise((r) => client.once('connect', r));
  const srv = await serverSide;
  t.after(async () => {
    sockets.destroyAll();
    await closeServer(server);
  });
  return [client, srv];
}

/**
 * client ⇄ a ==relay== b ⇄ far : `client` and `far` are the test's ends.
 */
async function relayed(t: TestContext, lingerMs?: number, signal?: AbortSignal) {
  const [client, a] = await tcpPair(t);
  const [b, far] = await tcpPair(t);
  const done = relay(a, b, { lingerMs, signal });
  return { client, a, b, far, done };
}

describe('relay', () => {
  it('copies both ways, passes FIN on, counts bytes and resolves when both are closed', async (t) => {
    const { client, a, b, far, done } = await relayed(t);
    const up = Buffer.alloc(1_000_000, 1);
    const down = Buffer.alloc(700_000, 2);
    const farGot = readToEnd(far);
    const clientGot = readToEnd(client);
    client.end(up);
    far.end(down);
    assert.equal((await farGot).length, up.length);
    assert.equal((await clientGot).length, down.length);
    const res = await bounded(done, 10_000, 'the relay to finish');
    assert.equal(res.aToB, up.length);
    assert.equal(res.bToA, down.length);
    assert.equal(res.error, undefined);
    assert.ok(a.closed && b.closed);
  });

  it('half-close: after one side ends, the other direction keeps flowing', async (t) => {
    const { client, far, done } = await relayed(t);
    const clientGot = readToEnd(client);
    // The far side answers only after it has seen the client's FIN.
    let farSaw = '';
    far.on('data', (c: Buffer) => (farSaw += c.toString()));
    far.once('end', () => {
      setTimeout(() => far.end(`late reply to ${farSaw}`), 50);
    });
    client.end('request');
    assert.equal((await clientGot).toString(), 'late reply to request');
    const res = await bounded(done, 10_000, 'the relay to finish');
    assert.equal(res.aToB, 7);
  });

  it('destroys both after lingerMs when the other direction never ends', async (t) => {
    const { client, a, b, far, done } = await relayed(t, 100);
    far.resume();
    client.resume();
    const t0 = Date.now();
    client.end('bye');
    await bounded(done, 10_000, 'the relay to finish');
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 90, `closed too early (${elapsed} ms)`);
    assert.ok(elapsed < 3000, `linger not applied (${elapsed} ms)`);
    assert.ok(a.destroyed && b.destroyed);
    await waitClose(client);
  });

  it('an error on one side destroys both and is reported, never thrown', async (t) => {
    const { client, a, b, done } = await relayed(t);
    client.resume();
    a.destroy(new Error('boom'));
    const res = await bounded(done, 10_000, 'the relay to finish');
    assert.equal(res.error?.message, 'boom');
    assert.ok(b.destroyed);
  });

  it('a peer reset destroys the other side', async (t) => {
    const { client, b, far, done } = await relayed(t);
    const farEnded = readToEnd(far);
    client.resetAndDestroy();
    await bounded(done, 10_000, 'the relay to finish');
    assert.ok(b.destroyed);
    // b was destroyed, so the far end sees EOF.
    await farEnded;
  });

  it('aborting the signal destroys both', async (t) => {
    const ac = new AbortController();
    const { client, a, b, far, done } = await relayed(t, undefined, ac.signal);
    client.resume();
    far.resume();
    ac.abort();
    await bounded(done, 10_000, 'the relay to finish');
    assert.ok(a.destroyed && b.destroyed);
  });

  it('resolves at once for already-closed streams', async () => {
    const a = new PassThrough();
    const b = new PassThrough();
    a.destroy();
    const res = await relay(a, b);
    assert.deepEqual(res, { aToB: 0, bToA: 0 });
    assert.ok(b.destroyed);
  });

  it('backpressure: a stalled reader stops the writer instead of growing memory', async (t) => {
    const { client, a, b, far, done } = await relayed(t);
    // `far` never reads. The client writes until its own socket pushes back.
    far.pause();
    const chunk = Buffer.alloc(64 * 1024, 7);
    let written = 0;
    let sawFalse = false;
    for (let i = 0; i < 2000 && !sawFalse; i++) {
      written += chunk.length;
      if (!client.write(chunk)) sawFalse = true;
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    // Keep offering data for a while; the relay must keep its own buffers bounded meanwhile.
    let maxRelayBuffered = 0;
    for (let i = 0; i < 40; i++) {
      if (client.writableLength < 4 * 1024 * 1024) {
        client.write(chunk);
        written += chunk.length;
      }
      await new Promise((r) => setTimeout(r, 5));
      maxRelayBuffered = Math.max(maxRelayBuffered, b.writableLength + a.readableLength);
    }
    assert.ok(sawFalse, 'client.write() never returned false');
    assert.ok(a.isPaused(), 'relay did not pause its source');
    // About one highWaterMark per stream plus one chunk in flight; never the megabytes written.
    assert.ok(maxRelayBuffered < 1024 * 1024, `relay buffered ${maxRelayBuffered} bytes`);
    assert.ok(written > 2 * 1024 * 1024);

    // Unstall: everything arrives, in order and complete.
    const farGot = readToEnd(far, 20_000);
    client.end();
    client.resume();
    const got = await farGot;
    assert.equal(got.length, written);
    far.end();
    const res = await bounded(done, 10_000, 'the relay to finish');
    assert.equal(res.aToB, written);
  });

  it('works over generic Duplex streams (not only sockets)', async () => {
    const mk = () => {
      const out: Buffer[] = [];
      const d = new Duplex({
        allowHalfOpen: true,
        read() {},
        write(c: Buffer, _e, cb) {
          out.push(c);
          cb();
        },
        final(cb) {
          cb();
        },
      });
      return { d, out };
    };
    const x = mk();
    const y = mk();
    const done = relay(x.d, y.d);
    x.d.push('to-y');
    y.d.push('to-x');
    x.d.push(null);
    y.d.push(null);
    const res = await bounded(done, 10_000, 'the relay to finish');
    assert.equal(Buffer.concat(y.out).toString(), 'to-y');
    assert.equal(Buffer.concat(x.out).toString(), 'to-x');
    assert.deepEqual(res, { aToB: 4, bToA: 4 });
    await waitFor(() => x.d.destroyed && y.d.destroyed);
  });
});
