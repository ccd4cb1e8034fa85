/**
 * Interop matrix, the spec's 15 mws parameters, each in its seed spelling on the `-F` and `-L`
 * URLs of both pairs at once: gost-ts client → GOST server and GOST client → gost-ts server, each
 * through a tap. The data must pass either way; the tap shows what each program did with the
 * parameter — and where GOST v3.2.6 ignores the seed's spelling (it reads `mux.*` dotted names
 * only, `keepalive` as a bool, and `header` as a map only), that is asserted as GOST's behaviour.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { waitFor } from '../../helpers/net.js';
import { freePort, runCli, startCli } from '../../helpers/cli.js';
import {
  SMUX_NOP,
  SMUX_PSH,
  SMUX_UPD,
  STEP_MS,
  SocketReader,
  client,
  connect,
  echoTarget,
  header,
  headOf,
  hex,
  openTunnel,
  roundTrip,
  server,
  smuxFrames,
  startPeer,
  tcpTap,
  wsFrames,
  type Peer,
  type TappedConnection,
} from './support.js';

/** One direction of one tapped connection, by who sent it. */
interface Sides {
  /** What each end sent, in the pair where gost-ts is the client. */
  tsClient: TappedConnection;
  /** … and in the pair where GOST is the client. */
  gostClient: TappedConnection;
}

/** Both pairs with `query` on -F and `serverQuery` on -L, each through a tap; resolves after one round trip each. */
async function pairs(
  query: string,
  serverQuery: string,
  size: number,
): Promise<{ sides: () => Sides; close: () => Promise<void> }> {
  const target = await echoTarget();
  const started: Array<{ cli: Peer; srv: Peer; conn: () => TappedConnection; close: () => void }> = [];
  for (const [c, s] of [
    ['gost-ts', 'gost'],
    ['gost', 'gost-ts'],
  ] as const) {
    const srv = await server(s, (p) => `http+mws://127.0.0.1:${p}?${serverQuery}`);
    const tap = await tcpTap(srv.port);
    const cli = await client(c, 'http', [`http+mws://127.0.0.1:${tap.port}?${query}`]);
    started.push({ cli, srv, conn: () => tap.connections[0]!, close: tap.close });
  }
  const close = async (): Promise<void> => {
    for (const p of started) {
      await p.cli.stop();
      await p.srv.stop();
      p.close();
    }
    target.close();
  };
  try {
    for (const p of started) await roundTrip(p.cli.port, target.addr, { size });
  } catch (err) {
    await close();
    throw err;
  }
  const [a, b] = started as [(typeof started)[0], (typeof started)[0]];
  return { sides: () => ({ tsClient: a.conn(), gostClient: b.conn() }), close };
}

const frames = (b: Buffer): ReturnType<typeof wsFrames> => wsFrames(b);
const count = (b: Buffer, cmd: number): number => smuxFrames(frames(b)).filter((f) => f.cmd === cmd).length;
const maxPsh = (b: Buffer): number =>
  Math.max(
    0,
    ...smuxFrames(frames(b))
      .filter((f) => f.cmd === SMUX_PSH)
      .map((f) => f.length),
  );
const windows = (b: Buffer): number[] => [
  ...new Set(smuxFrames(frames(b)).flatMap((f) => (f.cmd === SMUX_UPD && f.upd ? [f.upd[1]] : []))),
];
const pings = (b: Buffer): number => frames(b).filter((f) => f.opcode === 0x9).length;
const head = (b: Buffer): string => headOf(b, 'the tapped head');

interface Row {
  param: string;
  /** Extra parameters both programs honour, needed to make the effect visible. */
  with?: string;
  /** A dialer-only option: on -F only (gost-ts refuses it on -L, see below). */
  clientOnly?: true;
  /** Round-trip size (large enough to show frame sizes; small where frames after it matter). */
  size?: number;
  check(s: () => Sides): Promise<void> | void;
}

const ROWS: Row[] = [
  {
    param: 'host=cdn.example',
    clientOnly: true,
    check: (s) => {
      assert.equal(header(head(s().tsClient.up), 'Host'), 'cdn.example');
      assert.equal(header(head(s().gostClient.up), 'Host'), 'cdn.example');
    },
  },
  {
    param: 'path=/seed',
    check: (s) => {
      assert.match(head(s().tsClient.up), /^GET \/seed HTTP\/1\.1\r\n/);
      assert.match(head(s().gostClient.up), /^GET \/seed HTTP\/1\.1\r\n/);
    },
  },
  {
    param: 'header=X-Seed:1',
    check: (s) => {
      // gost-ts reads the string form `Name:value`; GOST wants a map (config files) and drops it.
      assert.equal(header(head(s().tsClient.up), 'X-Seed'), '1', 'gost-ts client sends it');
      assert.equal(header(head(s().gostClient.up), 'X-Seed'), undefined, 'GOST client ignores it');
      assert.equal(header(head(s().gostClient.down), 'X-Seed'), '1', "gost-ts server's 101 has it");
      assert.equal(header(head(s().tsClient.down), 'X-Seed'), undefined, "GOST server's 101 lacks it");
    },
  },
  {
    param: 'keepAlive=1s',
    clientOnly: true,
    size: 16 << 10,
    check: async (s) => {
      // gost-ts pings every second and GOST's server answers; GOST reads keepAlive=1s as a bool
      // (false), so its client sends no pings at all.
      await waitFor(() => pings(s().tsClient.up) >= 2, STEP_MS, 'two pings from the gost-ts client');
      assert.ok(
        frames(s().tsClient.down).some((f) => f.opcode === 0xa),
        'GOST answered with a pong',
      );
      assert.equal(pings(s().gostClient.up), 0, 'GOST client sent no ping');
    },
  },
  {
    param: 'handshakeTimeout=5s',
    check: (s) => assert.match(head(s().gostClient.down), /^HTTP\/1\.1 101 /),
  },
  {
    param: 'readHeaderTimeout=5s',
    check: (s) => assert.match(head(s().tsClient.down), /^HTTP\/1\.1 101 /),
  },
  {
    param: 'readBufferSize=8192',
    size: 1 << 20,
    check: (s) => assert.match(head(s().tsClient.down), /^HTTP\/1\.1 101 /),
  },
  {
    param: 'writeBufferSize=1024',
    size: 128 << 10,
    check: (s) => {
      // Both clients cut their messages into 1024-byte fragments (gorilla's write buffer).
      for (const [who, up] of [
        ['gost-ts', s().tsClient.up],
        ['GOST', s().gostClient.up],
      ] as const) {
        const f = frames(up);
        assert.ok(
          f.some((x) => x.opcode === 0),
          `${who} client sent continuation frames`,
        );
        assert.equal(Math.max(...f.map((x) => x.payload.length)), 1024, `${who} client fragments of 1024`);
      }
    },
  },
  {
    param: 'enableCompression=true',
    check: (s) => {
      for (const b of [s().tsClient.down, s().gostClient.down]) {
        assert.match(header(head(b), 'Sec-WebSocket-Extensions') ?? '', /^permessage-deflate/);
      }
    },
  },
  {
    param: 'muxKeepAliveDisabled=true',
    with: 'mux.keepaliveInterval=1s',
    size: 16 << 10,
    check: async (s) => {
      // GOST reads only mux.keepaliveDisabled: its ends keep sending NOPs; gost-ts's ends stop.
      await waitFor(
        () => count(s().tsClient.down, SMUX_NOP) >= 2 && count(s().gostClient.up, SMUX_NOP) >= 2,
        STEP_MS,
        'two NOPs from each GOST end',
      );
      assert.equal(count(s().tsClient.up, SMUX_NOP), 0, 'gost-ts client sent no NOP');
      assert.equal(count(s().gostClient.down, SMUX_NOP), 0, 'gost-ts server sent no NOP');
    },
  },
  {
    param: 'muxKeepAliveInterval=1s',
    size: 16 << 10,
    check: async (s) => {
      // gost-ts's ends send a NOP every second; GOST reads only mux.keepaliveInterval (10 s).
      await waitFor(
        () => count(s().tsClient.up, SMUX_NOP) >= 2 && count(s().gostClient.down, SMUX_NOP) >= 2,
        STEP_MS,
        'two NOPs from each gost-ts end',
      );
      // At most one NOP per 10 s since the session began (none, unless the machine crawled).
      const { tsClient: a, gostClient: b } = s();
      const most = (c: TappedConnection): number => Math.floor((Date.now() - c.opened) / 10_000);
      assert.ok(count(a.down, SMUX_NOP) <= most(a), 'GOST server kept its 10 s interval');
      assert.ok(count(b.up, SMUX_NOP) <= most(b), 'GOST client kept its 10 s interval');
    },
  },
  {
    // Not visible within a short test on either side (it would take 30 s of silence).
    param: 'muxKeepAliveTimeout=45s',
    check: (s) => assert.match(head(s().gostClient.down), /^HTTP\/1\.1 101 /),
  },
  {
    param: 'muxMaxFrameSize=4096',
    size: 256 << 10,
    check: (s) => {
      // gost-ts's ends cut data at 4096; GOST reads only mux.maxFrameSize and sends 32 KiB frames.
      assert.equal(maxPsh(s().tsClient.up), 4096, 'gost-ts client');
      assert.equal(maxPsh(s().gostClient.down), 4096, 'gost-ts server');
      assert.equal(maxPsh(s().tsClient.down), 32768, 'GOST server');
      assert.equal(maxPsh(s().gostClient.up), 32768, 'GOST client');
    },
  },
  {
    // The session-wide receive budget is not visible on the wire while the reader keeps up.
    param: 'muxMaxReceiveBuffer=1048576',
    size: 1 << 20,
    check: (s) => assert.match(head(s().tsClient.down), /^HTTP\/1\.1 101 /),
  },
  {
    param: 'muxMaxStreamBuffer=131072',
    with: 'mux.version=2',
    size: 256 << 10,
    check: (s) => {
      // The v2 window each receiver advertises in its UPD frames.
      assert.deepEqual(windows(s().tsClient.up), [131072], 'gost-ts client');
      assert.deepEqual(windows(s().gostClient.down), [131072], 'gost-ts server');
      assert.deepEqual(windows(s().tsClient.down), [65536], 'GOST server: its default');
      assert.deepEqual(windows(s().gostClient.up), [65536], 'GOST client: its default');
    },
  },
];

// The rows mostly wait (for pings, NOPs, process start-up), so three run at a time.
describe('the 15 seed parameters', { concurrency: 3 }, () => {
  for (const row of ROWS) {
    const query = ['path=/ws', row.with, row.param]
      .filter(Boolean)
      .join('&')
      .replace('path=/ws&path=', 'path=');
    const serverQuery = row.clientOnly ? ['path=/ws', row.with].filter(Boolean).join('&') : query;
    const where = row.clientOnly ? '-F' : '-F and -L';
    test(`seed parameter ${row.param} on ${where} of both pairs`, async (t) => {
      const { sides, close } = await pairs(query, serverQuery, row.size ?? 64 << 10);
      t.after(close);
      await row.check(sides);
    });
  }
});

// GOST's -L puts every query key on the handler, the listener and the service and ignores what
// none of them reads. gost-ts starts too but names the option and where it applies in a warning
// (README, "Differences from GOST"); `keepAlive` on a listener is TCP keepalive, a bool, so "1s" is
// ill-typed there and refused.
test('dialer-only host=cdn.example on -L: GOST starts and ignores it, gost-ts starts and warns naming it', async (t) => {
  const port = await freePort();
  const url = `http+mws://127.0.0.1:${port}?path=/ws&host=cdn.example`;
  const gost = await startPeer('gost', ['-L', url], port);
  await gost.stop();
  const ts = await startCli(['-L', url]);
  t.after(() => ts.stop());
  const line = await ts.waitForLine(
    /"level":40.*option \\"host\\" means nothing to handler \\"http\\" \/ listener \\"mws\\"; ignored/,
  );
  assert.match(line, /"appliesTo":"dialer/);
});

test('dialer-only keepAlive=1s on -L: GOST starts and ignores it, gost-ts exits 1 naming it', async () => {
  const port = await freePort();
  const url = `http+mws://127.0.0.1:${port}?path=/ws&keepAlive=1s`;
  const gost = await startPeer('gost', ['-L', url], port);
  await gost.stop();
  const r = await runCli(['-L', url]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /metadata\.keepAlive: expected a boolean \(true\/false\), got "1s"/);
});

// The two timeouts, by behaviour: a server that never answers the upgrade, a client that never
// finishes its request head.
test('handshakeTimeout=1s on -F: both clients give up on a server that never answers the upgrade', async (t) => {
  const held = new Set<net.Socket>();
  const mute = net.createServer((c) => (held.add(c), c.on('error', () => undefined)));
  mute.listen(0, '127.0.0.1');
  await once(mute, 'listening');
  const { port } = mute.address() as net.AddressInfo;
  t.after(() => {
    for (const c of held) c.destroy();
    mute.close();
  });
  for (const kind of ['gost', 'gost-ts'] as const) {
    const cli = await client(kind, 'http', [`http+mws://127.0.0.1:${port}?path=/ws&handshakeTimeout=1s`]);
    try {
      // Without the timeout the upgrade would wait for the 15 s dial limit, past STEP_MS.
      await assert.rejects(openTunnel(cli.port, 'http', '127.0.0.1:9'), /CONNECT refused: "HTTP\/1\.1 503/);
    } finally {
      await cli.stop();
    }
  }
});

test('readHeaderTimeout=1s on -L: both servers drop a client that never finishes its head', async (t) => {
  const replies: Record<string, string> = {};
  for (const kind of ['gost', 'gost-ts'] as const) {
    const srv = await server(kind, (p) => `http+mws://127.0.0.1:${p}?path=/ws&readHeaderTimeout=1s`);
    t.after(() => srv.stop());
    const r = new SocketReader(await connect(srv.port));
    r.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\n');
    replies[kind] = (await r.closedWith('an unfinished head')).toString('latin1');
  }
  assert.equal(replies['gost-ts'], replies['gost'], 'the same bytes before the close');
});

// handshakeTimeout on -L means different things: GOST bounds only the writing of its 101 reply;
// gost-ts bounds the whole upgrade, from connect to 101 (README, "Differences from GOST").
test('handshakeTimeout=1s on -L: gost-ts drops a client that sends nothing, GOST keeps waiting', async (t) => {
  const gost = await server('gost', (p) => `http+mws://127.0.0.1:${p}?path=/ws&handshakeTimeout=1s`);
  const ts = await server('gost-ts', (p) => `http+mws://127.0.0.1:${p}?path=/ws&handshakeTimeout=1s`);
  t.after(async () => (await gost.stop(), await ts.stop()));
  const toGost = new SocketReader(await connect(gost.port));
  const toTs = new SocketReader(await connect(ts.port));
  assert.equal(hex(await toTs.closedWith('an idle connection to gost-ts')), '(nothing)');
  // gost-ts has closed its idle connection after 1 s; GOST's, opened first, is still open.
  toGost.socket.write('GET /ws HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match((await toGost.head("GOST's reply to a late request")).toString('latin1'), /^HTTP\/1\.1 400 /);
  toGost.socket.destroy();
});
