/** GOST's SOCKS5 TLS methods on the handler: 0x80 (TLS), 0x82 (TLS + user/pass), `notls`, and a stalled handshake. */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { Socks5Handler } from '../../src/handler/socks5/handler.js';
import { createAuthenticator } from '../../src/common/auth.js';
import { generateSelfSignedCertificate } from '../../src/common/tls-server.js';
import type { ServerTlsOptions } from '../../src/core/types.js';
import { readExactly, readToEnd, startEchoServer, startHandlerServer } from '../helpers/proxy-test-utils.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const port16 = (p: number): string => p.toString(16).padStart(4, '0');

let material: ServerTlsOptions;
before(async () => {
  const pair = await generateSelfSignedCertificate({
    commonName: 'gost.run',
    organization: 'GOST',
    validity: 86_400_000,
  });
  material = { cert: pair.cert, key: pair.key };
});

async function dial(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await once(s, 'connect');
  return s;
}

describe('socks5 handler: TLS methods', () => {
  it('05 02 00 80 → 05 80, then TLS, then CONNECT inside it (what a GOST client does)', async (t) => {
    const echo = await startEchoServer(t);
    const proxy = await startHandlerServer(
      t,
      new Socks5Handler({ serverTls: () => Promise.resolve(material) }),
    );
    const s = await dial(proxy.port);
    s.write(hex('05020080'));
    assert.deepEqual(await readExactly(s, 2), hex('0580'));
    const secure = tls.connect({ socket: s, rejectUnauthorized: false });
    await once(secure, 'secureConnect');
    secure.write(hex(`05010001 7f000001 ${port16(echo.port)}`));
    assert.deepEqual((await readExactly(secure as unknown as net.Socket, 10)).subarray(0, 2), hex('0500'));
    secure.write('ping');
    assert.equal((await readExactly(secure as unknown as net.Socket, 4)).toString(), 'ping');
    secure.destroy();
  });

  it('with an authenticator 0x80 becomes 0x82: user/pass inside TLS', async (t) => {
    const echo = await startEchoServer(t);
    const auth = createAuthenticator([{ username: 'u', password: 'p' }]);
    const proxy = await startHandlerServer(
      t,
      new Socks5Handler({ authenticator: auth, serverTls: () => Promise.resolve(material) }),
    );
    const s = await dial(proxy.port);
    s.write(hex('050400028082'));
    assert.deepEqual(await readExactly(s, 2), hex('0582'));
    const secure = tls.connect({ socket: s, rejectUnauthorized: false });
    await once(secure, 'secureConnect');
    secure.write(Buffer.concat([hex('0101'), Buffer.from('u'), hex('01'), Buffer.from('p')]));
    assert.deepEqual(await readExactly(secure as unknown as net.Socket, 2), hex('0100'));
    secure.write(hex(`05010001 7f000001 ${port16(echo.port)}`));
    assert.deepEqual((await readExactly(secure as unknown as net.Socket, 10)).subarray(0, 2), hex('0500'));
    secure.destroy();
  });

  it('notls: 0x80 is not chosen; plain 0x00', async (t) => {
    const proxy = await startHandlerServer(
      t,
      new Socks5Handler({ noTLS: true, serverTls: () => Promise.resolve(material) }),
    );
    const s = await dial(proxy.port);
    s.write(hex('05020080'));
    assert.deepEqual(await readExactly(s, 2), hex('0500'));
    s.destroy();
  });

  it('a client that picks TLS and never sends a ClientHello is closed after readTimeout', async (t) => {
    const proxy = await startHandlerServer(
      t,
      new Socks5Handler({ readTimeoutMs: 300, serverTls: () => Promise.resolve(material) }),
    );
    const s = await dial(proxy.port);
    const all = readToEnd(s);
    s.write(hex('050180'));
    assert.deepEqual(await all, hex('0580'));
    await Promise.all(proxy.handled);
    assert.deepEqual(proxy.rejections, []);
  });
});
