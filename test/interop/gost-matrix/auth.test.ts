/**
 * Interop matrix, authentication: `user:pass@` on both ends works both roles over http+mws and
 * socks5+mws; a wrong password is refused; and GOST and gost-ts answer the same bad requests with
 * the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ROLES,
  SocketReader,
  client,
  connect,
  echoTarget,
  hex,
  openTunnel,
  roundTrip,
  server,
  type Peer,
} from './support.js';

const basic = (cred: string): string => `Basic ${Buffer.from(cred).toString('base64')}`;

for (const [c, s] of ROLES) {
  for (const connector of ['http', 'socks5'] as const) {
    test(`${c} client → ${s} server, ${connector}+mws with user:pass: right login works, wrong refused`, async (t) => {
      const target = await echoTarget();
      const srv = await server(s, (p) => `${connector}+mws://alice:s3cret@127.0.0.1:${p}?path=/ws`);
      const good = await client(c, 'http', [
        `${connector}+mws://alice:s3cret@127.0.0.1:${srv.port}?path=/ws`,
      ]);
      const bad = await client(c, 'http', [`${connector}+mws://alice:wrong@127.0.0.1:${srv.port}?path=/ws`]);
      t.after(async () => (await good.stop(), await bad.stop(), await srv.stop(), target.close()));
      await roundTrip(good.port, target.addr, { size: 256 << 10 });
      await assert.rejects(openTunnel(bad.port, 'http', target.addr), /CONNECT refused: "HTTP\/1\.1 503/);
      assert.equal(target.connections(), 1, 'only the good login reached the target');
      // The refused client says why (GOST: the connector's status line; gost-ts: its error).
      await bad.waitForLine(
        connector === 'http'
          ? /407 Proxy Authentication Required/
          : c === 'gost'
            ? /"connector":"socks5".*"msg":"auth failure"/
            : /ERR_SOCKS_AUTH|authentication failed/,
      );
    });
  }
}

/** Sends `request` (after `steps` exchanges) to a server and returns every byte until it closes. */
async function rawReply(srv: Peer, steps: Buffer[]): Promise<string> {
  const r = new SocketReader(await connect(srv.port));
  for (const [i, step] of steps.entries()) {
    r.socket.write(step);
    if (i < steps.length - 1) await r.take(2, `the reply to step ${i + 1}`);
  }
  const bytes = await r.closedWith('the refusal');
  return hex(bytes);
}

/** The same refused requests to a GOST and a gost-ts server of the same URL: identical bytes. */
const REFUSALS: ReadonlyArray<{ name: string; scheme: string; steps: Buffer[] }> = [
  {
    name: 'HTTP CONNECT with a wrong password (keep-alive, as GOST clients send it)',
    scheme: 'http',
    steps: [
      Buffer.from(
        'CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nUser-Agent: Go-http-client/1.1\r\n' +
          `Proxy-Authorization: ${basic('alice:wrong')}\r\nProxy-Connection: keep-alive\r\n\r\n`,
      ),
    ],
  },
  {
    name: 'HTTP CONNECT without credentials, no keep-alive',
    scheme: 'http',
    steps: [Buffer.from('CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n')],
  },
  {
    name: 'SOCKS5 username/password with a wrong password',
    scheme: 'socks5',
    steps: [Buffer.from([5, 1, 2]), Buffer.from([1, 5, ...Buffer.from('alice'), 5, ...Buffer.from('wrong')])],
  },
];

for (const { name, scheme, steps } of REFUSALS) {
  test(`same refusal bytes from GOST and gost-ts: ${name}`, async (t) => {
    const gost = await server('gost', (p) => `${scheme}://alice:s3cret@127.0.0.1:${p}`);
    const ts = await server('gost-ts', (p) => `${scheme}://alice:s3cret@127.0.0.1:${p}`);
    t.after(async () => (await gost.stop(), await ts.stop()));
    const want = await rawReply(gost, steps);
    assert.notEqual(want, '(nothing)', 'GOST answered something');
    assert.equal(await rawReply(ts, steps), want);
  });
}

// A difference kept on purpose (README, "Differences from GOST"): a SOCKS5 client that does not
// offer username/password to a server that requires it. GOST selects 0x02 anyway and waits for a
// login the client will not send; gost-ts answers "no acceptable methods" (RFC 1928) and closes.
// Either way the request cannot go through.
test('SOCKS5 offering only no-auth to a server that requires a login: GOST 05 02 and waits, gost-ts 05 ff', async (t) => {
  const gost = await server('gost', (p) => `socks5://alice:s3cret@127.0.0.1:${p}`);
  const ts = await server('gost-ts', (p) => `socks5://alice:s3cret@127.0.0.1:${p}`);
  t.after(async () => (await gost.stop(), await ts.stop()));
  const g = new SocketReader(await connect(gost.port));
  g.socket.write(Buffer.from([5, 1, 0]));
  assert.equal(hex(await g.take(2, "GOST's method selection")), '0502');
  // GOST now expects an RFC 1929 request; garbage in its place ends the connection, no reply.
  g.socket.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, 0, 9]));
  assert.equal(hex(await g.closedWith('a request where the login belongs')), '(nothing)');
  assert.equal(await rawReply(ts, [Buffer.from([5, 1, 0])]), '05ff');
});
