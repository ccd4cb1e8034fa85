import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import net from 'node:net';
import {
  ReadHeadError,
  peek,
  prepend,
  readUntil,
  type HeadParser,
} from '../../src/common/buffered-reader.js';
import { ProtocolError } from '../../src/core/errors.js';
import { SocketSet, closeServer, listen, readToEnd } from '../helpers/proxy-test-utils.js';

/** "Head" = bytes up to and including the first '!'. */
const bang: HeadParser<string> = (buf) => {
  const i = buf.indexOf(0x21);
  return i < 0 ? undefined : { value: buf.toString('latin1', 0, i), consumed: i + 1 };
};

const opts = { maxBytes: 1024, errorCode: 'ERR_HTTP_BAD_REQUEST' as const, timeoutMs: 2000 };

function collect(s: PassThrough): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    s.on('data', (c: Buffer) => (out += c.toString('latin1')));
    s.on('end', () => resolve(out));
  });
}

describe('readUntil', () => {
  it('returns the head and leaves the following bytes in the stream', async () => {
    const s = new PassThrough();
    s.write('hello!world');
    const r = await readUntil(s, bang, opts);
    assert.deepEqual(r, { value: 'hello', consumed: 6 });
    const rest = collect(s);
    s.end('.');
    assert.equal(await rest, 'world.');
  });

  it('works byte by byte, and tells the parser how much it saw before', async () => {
    const s = new PassThrough();
    const prevs: number[] = [];
    const p = readUntil(
      s,
      (buf, prev) => {
        prevs.push(prev);
        return bang(buf, prev);
      },
      opts,
    );
    for (const ch of 'abc!de') {
      s.write(ch);
      await new Promise((r) => setImmediate(r));
    }
    assert.deepEqual((await p).value, 'abc');
    assert.deepEqual(prevs, [0, 1, 2, 3]);
    const rest = collect(s);
    s.end();
    assert.equal(await rest, 'de');
  });

  it('can be chained: each read starts where the previous head ended', async () => {
    const s = new PassThrough();
    s.write('one!two!three');
    assert.equal((await readUntil(s, bang, opts)).value, 'one');
    assert.equal((await readUntil(s, bang, opts)).value, 'two');
    const rest = collect(s);
    s.end();
    assert.equal(await rest, 'three');
  });

  it('leaves the stream neither flowing nor explicitly paused', async () => {
    const s = new PassThrough();
    s.write('x!y');
    await readUntil(s, bang, opts);
    await new Promise((r) => process.nextTick(r));
    assert.equal(s.readableFlowing, null);
    // A plain on('data') starts it, as on a fresh stream.
    const got = await new Promise<string>((resolve) => s.once('data', (c: Buffer) => resolve(c.toString())));
    assert.equal(got, 'y');
  });

  it('rejects on EOF before a complete head (reason eof, caller code)', async () => {
    const s = new PassThrough();
    s.end('abc');
    await assert.rejects(readUntil(s, bang, opts), (err: unknown) => {
      assert.ok(err instanceof ReadHeadError);
      assert.equal(err.reason, 'eof');
      assert.equal(err.code, 'ERR_HTTP_BAD_REQUEST');
      assert.equal(err.bytesRead, 3);
      return true;
    });
  });

  it('rejects when too many bytes arrive without a head', async () => {
    const s = new PassThrough();
    s.write(Buffer.alloc(2000, 0x61));
    await assert.rejects(
      readUntil(s, bang, { ...opts, maxBytes: 100 }),
      (err: unknown) => err instanceof ReadHeadError && err.reason === 'too-large',
    );
  });

  it('rethrows parser errors unchanged', async () => {
    const s = new PassThrough();
    s.write('zzz');
    const bad: HeadParser<never> = () => {
      throw new ProtocolError('ERR_SOCKS_PROTOCOL', 'garbage');
    };
    await assert.rejects(
      readUntil(s, bad, opts),
      (err: unknown) => err instanceof ProtocolError && err.message === 'garbage',
    );
  });

  it('times out, and aborts', async () => {
    const s = new PassThrough();
    await assert.rejects(
      readUntil(s, bang, { ...opts, timeoutMs: 30 }),
      (err: unknown) => err instanceof ReadHeadError && err.reason === 'timeout',
    );
    const ac = new AbortController();
    const p = readUntil(s, bang, { ...opts, signal: ac.signal });
    ac.abort();
    await assert.rejects(
      p,
      (err: unknown) =>
        err instanceof ReadHeadError && err.reason === 'aborted' && err.code === 'ERR_ABORTED',
    );
    await assert.rejects(readUntil(s, bang, { ...opts, signal: AbortSignal.abort() }), /aborted/);
    // No listeners left behind by the failed reads.
    assert.equal(s.listenerCount('readable'), 0);
    assert.equal(s.listenerCount('end'), 0);
  });

  it('rejects on destroy with or without error', async () => {
    const s = new PassThrough();
    const p = readUntil(s, bang, opts);
    s.destroy(new Error('boom'));
    await assert.rejects(
      p,
      (err: unknown) => err instanceof ReadHeadError && (err.reason === 'error' || err.reason === 'closed'),
    );
    await assert.rejects(
      readUntil(s, bang, opts),
      (err: unknown) => err instanceof ReadHeadError && err.reason === 'closed',
    );
  });

  it('keeps bytes that arrive with EOF after the head', async () => {
    const s = new PassThrough();
    s.end('head!tail');
    assert.equal((await readUntil(s, bang, opts)).value, 'head');
    assert.equal(await collect(s), 'tail');
  });

  it('works on a real socket and does not lose pipelined bytes', async (t) => {
    const sockets = new SocketSet();
    const got: Promise<{ head: string; rest: string }> = new Promise((resolve) => {
      const server = net.createServer({ allowHalfOpen: true }, (sock) => {
        sockets.add(sock);
        void (async () => {
          const { value } = await readUntil(sock, bang, opts);
          const rest = (await readToEnd(sock)).toString();
          resolve({ head: value, rest });
          sock.end();
        })();
      });
      t.after(async () => {
        sockets.destroyAll();
        await closeServer(server);
      });
      void listen(server).then((port) => {
        const c = sockets.add(net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }));
        c.write('GREETING!');
        c.write(Buffer.alloc(100_000, 0x62));
        c.end('END');
      });
    });
    const { head, rest } = await got;
    assert.equal(head, 'GREETING');
    assert.equal(rest.length, 100_003);
    assert.ok(rest.endsWith('bEND'));
  });
});

describe('peek / prepend', () => {
  it('peek returns the first bytes and leaves them all in place', async () => {
    const s = new PassThrough();
    s.write(Buffer.from([5, 1, 0]));
    assert.deepEqual(await peek(s, 1), Buffer.from([5]));
    assert.deepEqual(await peek(s, 2), Buffer.from([5, 1]));
    const rest = collect(s);
    s.end();
    assert.equal(Buffer.from(await rest, 'latin1').toString('hex'), '050100');
  });

  it('peek waits for enough bytes', async () => {
    const s = new PassThrough();
    const p = peek(s, 3);
    s.write('a');
    await new Promise((r) => setImmediate(r));
    s.write('bcd');
    assert.equal((await p).toString(), 'abc');
  });

  it('prepend puts bytes back in front', async () => {
    const s = new PassThrough();
    s.write('world');
    prepend(s, Buffer.from('hello '));
    prepend(s, Buffer.alloc(0));
    const rest = collect(s);
    s.end();
    assert.equal(await rest, 'hello world');
  });
});
