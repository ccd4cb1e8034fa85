import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { UdpTunPacketConn } from '../../src/common/udp/tun-packet-conn.js';

test('UDP-TUN channel: a backed-up stream drops instead of queueing; bad sizes are refused', () => {
  // A stream that never finishes a write (a stalled tunnel): its buffer passes the high-water mark.
  const stream = new Duplex({ highWaterMark: 1024, read: () => undefined, write: () => undefined });
  const tun = new UdpTunPacketConn(stream);
  const results = Array.from({ length: 20 }, () => tun.send(Buffer.alloc(200), '127.0.0.1:53'));
  const accepted = results.filter((r) => r === true).length;
  assert.ok(accepted > 0 && accepted < 20, `accepted ${accepted}`);
  assert.ok(results.slice(accepted).every((r) => r === 'tunnel_busy'));
  // Bounded: what is queued is at most the high-water mark plus one frame.
  assert.ok(stream.writableLength <= 1024 + 200 + 16, `queued ${stream.writableLength}`);
  assert.equal(tun.send(Buffer.alloc(0), '127.0.0.1:53'), 'bad_datagram');
  assert.equal(tun.send(Buffer.alloc(70_000), '127.0.0.1:53'), 'too_large');
  tun.close();
  assert.equal(tun.send(Buffer.from('x'), '127.0.0.1:53'), 'send_failed');
});

test('UDP-TUN channel: frames in, datagrams with their source out; a bad frame closes it', async () => {
  const stream = new PassThrough();
  const tun = new UdpTunPacketConn(stream);
  const got: Array<[string, string]> = [];
  tun.onMessage((d, from) => got.push([d.toString(), from]));
  stream.write(Buffer.from('0005ff017f0000014a3b68656c6c6f', 'hex'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, [['hello', '127.0.0.1:19003']]);
  stream.write(Buffer.from('0001ff09', 'hex'));
  await tun.done;
  assert.equal(stream.destroyed, true);
});
