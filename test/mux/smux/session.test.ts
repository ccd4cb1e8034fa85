import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import type net from 'node:net';
import {
  SmuxSession,
  type SmuxStream,
  encodePsh,
  encodeControl,
  CMD_SYN,
} from '../../../src/mux/smux/index.js';
import { hasCode } from '../../../src/core/errors.js';
import { bounded, delay, readAll, socketPair, waitFor } from '../../helpers/net.js';

async function pair(opts: Partial<ConstructorParameters<typeof SmuxSession>[1]> = {}) {
  const [a, b] = await socketPair();
  const client = new SmuxSession(a, { client: true, ...opts });
  const server = new SmuxSession(b, { client: false, ...opts });
  return { client, server, a, b, close: () => (client.close(), server.close()) };
}

function echoStreams(server: SmuxSession): void {
  server.on('stream', (s) => s.pipe(s));
}

test('client stream ids are odd from 3, server ids even from 2', async (t) => {
  const { client, server, close } = await pair({ acceptStreams: true });
  t.after(close);
  assert.deepEqual([client.openStream().id, client.openStream().id, client.openStream().id], [3, 5, 7]);
  assert.deepEqual([server.openStream().id, server.openStream().id], [2, 4]);
});

for (const version of [1, 2] as const) {
  test(`v${version}: 200 concurrent streams echo 1 MiB each intact`, async (t) => {
    const { client, server, close } = await pair({ version });
    t.after(close);
    echoStreams(server);
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        const s = client.openStream();
        const data = randomBytes(1024 * 1024);
        const got = readAll(s);
        s.end(data);
        assert.equal(
          createHash('sha256')
            .update(await got)
            .digest('hex'),
          createHash('sha256').update(data).digest('hex'),
        );
      }),
    );
    await waitFor(() => client.numStreams === 0 && server.numStreams === 0, 5000, 'streams to be released');
  });
}

test('every byte written before end() arrives before the FIN', async (t) => {
  const { client, server, close } = await pair();
  t.after(close);
  const received = new Promise<Buffer>((resolve) =>
    server.once('stream', (s: SmuxStream) => resolve(readAll(s))),
  );
  const s = client.openStream();
  const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000 + i, i));
  for (const p of parts) s.write(p);
  s.end();
  assert.deepEqual(await received, Buffer.concat(parts));
});

test('close propagates both ways: a FIN ends the peer readable side after its data', async (t) => {
  const { client, server, close } = await pair();
  t.after(close);
  const accepted = once(server, 'stream') as Promise<[SmuxStream]>;
  const s = client.openStream();
  s.write('x');
  const [peer] = await accepted;
  // server → client
  const clientGot = readAll(s);
  peer.end('bye');
  assert.equal((await clientGot).toString(), 'bye');
  // client → server
  const serverGot = readAll(peer);
  s.end('done');
  assert.equal((await serverGot).toString(), 'xdone');
  await waitFor(
    () => client.numStreams === 0 && server.numStreams === 0,
    2000,
    'both sides to release the stream',
  );
});

test('half-close between two gost-ts ends: the side that got FIN can still answer', async (t) => {
  const { client, server, close } = await pair();
  t.after(close);
  server.on('stream', (s: SmuxStream) => {
    void readAll(s).then((req) => s.end(Buffer.concat([Buffer.from('echo:'), req])));
  });
  const s = client.openStream();
  const got = readAll(s);
  s.end('request');
  assert.equal((await got).toString(), 'echo:request');
});

test('v2: a write blocked on window fails when no update follows the peer FIN (xtaci peer)', async (t) => {
  const { client, server, close } = await pair({ version: 2, finWindowTimeout: 200 });
  t.after(close);
  const accepted = once(server, 'stream') as Promise<[SmuxStream]>;
  const s = client.openStream();
  s.write('x');
  const [peer] = await accepted;
  peer.pause();
  const failed = new Promise<Error>((resolve) =>
    s.write(Buffer.alloc(1024 * 1024), (e) => resolve(e as Error)),
  );
  await delay(100);
  // Like an xtaci peer: FIN, then the stream is forgotten and never read again.
  peer.end();
  const started = Date.now();
  const err = await failed;
  assert.ok(hasCode(err, 'ERR_SMUX_STREAM_CLOSED'), String(err));
  assert.ok(Date.now() - started >= 150, 'waited for an update first');
});

test('v2: a write blocked on window completes after the peer FIN when updates follow (gost-ts peer)', async (t) => {
  const { client, server, close } = await pair({ version: 2, finWindowTimeout: 5000 });
  t.after(close);
  const accepted = once(server, 'stream') as Promise<[SmuxStream]>;
  const s = client.openStream();
  s.write('x');
  const [peer] = await accepted;
  peer.pause();
  const big = randomBytes(2 * 1024 * 1024);
  const written = new Promise<Error | null | undefined>((resolve) => s.write(big, resolve));
  await delay(100);
  peer.end(); // half-close: the peer still reads
  const got = readAll(peer.resume());
  s.end();
  assert.equal((await written) ?? null, null);
  assert.equal((await got).length, big.length + 1);
});

test('destroying a stream sends FIN; the peer sees end of stream', async (t) => {
  const { client, server, close } = await pair();
  t.after(close);
  const accepted = once(server, 'stream') as Promise<[SmuxStream]>;
  const s = client.openStream();
  s.write('hello');
  const [peer] = await accepted;
  s.destroy();
  assert.equal((await readAll(peer)).toString(), 'hello');
});

test('session close fails every open stream with a clear error', async (t) => {
  const { client, server, close } = await pair();
  t.after(close);
  echoStreams(server);
  const streams = Array.from({ length: 5 }, () => client.openStream());
  const errors = streams.map((s) => once(s, 'error'));
  server.close();
  for (const e of await Promise.all(errors)) {
    assert.ok(hasCode(e[0], 'ERR_SMUX_SESSION_CLOSED'), String(e[0]));
  }
  assert.equal(client.isClosed, true);
  assert.throws(
    () => client.openStream(),
    (e: unknown) => hasCode(e, 'ERR_SMUX_SESSION_CLOSED'),
  );
});

test('keepalive: a peer that stops answering is declared dead within the timeout', async (t) => {
  const [a, b] = await socketPair();
  t.after(() => (a.destroy(), b.destroy()));
  b.resume(); // swallows everything, never answers
  const session = new SmuxSession(a, { client: true, keepAliveInterval: 100, keepAliveTimeout: 300 });
  const started = Date.now();
  const [err] = (await bounded(once(session, 'close'), 5000, 'the keepalive to close the session')) as [
    Error,
  ];
  assert.ok(hasCode(err, 'ERR_SMUX_KEEPALIVE_TIMEOUT'), String(err));
  // Wide enough for a loaded machine; the default timeout (30 s) would fail it.
  assert.ok(Date.now() - started <= 3000, `closed after ${Date.now() - started} ms`);
});

test('keepalive: NOPs keep an idle session alive', async (t) => {
  // The timeout is several intervals long so a busy event loop does not miss it; the wait is
  // three timeouts long, so a session that sent no NOPs would be dead by then.
  const { client, server, close } = await pair({ keepAliveInterval: 100, keepAliveTimeout: 500 });
  t.after(close);
  await delay(1500);
  assert.equal(client.isClosed, false);
  assert.equal(server.isClosed, false);
});

test('keepAliveDisabled: a silent peer is not closed', async (t) => {
  const [a, b] = await socketPair();
  t.after(() => (a.destroy(), b.destroy()));
  b.resume();
  const session = new SmuxSession(a, {
    client: true,
    keepAliveDisabled: true,
    keepAliveInterval: 50,
    keepAliveTimeout: 100,
  });
  await delay(400);
  assert.equal(session.isClosed, false);
  session.close();
});

async function hostile(
  bytes: Buffer,
): Promise<{ session: SmuxSession; err: Error | undefined; raw: net.Socket }> {
  const [a, b] = await socketPair();
  const session = new SmuxSession(b, { client: false });
  const closed = once(session, 'close') as Promise<[Error | undefined]>;
  a.on('error', () => {});
  a.write(bytes);
  const [err] = await bounded(closed, 5000, 'the session to close on bad input');
  return { session, err, raw: a };
}

test('bad input: wrong version byte closes the session with ERR_SMUX_BAD_VERSION', async () => {
  const { err } = await hostile(Buffer.from('0200000003000000', 'hex'));
  assert.ok(hasCode(err, 'ERR_SMUX_BAD_VERSION'), String(err));
});

test('bad input: unknown command closes the session with ERR_SMUX_BAD_COMMAND', async () => {
  const { err } = await hostile(Buffer.from('01ff000003000000', 'hex'));
  assert.ok(hasCode(err, 'ERR_SMUX_BAD_COMMAND'), String(err));
});

test('bad input: PSH for an unknown stream is dropped and the session carries on', async (t) => {
  const { client, server, close } = await pair();
  t.after(close);
  echoStreams(server);
  (client as unknown as { carrier: net.Socket }).carrier.write(encodePsh(1, 999, Buffer.from('ghost')));
  const s = client.openStream();
  const got = readAll(s);
  s.end('still fine');
  assert.equal((await got).toString(), 'still fine');
  assert.equal(server.isClosed, false);
});

test('bad input: a PSH longer than the local maxFrameSize is accepted as xtaci does', async (t) => {
  const { client, server, close } = await pair({ maxFrameSize: 1024 });
  t.after(close);
  const accepted = once(server, 'stream') as Promise<[SmuxStream]>;
  const raw = (client as unknown as { carrier: net.Socket }).carrier;
  raw.write(encodeControl(1, CMD_SYN, 41));
  raw.write(encodePsh(1, 41, Buffer.alloc(65535, 9)));
  const [s] = await bounded(accepted, 5000, 'the stream SYN 41 opens');
  let n = 0;
  s.on('data', (d: Buffer) => (n += d.length));
  await waitFor(() => n === 65535, 5000, 'the 64 KiB frame');
  assert.equal(server.isClosed, false, 'the session carries on');
});

test('bad input: a truncated frame followed by close ends the session cleanly', async () => {
  const [a, b] = await socketPair();
  const session = new SmuxSession(b, { client: false });
  const streams: SmuxStream[] = [];
  session.on('stream', (s: SmuxStream) => streams.push(s));
  const closed = once(session, 'close') as Promise<[Error | undefined]>;
  a.end(Buffer.concat([encodeControl(1, CMD_SYN, 3), encodePsh(1, 3, Buffer.alloc(100)).subarray(0, 40)]));
  const [err] = await bounded(closed, 5000, 'the session to close after the truncated frame');
  assert.ok(hasCode(err, 'ERR_SMUX_SESSION_CLOSED'), String(err));
  assert.equal(streams.length, 1);
  assert.ok(streams[0]?.destroyed);
});

test('a client session refuses peer-opened streams with FIN', async (t) => {
  const { client, server, close } = await pair();
  t.after(close);
  let accepted = 0;
  client.on('stream', () => (accepted += 1));
  const s = server.openStream();
  await bounded(once(s.resume(), 'end'), 5000, 'the FIN refusing the stream');
  assert.equal(accepted, 0);
});

test('v1: a slow reader holds at most maxReceiveBuffer, then the carrier is paused', async (t) => {
  const maxReceiveBuffer = 256 * 1024;
  const { client, server, close } = await pair({ maxReceiveBuffer, maxStreamBuffer: 65536 });
  t.after(close);
  const accepted = once(server, 'stream') as Promise<[SmuxStream]>;
  const s = client.openStream();
  s.write('hi');
  const [peer] = await accepted;
  peer.pause(); // never reads
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  const pump = (): void => {
    while (written < 8 * 1024 * 1024 && s.write(chunk)) written += chunk.length;
    if (written < 8 * 1024 * 1024) s.once('drain', pump);
  };
  pump();
  await delay(500);
  assert.ok(server.receiveBuffered <= maxReceiveBuffer + 65536, `buffered ${server.receiveBuffered}`);
  assert.ok(written < 8 * 1024 * 1024, 'the writer was held back');
  peer.resume();
  await waitFor(() => written >= 8 * 1024 * 1024, 10_000, 'the writer to finish after the reader resumed');
});

test('v2: a slow reader on one stream does not stall the others', async (t) => {
  const { client, server, close } = await pair({
    version: 2,
    maxReceiveBuffer: 1024 * 1024,
    maxStreamBuffer: 65536,
  });
  t.after(close);
  const streams: SmuxStream[] = [];
  server.on('stream', (s: SmuxStream) => streams.push(s));
  const slow = client.openStream();
  const fast = client.openStream();
  slow.write('a');
  fast.write('b');
  await waitFor(() => streams.length === 2);
  const [slowPeer, fastPeer] = streams as [SmuxStream, SmuxStream];
  slowPeer.pause(); // never reads past the first chunk
  // The slow stream can put at most its window (256 KiB initial) into the session.
  const big = Buffer.alloc(4 * 1024 * 1024);
  slow.write(big);
  await delay(200);
  const got = readAll(fastPeer);
  const data = randomBytes(2 * 1024 * 1024);
  fast.end(data);
  assert.equal((await got).length, data.length + 1);
  assert.ok(server.receiveBuffered <= 300 * 1024, `buffered ${server.receiveBuffered}`);
});

test("pendingUntil 'request': data alone keeps a stream pending; requestRead() or a reply ends it", async (t) => {
  const { client, server, close } = await pair({ maxPendingStreams: 2, pendingUntil: 'request' });
  t.after(close);
  const accepted: SmuxStream[] = [];
  server.on('stream', (s) => accepted.push(s));
  const a = client.openStream();
  const b = client.openStream();
  a.write('GET');
  b.write('GE');
  await waitFor(() => accepted.length === 2 && server.numPendingStreams === 2, 5000, 'two pending streams');
  // A third is refused: both others sent bytes, but no whole request.
  const c = client.openStream();
  c.resume();
  await bounded(once(c, 'end'), 5000, 'FIN for the stream over the limit');
  (accepted[0] as SmuxStream).requestRead();
  (accepted[1] as SmuxStream).write('reply');
  assert.equal(server.numPendingStreams, 0);
  const d = client.openStream();
  d.write('x');
  await waitFor(() => accepted.length === 3, 5000, 'the next stream to be accepted');
});

test('the FINs refusing a burst of SYNs leave in one carrier write', async (t) => {
  const [a, b] = await socketPair();
  const server = new SmuxSession(b, { client: false, maxPendingStreams: 1 });
  t.after(() => (server.close(), a.destroy()));
  const writes: number[] = [];
  const write = b.write.bind(b);
  b.write = (chunk: Buffer, ...rest: never[]) => (writes.push(chunk.length), write(chunk, ...rest));
  const syns = Buffer.concat(Array.from({ length: 500 }, (_, i) => encodeControl(1, CMD_SYN, 2 * i + 1)));
  let got = 0;
  a.on('data', (c: Buffer) => (got += c.length));
  a.write(syns);
  await waitFor(() => got >= 499 * 8, 5000, 'the 499 FINs');
  assert.equal(got, 499 * 8);
  assert.deepEqual(writes, [499 * 8], `carrier writes: ${writes.join(', ')}`);
});
