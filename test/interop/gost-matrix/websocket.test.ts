/**
 * Interop matrix, the WebSocket layer as the other side receives it: a TCP tap between client and
 * server records the upgrade request, the 101 and the frames. permessage-deflate negotiated (and
 * RSV1 on every data frame) with `enableCompression` on both ends; `path`, `host`, `header` and
 * WebSocket pings as GOST's server receives them; and gost-ts's upgrade request byte for byte
 * against GOST's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../../helpers/net.js';
import {
  ROLES,
  STEP_MS,
  client,
  echoTarget,
  header,
  headOf,
  roundTrip,
  server,
  tcpTap,
  wsFrames,
  type Peer,
  type TappedConnection,
} from './support.js';

const DEFLATE_OFFER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover';
const PING = 0x9;
const PONG = 0xa;

/** A `kind` server with `serverQuery`, a tap in front, and a client of the other kind through it. */
async function tappedPair(
  c: Peer['kind'],
  s: Peer['kind'],
  clientQuery: string,
  serverQuery = clientQuery,
): Promise<{ cli: Peer; srv: Peer; conn: () => TappedConnection; close: () => Promise<void> }> {
  const srv = await server(s, (p) => `http+mws://127.0.0.1:${p}?${serverQuery}`);
  const tap = await tcpTap(srv.port);
  const cli = await client(c, 'http', [`http+mws://127.0.0.1:${tap.port}?${clientQuery}`]);
  return {
    cli,
    srv,
    conn: () => {
      assert.equal(tap.connections.length, 1, 'one WebSocket connection');
      return tap.connections[0]!;
    },
    close: async () => (await cli.stop(), await srv.stop(), tap.close()),
  };
}

for (const [c, s] of ROLES) {
  test(`${c} client → ${s} server, enableCompression on both: permessage-deflate negotiated`, async (t) => {
    const target = await echoTarget();
    const pair = await tappedPair(c, s, 'path=/ws&enableCompression=true');
    t.after(async () => (await pair.close(), target.close()));
    await roundTrip(pair.cli.port, target.addr, { size: 256 << 10 });
    const { up, down } = pair.conn();
    assert.equal(header(headOf(up, 'the upgrade request'), 'Sec-WebSocket-Extensions'), DEFLATE_OFFER);
    const reply = headOf(down, 'the 101');
    assert.match(reply, /^HTTP\/1\.1 101 /);
    assert.equal(header(reply, 'Sec-WebSocket-Extensions'), DEFLATE_OFFER);
    // Every data message either way is compressed (RSV1); the echo proved each end inflates.
    for (const [dir, bytes] of [
      ['client→server', up],
      ['server→client', down],
    ] as const) {
      const starts = wsFrames(bytes).filter((f) => f.opcode === 1 || f.opcode === 2);
      assert.ok(starts.length > 0, `${dir}: data frames seen`);
      assert.deepEqual(
        starts.filter((f) => !f.rsv1).length,
        0,
        `${dir}: every data message has RSV1 (${starts.length} messages)`,
      );
    }
  });

  test(`${c} client with enableCompression → ${s} server without: plain frames`, async (t) => {
    const target = await echoTarget();
    const pair = await tappedPair(c, s, 'path=/ws&enableCompression=true', 'path=/ws');
    t.after(async () => (await pair.close(), target.close()));
    await roundTrip(pair.cli.port, target.addr, { size: 64 << 10 });
    const { up, down } = pair.conn();
    assert.equal(header(headOf(up, 'the upgrade request'), 'Sec-WebSocket-Extensions'), DEFLATE_OFFER);
    assert.equal(header(headOf(down, 'the 101'), 'Sec-WebSocket-Extensions'), undefined);
    assert.ok(
      wsFrames(up)
        .concat(wsFrames(down))
        .every((f) => !f.rsv1),
      'no RSV1 anywhere',
    );
  });
}

test('GOST server receives path, host, header and keepAlive pings from a gost-ts client', async (t) => {
  const target = await echoTarget();
  const pair = await tappedPair(
    'gost-ts',
    'gost',
    'path=/seed&host=cdn.example&header=X-Seed:1%3BX-Other:two&keepAlive=1s',
    'path=/seed',
  );
  t.after(async () => (await pair.close(), target.close()));
  await roundTrip(pair.cli.port, target.addr, { size: 16 << 10 });
  const head = headOf(pair.conn().up, 'the upgrade request');
  assert.match(head, /^GET \/seed HTTP\/1\.1\r\nHost: cdn\.example\r\nUser-Agent: Go-http-client\/1\.1\r\n/);
  assert.equal(header(head, 'X-Seed'), '1');
  assert.equal(header(head, 'X-Other'), 'two');
  assert.match(headOf(pair.conn().down, 'the 101'), /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  // keepAlive=1s: pings go out every second and GOST answers each with a pong.
  await waitFor(
    () => wsFrames(pair.conn().down).filter((f) => f.opcode === PONG).length >= 2,
    STEP_MS,
    'two pongs from GOST',
  );
  assert.ok(wsFrames(pair.conn().up).filter((f) => f.opcode === PING).length >= 2);
});

for (const [c, s] of ROLES) {
  test(`${c} client with GOST's keepalive=true&ttl=1s → ${s} server: pings answered`, async (t) => {
    const target = await echoTarget();
    const pair = await tappedPair(c, s, 'path=/ws&keepalive=true&ttl=1s', 'path=/ws');
    t.after(async () => (await pair.close(), target.close()));
    await roundTrip(pair.cli.port, target.addr, { size: 16 << 10 });
    await waitFor(
      () => wsFrames(pair.conn().down).filter((f) => f.opcode === PONG).length >= 2,
      STEP_MS,
      `two pongs from the ${s} server`,
    );
    assert.ok(wsFrames(pair.conn().up).filter((f) => f.opcode === PING).length >= 2);
  });
}

/** The upgrade request with the parts that must differ (random key, tap port) neutralised. */
const normalised = (head: string, tapPort: number): string =>
  head.replace(/^(Sec-WebSocket-Key: ).*$/im, '$1KEY').replaceAll(String(tapPort), 'PORT');

for (const query of ['path=/ws', 'path=/x/y&host=cdn.example:8443&enableCompression=true']) {
  test(`gost-ts's upgrade request is GOST's, byte for byte (${query})`, async (t) => {
    const srv = await server('gost', (p) => `http+mws://127.0.0.1:${p}?path=/`);
    const heads: string[] = [];
    const target = await echoTarget();
    t.after(async () => (await srv.stop(), target.close()));
    for (const kind of ['gost', 'gost-ts'] as const) {
      const tap = await tcpTap(srv.port);
      const cli = await client(kind, 'http', [`http+mws://127.0.0.1:${tap.port}?${query}`]);
      try {
        await roundTrip(cli.port, target.addr, { size: 1024 });
        heads.push(normalised(headOf(tap.connections[0]!.up, `${kind}'s upgrade`), tap.port));
      } finally {
        await cli.stop();
        tap.close();
      }
    }
    assert.equal(heads[1], heads[0]);
  });
}
