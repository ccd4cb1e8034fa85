/**
 * An smux session nested in a stream of another (GOST's multiplexed bind without TLS, as relay runs
 * it): data arrives intact both ways, and (v1) each inner frame travels in exactly one outer frame —
 * the inner header written beside its payload, not joined to it, and no inner frame split in two.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { generateSelfSignedCertificate } from '../../../src/common/tls-server.js';
import {
  CMD_PSH,
  FrameDecoder,
  HEADER_SIZE,
  SmuxSession,
  type SmuxStream,
} from '../../../src/mux/smux/index.js';
import { bounded, readAll, socketPair } from '../../helpers/net.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Records every byte that arrives on `sock` (what the outer client session sent). */
function tapReads(sock: net.Socket): Buffer[] {
  const seen: Buffer[] = [];
  sock.on('data', (chunk: Buffer) => seen.push(Buffer.from(chunk)));
  return seen;
}

type Wrap = (a: SmuxStream, b: SmuxStream) => Promise<[Duplex, Duplex]>;

async function nested(version: 1 | 2, wrap?: Wrap) {
  const [a, b] = await socketPair();
  const wire = tapReads(b);
  const outerClient = new SmuxSession(a, { client: true, version });
  const outerServer = new SmuxSession(b, { client: false, version });
  const accepted = once(outerServer, 'stream') as Promise<[SmuxStream]>;
  const carrierA = outerClient.openStream();
  carrierA.write(Buffer.alloc(1)); // the peer sees a stream once it carries a byte
  const [carrierB] = await bounded(accepted, 5000, 'outer stream');
  await bounded(once(carrierB, 'readable'), 5000, 'first outer byte');
  carrierB.read(1);
  const [innerA, innerB] = wrap === undefined ? [carrierA, carrierB] : await wrap(carrierA, carrierB);
  // Roles as in GOST's bind: the server end opens the inner streams.
  const innerClient = new SmuxSession(innerA, { client: true, version });
  const innerServer = new SmuxSession(innerB, { client: false, version });
  const close = (): void => {
    innerClient.close();
    innerServer.close();
    outerClient.close();
    outerServer.close();
  };
  return { outerClient, innerClient, innerServer, carrierA, wire, close };
}

for (const version of [1, 2] as const) {
  test(`v${version}: 4 MiB each way through an inner stream arrive intact`, async (t) => {
    const { innerClient, innerServer, close } = await nested(version);
    t.after(close);
    innerServer.on('stream', (s: SmuxStream) => s.pipe(s));
    const s = innerClient.openStream();
    const data = randomBytes(4 << 20);
    const got = readAll(s);
    s.end(data);
    assert.equal(sha(await bounded(got, 20_000, 'echo of 4 MiB')), sha(data));
  });
}

// v1 only: in v2 the stream windows cut frames where they must.
for (const version of [1] as const) {
  test(`v${version}: every inner frame fills at most one outer frame, header included`, async (t) => {
    const { outerClient, innerClient, innerServer, carrierA, wire, close } = await nested(version);
    t.after(close);
    assert.equal(innerClient.config.maxFrameSize, outerClient.config.maxFrameSize - HEADER_SIZE);
    const sink = new Promise<number>((resolve) =>
      innerServer.on('stream', (st: SmuxStream) => void readAll(st).then((b) => resolve(b.length))),
    );
    const s = innerClient.openStream();
    s.end(randomBytes(1 << 20));
    assert.equal(await bounded(sink, 20_000, 'inner upload'), 1 << 20);

    // Decode the outer session's bytes; every PSH of the carrier stream must start with an inner
    // frame header whose length covers exactly the rest of that outer payload.
    const outer = new FrameDecoder(version);
    for (const chunk of wire) outer.push(chunk);
    let innerPsh = 0;
    for (let f = outer.next(); f !== undefined; f = outer.next()) {
      if (f.cmd !== CMD_PSH || f.sid !== carrierA.id || f.data.length === 1) continue;
      assert.ok(f.data.length >= HEADER_SIZE, `outer PSH of ${f.data.length} bytes holds no inner header`);
      assert.equal(f.data[0], version, 'outer payload starts with an inner header');
      const innerLen = f.data.readUInt16LE(2);
      if (f.data[1] === CMD_PSH) {
        assert.equal(innerLen, f.data.length - HEADER_SIZE, 'inner frame split across outer frames');
        innerPsh += 1;
      }
    }
    assert.ok(innerPsh >= (1 << 20) / innerClient.config.maxFrameSize, `only ${innerPsh} inner data frames`);
  });
}

/** TLS on the two ends of the outer stream, as socks5's method 0x80 puts it there. */
const tlsWrap: Wrap = async (a, b) => {
  const pair = await generateSelfSignedCertificate({ commonName: 'gost.run', validity: 86_400_000 });
  const server = new tls.TLSSocket(b, {
    isServer: true,
    secureContext: tls.createSecureContext({ cert: pair.cert, key: pair.key }),
  });
  const client = tls.connect({ socket: a, rejectUnauthorized: false });
  await bounded(
    Promise.all([once(server, 'secure'), once(client, 'secureConnect')]),
    10_000,
    'TLS handshake in the stream',
  );
  return [client, server];
};

test('frames keep the configured size in v2 inside a stream, and through TLS in v1 and v2', async (t) => {
  const plain = await nested(2);
  t.after(plain.close);
  assert.equal(plain.innerClient.config.maxFrameSize, 32_768);
  for (const version of [1, 2] as const) {
    const wrapped = await nested(version, tlsWrap);
    t.after(wrapped.close);
    assert.equal(wrapped.innerClient.config.maxFrameSize, 32_768, `v${version} through TLS`);
    // Data still flows through TLS in the stream.
    wrapped.innerServer.on('stream', (st: SmuxStream) => st.pipe(st));
    const s = wrapped.innerClient.openStream();
    const data = randomBytes(256 * 1024);
    const got = readAll(s);
    s.end(data);
    assert.equal(sha(await bounded(got, 20_000, `v${version} echo through TLS`)), sha(data));
  }
});
