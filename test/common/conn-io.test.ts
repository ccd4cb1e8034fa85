import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { endGracefully, writeAsync } from '../../src/common/conn-io.js';
import { SocketSet, closeServer, listen, readToEnd } from '../helpers/proxy-test-utils.js';
import { bounded } from '../helpers/net.js';

describe('endGracefully', () => {
  it('delivers the reply even when the peer sent data nobody read (no RST)', async (t) => {
    const sockets = new SocketSet();
    const closed: Array<Promise<void>> = [];
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      sockets.add(s);
      // Reply at once, without reading the request the client keeps sending.
      setTimeout(() => closed.push(endGracefully(s, 'HTTP/1.1 400 Bad Request\r\n\r\n')), 20);
    });
    const port = await listen(server);
    t.after(async () => {
      sockets.destroyAll();
      await closeServer(server);
    });
    const c = sockets.add(net.connect({ port, host: '127.0.0.1' }));
    await new Promise((r) => c.once('connect', r));
    const got = readToEnd(c);
    c.write(Buffer.alloc(256 * 1024, 0x41));
    assert.equal((await got).toString(), 'HTTP/1.1 400 Bad Request\r\n\r\n');
    await bounded(Promise.all(closed), 5000, 'endGracefully to resolve once the client closed');
  });

  it('destroys after waitMs when the peer never closes', async () => {
    // A peer that never sends FIN: the readable side never ends.
    const s = new Duplex({
      read() {},
      write(_c, _e, cb) {
        cb();
      },
    });
    const t0 = Date.now();
    await bounded(endGracefully(s, 'bye', 50), 5000, 'endGracefully to give up after 50 ms');
    assert.ok(s.destroyed);
    assert.ok(Date.now() - t0 >= 45);
  });

  it('resolves at once for a closed stream', async () => {
    const s = new PassThrough();
    s.destroy();
    await new Promise((r) => setImmediate(r));
    // "At once": on the same turn, not after the 2 s close wait.
    let resolved = false;
    const done = endGracefully(s, 'x').then(() => (resolved = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(resolved, true, 'endGracefully waited on a stream that was already closed');
    await done;
  });
});

describe('writeAsync', () => {
  it('resolves on the write callback and rejects on a closed stream', async () => {
    const s = new PassThrough();
    await writeAsync(s, 'abc');
    assert.equal((s.read() as Buffer | null)?.toString(), 'abc');
    s.destroy();
    await assert.rejects(writeAsync(s, 'x'), /closed/);
  });
});
