/**
 * A hostile or broken bind server, seen by the client end of the tunnel: an inner stream with a bad
 * peer header is dropped with a log line, the tunnel and its other streams carry on; the carrier
 * dying ends the tunnel with the reason.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { SmuxSession } from '../../src/mux/smux/index.js';
import { MuxBindTunnel } from '../../src/bind/tunnel.js';
import { readUntil } from '../../src/common/buffered-reader.js';
import { parseReply, encodeReply } from '../../src/proto/socks5/codec.js';
import type { Conn } from '../../src/core/types.js';
import type { Logger } from '../../src/core/logger.js';

async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const a = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const [b] = (await once(server, 'connection')) as [net.Socket];
  await once(a, 'connect');
  server.close();
  return [a, b];
}

it('bad peer header: that stream is dropped and logged; the next one arrives with its peer address', async () => {
  const warnings: string[] = [];
  const log: Logger = {
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (o: object | string, m?: string) => void warnings.push(`${m ?? ''} ${JSON.stringify(o)}`),
    error: () => undefined,
    child: () => log,
  };
  const [clientSide, serverSide] = await socketPair();
  const tunnel = new MuxBindTunnel(clientSide, {
    addr: '127.0.0.1:2222',
    mux: {},
    log,
    readPeer: async (stream) => {
      const r = (
        await readUntil(stream, parseReply, {
          maxBytes: 262,
          errorCode: 'ERR_SOCKS_PROTOCOL',
          timeoutMs: 5000,
        })
      ).value;
      return { host: r.bind.host, port: r.bind.port };
    },
  });
  const got: Conn[] = [];
  const arrived = new Promise<void>((resolve) =>
    tunnel.accept((c) => {
      got.push(c);
      resolve();
    }),
  );
  // The "server" end: smux client role, as GOST's handler.
  const server = new SmuxSession(serverSide, { client: true, acceptStreams: false });
  const bad = server.openStream();
  bad.on('error', () => undefined);
  bad.write(Buffer.from('HTTP/1.1 200 OK\r\n\r\n'));
  const good = server.openStream();
  good.write(encodeReply(0, '10.1.2.3', 40000));
  good.write('payload');
  await arrived;
  assert.equal(got.length, 1);
  assert.equal(got[0]?.remoteAddress, '10.1.2.3');
  assert.equal(got[0]?.remotePort, 40000);
  const [data] = (await once(got[0], 'data')) as [Buffer];
  assert.equal(data.toString(), 'payload');
  assert.ok(
    warnings.some((w) => /bad peer header/.test(w) && /socks5: bad reply version/.test(w)),
    warnings.join('\n'),
  );
  // The carrier dies: the tunnel ends with a reason.
  serverSide.destroy();
  const ended = await Promise.race([
    tunnel.closed.then(() => 'closed'),
    new Promise((r) => setTimeout(() => r('still open after 5 s'), 5000).unref()),
  ]);
  assert.equal(ended, 'closed');
  assert.equal(clientSide.destroyed, true);
});
