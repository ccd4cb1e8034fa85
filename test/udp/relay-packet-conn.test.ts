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

test('relay connector: UDP without a fixed target is an association (BIND|UDP); a refusal names the status', async (t) => {
  const [client, peer] = await socketPair(t);
  let written = Buffer.alloc(0);
  peer.on('data', (c: Buffer) => {
    written = Buffer.concat([written, c]);
    // Forbidden, as a server with bind off answers.
    if (written.length === 16) peer.end(Buffer.from('01030000', 'hex'));
  });
  await assert.rejects(
    new RelayConnector().connectUdp(client, { log: silentLogger }),
    /relay udp association on :0 refused: 3 Forbidden/,
  );
  assert.equal(client.destroyed, true);
  // 01 82, network udp, address: an empty domain, port 0 (GOST's bytes, see the interop test).
  assert.equal(written.toString('hex'), '0182000c' + '0400020001' + '02000403000000');
});

test('relay connector: an accepted association carries datagrams that name their destination', async (t) => {
  const [client, peer] = await socketPair(t);
  peer.once('data', () => peer.write(Buffer.from('0100000a' + '02000701' + '7f000001' + '1f90', 'hex')));
  const packets = await new RelayConnector().connectUdp(client, { log: silentLogger });
  const got = new Promise<string>((resolve) =>
    packets.onMessage((d, from) => resolve(`${from} ${d.toString()}`)),
  );
  const up = new Promise<string>((resolve) => peer.on('data', (c: Buffer) => resolve(c.toString('hex'))));
  assert.equal(packets.send(Buffer.from('hi'), '10.0.0.1:53'), true);
  // UDP-TUN framing: RSV = length, FRAG = ff, IPv4 10.0.0.1:53, then the data.
  assert.equal(await up, '0002ff01' + '0a000001' + '0035' + Buffer.from('hi').toString('hex'));
  peer.write(Buffer.from('0002ff01' + '0a000001' + '0035' + '6f6b', 'hex'));
  assert.equal(await got, '10.0.0.1:53 ok');
  packets.close();
});
