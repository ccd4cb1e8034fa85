import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Socks5Connector } from '../../src/connector/socks5/connector.js';
import { parseSocks5ConnectorMetadata } from '../../src/connector/socks5/metadata.js';
import { Socks4Connector } from '../../src/connector/socks4/connector.js';
import { parseSocks4ConnectorMetadata } from '../../src/connector/socks4/metadata.js';
import { Socks5Handler } from '../../src/handler/socks5/handler.js';
import { Socks4Handler } from '../../src/handler/socks4/handler.js';
import { createAuthenticator } from '../../src/common/auth.js';
import { TunnelError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { Metadata } from '../../src/core/metadata.js';
import { fakeServer } from '../helpers/fake-server.js';
import { closedPort, readExactly, startEchoServer, startHandlerServer } from '../helpers/proxy-test-utils.js';

const ctx = { log: silentLogger };
const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const hasCode = (code: string) => (e: unknown) => e instanceof TunnelError && e.code === code;

async function dialTo(t: TestContext, port: number): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1' });
  s.on('error', () => {});
  t.after(() => s.destroy());
  await new Promise((r) => s.once('connect', r));
  return s;
}

/** Answers each expected client message with the given reply, in order, recording what came in. */
function scripted(steps: Array<[expectLen: number, reply: Buffer]>) {
  return (s: net.Socket) => {
    let buf = Buffer.alloc(0);
    let i = 0;
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (i < steps.length && buf.length >= steps[i]![0]) {
        buf = buf.subarray(steps[i]![0]);
        s.write(steps[i]![1]);
        i++;
      }
    });
  };
}

describe('Socks5Connector', () => {
  it('sends 05 02 00 80 (GOST offers TLS), then ATYP 3 for host names, and keeps bytes after the reply', async (t) => {
    const req = Buffer.concat([hex('05010003 0b'), Buffer.from('example.com'), hex('01bb')]);
    const srv = await fakeServer(
      t,
      scripted([
        [4, hex('0500')],
        [req.length, Buffer.concat([hex('05000001 7f000001 1234'), Buffer.from('EXTRA')])],
      ]),
    );
    const conn = await new Socks5Connector().connect(await srv.dial(), 'tcp', 'example.com:443', ctx);
    assert.equal((await readExactly(conn as net.Socket, 5)).toString(), 'EXTRA');
    assert.deepEqual(srv.received[0], Buffer.concat([hex('05020080'), req]));
  });

  it('with notls: 05 01 00 only', async (t) => {
    const req = hex('05010001 7f000001 0050');
    const srv = await fakeServer(
      t,
      scripted([
        [3, hex('0500')],
        [req.length, hex('05000001 00000000 0000')],
      ]),
    );
    await new Socks5Connector({ noTLS: true }).connect(await srv.dial(), 'tcp', '127.0.0.1:80', ctx);
    assert.deepEqual(srv.received[0], Buffer.concat([hex('050100'), req]));
  });

  it('with auth: 05 04 00 02 80 82, RFC 1929, IPv4 and IPv6 literals as ATYP 1/4', async (t) => {
    const up = Buffer.concat([hex('0101'), Buffer.from('u'), hex('01'), Buffer.from('p')]);
    const req6 = hex('05010004 00000000000000000000000000000001 0050');
    const srv = await fakeServer(
      t,
      scripted([
        [6, hex('0502')],
        [up.length, hex('0100')],
        [req6.length, hex('05000001 00000000 0000')],
      ]),
    );
    await new Socks5Connector({ auth: { username: 'u', password: 'p' } }).connect(
      await srv.dial(),
      'tcp',
      '[::1]:80',
      ctx,
    );
    assert.deepEqual(srv.received[0], Buffer.concat([hex('050400028082'), up, req6]));
  });

  it('maps failures: method FF, auth failure, reply codes, garbage, timeout', async (t) => {
    const ff = await fakeServer(t, scripted([[3, hex('05ff')]]));
    await assert.rejects(
      new Socks5Connector().connect(await ff.dial(), 'tcp', 'a:1', ctx),
      hasCode('ERR_SOCKS_AUTH'),
    );

    const authFail = await fakeServer(
      t,
      scripted([
        [4, hex('0502')],
        [5, hex('0101')],
      ]),
    );
    await assert.rejects(
      new Socks5Connector({ auth: { username: 'u', password: 'p' } }).connect(
        await authFail.dial(),
        'tcp',
        'a:1',
        ctx,
      ),
      hasCode('ERR_SOCKS_AUTH'),
    );

    const refused = await fakeServer(
      t,
      scripted([
        [3, hex('0500')],
        [10, hex('05030001 00000000 0000')],
      ]),
    );
    const c = await refused.dial();
    await assert.rejects(new Socks5Connector().connect(c, 'tcp', '1.2.3.4:5', ctx), (e: unknown) => {
      assert.ok(hasCode('ERR_SOCKS_REPLY')(e));
      assert.match((e as Error).message, /network unreachable/);
      return true;
    });
    assert.ok(c.destroyed);

    const garbage = await fakeServer(t, scripted([[3, Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')]]));
    await assert.rejects(
      new Socks5Connector().connect(await garbage.dial(), 'tcp', 'a:1', ctx),
      hasCode('ERR_SOCKS_PROTOCOL'),
    );

    const silent = await fakeServer(t, () => {});
    await assert.rejects(
      new Socks5Connector({ timeoutMs: 80 }).connect(await silent.dial(), 'tcp', 'a:1', ctx),
      hasCode('ERR_DIAL_TIMEOUT'),
    );
    await assert.rejects(
      new Socks5Connector().connect(await silent.dial(), 'tcp', 'not-an-address', ctx),
      hasCode('ERR_DIAL'),
    );
  });

  it('end to end with Socks5Handler (+auth), and 05 03 for an unreachable target', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(
      t,
      new Socks5Handler({ authenticator: createAuthenticator([{ username: 'u', password: 'p' }]) }),
    );
    const conn = await new Socks5Connector({ auth: { username: 'u', password: 'p' } }).connect(
      await dialTo(t, proxy.port),
      'tcp',
      `localhost:${echo.port}`,
      ctx,
    );
    conn.write('s5');
    assert.equal((await readExactly(conn as net.Socket, 2)).toString(), 's5');
    assert.deepEqual(proxy.router.dials, [`localhost:${echo.port}`]);
    const dead = await closedPort();
    await assert.rejects(
      new Socks5Connector({ auth: { username: 'u', password: 'p' } }).connect(
        await dialTo(t, proxy.port),
        'tcp',
        `127.0.0.1:${dead}`,
        ctx,
      ),
      hasCode('ERR_SOCKS_REPLY'),
    );
    await assert.rejects(
      new Socks5Connector().connect(await dialTo(t, proxy.port), 'tcp', `127.0.0.1:${echo.port}`, ctx),
      hasCode('ERR_SOCKS_AUTH'),
    );
  });

  it('metadata', () => {
    assert.equal(parseSocks5ConnectorMetadata(new Metadata({})).noTLS, false);
    const md = parseSocks5ConnectorMetadata(
      new Metadata({ notls: 'true', timeout: '1s', 'mux.version': '2' }),
    );
    assert.equal(md.noTLS, true);
    assert.equal(md.timeoutMs, 1000);
    assert.equal(md.mux.version, 2);
  });
});

describe('Socks4Connector', () => {
  it('uses the 4a form by default, even for IP literals (GOST)', async (t) => {
    const srv = await fakeServer(
      t,
      scripted([[8 + 2 + 10, Buffer.concat([hex('005a000000000000'), Buffer.from('X')])]]),
    );
    const conn = await new Socks4Connector({ auth: { username: 'me', password: '' } }).connect(
      await srv.dial(),
      'tcp',
      '10.0.0.1:80',
      ctx,
    );
    assert.deepEqual(
      srv.received[0],
      Buffer.concat([
        hex('0401 0050 00000001'),
        Buffer.from('me'),
        hex('00'),
        Buffer.from('10.0.0.1'),
        hex('00'),
      ]),
    );
    assert.equal((await readExactly(conn as net.Socket, 1)).toString(), 'X');
  });

  it('disable4a sends plain SOCKS4 and resolves names locally', async (t) => {
    const srv = await fakeServer(t, scripted([[9, hex('005a000000000000')]]));
    await new Socks4Connector({ disable4a: true }).connect(await srv.dial(), 'tcp', 'localhost:80', ctx);
    assert.deepEqual(srv.received[0], hex('0401 0050 7f000001 00'));
  });

  it('rejects 5B/5D replies, non-zero first byte and timeouts', async (t) => {
    const failed = await fakeServer(t, scripted([[9, hex('005b000000000000')]]));
    await assert.rejects(
      new Socks4Connector({ disable4a: true }).connect(await failed.dial(), 'tcp', '1.2.3.4:1', ctx),
      hasCode('ERR_SOCKS_REPLY'),
    );
    const bad = await fakeServer(t, scripted([[9, hex('045a000000000000')]]));
    await assert.rejects(
      new Socks4Connector({ disable4a: true }).connect(await bad.dial(), 'tcp', '1.2.3.4:1', ctx),
      hasCode('ERR_SOCKS_PROTOCOL'),
    );
    const silent = await fakeServer(t, () => {});
    await assert.rejects(
      new Socks4Connector({ timeoutMs: 80 }).connect(await silent.dial(), 'tcp', 'a:1', ctx),
      hasCode('ERR_DIAL_TIMEOUT'),
    );
  });

  it('end to end with Socks4Handler', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(t, new Socks4Handler());
    const conn = await new Socks4Connector().connect(
      await dialTo(t, proxy.port),
      'tcp',
      `127.0.0.1:${echo.port}`,
      ctx,
    );
    conn.write('s4');
    assert.equal((await readExactly(conn as net.Socket, 2)).toString(), 's4');
    const dead = await closedPort();
    await assert.rejects(
      new Socks4Connector().connect(await dialTo(t, proxy.port), 'tcp', `127.0.0.1:${dead}`, ctx),
      hasCode('ERR_SOCKS_REPLY'),
    );
  });

  it('metadata', () => {
    assert.deepEqual(parseSocks4ConnectorMetadata(new Metadata({})), { disable4a: false });
    assert.deepEqual(parseSocks4ConnectorMetadata(new Metadata({ disable4a: true, timeout: 2 })), {
      disable4a: true,
      timeoutMs: 2000,
    });
  });
});
