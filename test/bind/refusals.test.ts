/**
 * Every refusal of a bind request, at the byte level, for both handlers: the documented reply, a log
 * line naming the cause, and nothing else affected (the next request on the same server works).
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import type { Handler, HandlerContext } from '../../src/core/types.js';
import type { Logger } from '../../src/core/logger.js';
import { Socks5Handler } from '../../src/handler/socks5/handler.js';
import { RelayHandler } from '../../src/handler/relay/handler.js';
import { createAuthenticator } from '../../src/common/auth.js';
import { parseBindRules } from '../../src/bind/policy.js';
import { Metadata } from '../../src/core/metadata.js';
import { DirectRouter, readToEnd } from '../helpers/proxy-test-utils.js';
import { freePort } from '../helpers/cli.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const port16 = (p: number): string => p.toString(16).padStart(4, '0');

/** A logger that keeps every line as `msg {json}` text. */
function recorder(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const make = (bound: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (a: object | string, b?: string): void => {
        const [obj, msg] = typeof a === 'string' ? [{}, a] : [a, b ?? ''];
        lines.push(`${level} ${msg} ${JSON.stringify({ ...bound, ...obj })}`);
      };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (b) => make({ ...bound, ...b }),
    };
  };
  return { log: make({}), lines };
}

async function serve(t: TestContext, handler: Handler, log: Logger): Promise<number> {
  const ac = new AbortController();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    const ctx: HandlerContext = { router: new DirectRouter(), log, signal: ac.signal, clientAddr: 'test' };
    void handler.handle(s, ctx);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    ac.abort();
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** Sends `msg` and returns everything the server sent until it closed. */
async function exchange(port: number, msgs: Buffer[]): Promise<Buffer> {
  const c = net.connect(port, '127.0.0.1');
  c.on('error', () => undefined);
  await once(c, 'connect');
  const all = readToEnd(c);
  for (const m of msgs) c.write(m);
  return all;
}

async function takenPort(t: TestContext): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  t.after(() => s.close());
  return (s.address() as net.AddressInfo).port;
}

const socksMbind = (port: number): Buffer => hex(`05 f2 00 01 7f000001 ${port16(port)}`);

describe('socks5 MUX BIND refusals', () => {
  it('bind off (the default): 05 02, GOST bytes, logged', async (t) => {
    const { log, lines } = recorder();
    const port = await serve(t, new Socks5Handler(), log);
    const out = await exchange(port, [hex('050100'), socksMbind(40000)]);
    assert.deepEqual(out, hex('0500 05020001 00000000 0000'));
    assert.ok(
      lines.some((l) => /BIND is disabled/.test(l)),
      lines.join('\n'),
    );
  });

  it('port in use: 05 01, the log names the port', async (t) => {
    const { log, lines } = recorder();
    const busy = await takenPort(t);
    const port = await serve(t, new Socks5Handler({ bind: true }), log);
    const out = await exchange(port, [hex('050100'), socksMbind(busy)]);
    assert.deepEqual(out, hex('0500 05010001 00000000 0000'));
    assert.ok(
      lines.some((l) => l.includes(`port ${busy} is already in use`)),
      lines.join('\n'),
    );
  });

  it('privileged port (not in the default allow-list): 05 02, the log says why', async (t) => {
    const { log, lines } = recorder();
    const port = await serve(t, new Socks5Handler({ bind: true }), log);
    const out = await exchange(port, [hex('050100'), socksMbind(80)]);
    assert.deepEqual(out, hex('0500 05020001 00000000 0000'));
    assert.ok(
      lines.some((l) => l.includes('port 80 is privileged')),
      lines.join('\n'),
    );
  });

  it('bind.allow: a port outside the list is refused, one inside is bound; the server carries on', async (t) => {
    const { log, lines } = recorder();
    const free = await freePort();
    let allowed = await freePort();
    for (let i = 0; i < 10 && allowed === free; i++) allowed = await freePort();
    const rules = parseBindRules(new Metadata({ 'bind.allow': `127.0.0.1:${allowed}` }));
    const port = await serve(t, new Socks5Handler({ bind: true, bindRules: rules }), log);
    const refused = await exchange(port, [hex('050100'), socksMbind(free)]);
    assert.deepEqual(refused, hex('0500 05020001 00000000 0000'));
    assert.ok(
      lines.some((l) => l.includes(`127.0.0.1:${free} is not in bind.allow`)),
      lines.join('\n'),
    );
    // The allowed one binds: the reply names this server's address and the port.
    const c = net.connect(port, '127.0.0.1');
    await once(c, 'connect');
    c.write(hex('050100'));
    c.write(socksMbind(allowed));
    let got = Buffer.alloc(0);
    while (got.length < 12) got = Buffer.concat([got, ((await once(c, 'data')) as [Buffer])[0]]);
    assert.deepEqual(got.subarray(0, 12), hex(`0500 05000001 7f000001 ${port16(allowed)}`));
    c.destroy();
  });

  it('auth applies to bind: no credentials offered → 05 FF; wrong ones → 01 01; nothing bound', async (t) => {
    const { log, lines } = recorder();
    const auth = createAuthenticator([{ username: 'u', password: 'p' }]);
    const port = await serve(t, new Socks5Handler({ bind: true, authenticator: auth }), log);
    assert.deepEqual(await exchange(port, [hex('050100'), socksMbind(40001)]), hex('05ff'));
    const wrong = Buffer.concat([hex('0101'), Buffer.from('u'), hex('01'), Buffer.from('x')]);
    assert.deepEqual(await exchange(port, [hex('050102'), wrong, socksMbind(40001)]), hex('0502 0101'));
    assert.ok(
      lines.some((l) => /authentication failed/.test(l)),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => /bind OK/.test(l)));
  });
});

/** `01 02 FEALEN network(tcp) addr(IPv4 127.0.0.1:port)`, optionally with user auth first. */
function relayBind(port: number, auth?: [string, string]): Buffer {
  const feats: Buffer[] = [];
  if (auth) {
    const [u, p] = auth;
    const data = Buffer.concat([Buffer.of(u.length), Buffer.from(u), Buffer.of(p.length), Buffer.from(p)]);
    feats.push(Buffer.of(0x01, 0, data.length), data);
  }
  feats.push(hex('04 0002 0000'), hex(`02 0007 01 7f000001 ${port16(port)}`));
  const body = Buffer.concat(feats);
  const head = Buffer.of(0x01, 0x02, 0, 0);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([head, body]);
}

describe('relay BIND refusals', () => {
  it('bind off (the default): 01 03 (forbidden), logged', async (t) => {
    const { log, lines } = recorder();
    const port = await serve(t, new RelayHandler(), log);
    assert.deepEqual(await exchange(port, [relayBind(40002)]), hex('01030000'));
    assert.ok(
      lines.some((l) => /BIND is disabled/.test(l)),
      lines.join('\n'),
    );
  });

  it('port in use: 01 05 (service unavailable), the log names the port', async (t) => {
    const { log, lines } = recorder();
    const busy = await takenPort(t);
    const port = await serve(t, new RelayHandler({ bind: true }), log);
    assert.deepEqual(await exchange(port, [relayBind(busy)]), hex('01050000'));
    assert.ok(
      lines.some((l) => l.includes(`port ${busy} is already in use`)),
      lines.join('\n'),
    );
  });

  it('privileged port: 01 03, the log says why', async (t) => {
    const { log, lines } = recorder();
    const port = await serve(t, new RelayHandler({ bind: true }), log);
    assert.deepEqual(await exchange(port, [relayBind(22)]), hex('01030000'));
    assert.ok(
      lines.some((l) => l.includes('port 22 is privileged')),
      lines.join('\n'),
    );
  });

  it('auth applies to bind: missing or wrong credentials → 01 02', async (t) => {
    const { log, lines } = recorder();
    const auth = createAuthenticator([{ username: 'u', password: 'p' }]);
    const port = await serve(t, new RelayHandler({ bind: true, authenticator: auth }), log);
    assert.deepEqual(await exchange(port, [relayBind(40003)]), hex('01020000'));
    assert.deepEqual(await exchange(port, [relayBind(40003, ['u', 'x'])]), hex('01020000'));
    assert.ok(
      lines.some((l) => /authentication failed/.test(l)),
      lines.join('\n'),
    );
    assert.ok(!lines.some((l) => /bind OK/.test(l)));
  });

  it('a malformed request (bad version, unknown feature) is closed without a reply, as GOST', async (t) => {
    const { log, lines } = recorder();
    const port = await serve(t, new RelayHandler({ bind: true }), log);
    assert.deepEqual(await exchange(port, [hex('02010000')]), Buffer.alloc(0));
    assert.deepEqual(await exchange(port, [hex('01010004 09 0001 00')]), Buffer.alloc(0));
    assert.equal(lines.filter((l) => /relay: bad request/.test(l)).length, 2, lines.join('\n'));
  });
});
