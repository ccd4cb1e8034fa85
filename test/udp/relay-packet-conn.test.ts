/**
 * The datagram channel on a relay UDP stream: the client end takes the server's response off the
 * head of the stream, then `LEN(2, BE) data` frames however the bytes are split; a refusal closes it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { RelayPacketConn } from '../../src/common/udp/relay-packet-conn.js';
import { RelayConnector } from '../../src/connector/relay/connector.js';
import { silentLogger } from '../../src/core/logger.js';

async function socketPair(t: { after: (fn: () => void) => void }): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [peer] = await accepted;
  t.after(() => (client.destroy(), peer.destroy(), server.close()));
  return [client, peer];
}

test('client end: response then frames, split one byte at a time, come out whole', async (t) => {
  const [client, peer] = await socketPair(t);
  const packets = new RelayPacketConn(client, { peer: '127.0.0.1:53', expectResponse: true });
  const got: string[] = [];
  const all = new Promise<void>((resolve) =>
    packets.onMessage((data, from) => {
      got.push(`${from} ${data.toString()}`);
      if (got.length === 2) resolve();
    }),
  );
  const bytes = Buffer.from('01000000' + '0003' + '616263' + '0002' + '7879', 'hex');
  for (const b of bytes) {
    peer.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  await Promise.race([
    all,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`only ${JSON.stringify(got)}`)), 10_000)),
  ]);
  assert.deepEqual(got, ['127.0.0.1:53 abc', '127.0.0.1:53 xy']);
  // What the client sends is framed the same way, whatever address it names.
  assert.equal(packets.send(Buffer.from('hi'), 'ignored:1'), true);
  const [back] = (await once(peer, 'data')) as [Buffer];
  assert.equal(back.toString('hex'), '00026869');
  assert.equal(packets.send(Buffer.alloc(65536), 'x:1'), 'too_large');
  packets.close();
  await packets.done;
});

test('client end: a refusal (01 07) closes the channel without delivering anything', async (t) => {
  const [client, peer] = await socketPair(t);
  const packets = new RelayPacketConn(client, { peer: '127.0.0.1:53', expectResponse: true });
  let delivered = 0;
  packets.onMessage(() => void (delivered += 1));
  peer.write(Buffer.from('01070000' + '0001' + '61', 'hex'));
  await Promise.race([
    packets.done,
    new Promise((_, reject) => setTimeout(() => reject(new Error('channel still open after 01 07')), 10_000)),
  ]);
  assert.equal(delivered, 0);
  assert.equal(packets.send(Buffer.from('a'), 'x:1'), 'send_failed');
});

test('relay connector: UDP without a fixed target (a SOCKS5 front end) is refused, naming why', async (t) => {
  const [client, peer] = await socketPair(t);
  let written = 0;
  peer.on('data', (c: Buffer) => void (written += c.length));
  await assert.rejects(
    new RelayConnector().connectUdp(client, { log: silentLogger }),
    /UDP needs a fixed target.*use socks5/,
  );
  assert.equal(client.destroyed, true);
  await once(peer, 'close');
  assert.equal(written, 0, 'nothing was sent to the server');
});
