import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../src/core/errors.js';
import { decodeAddress, encodeAddress } from '../../src/proto/socks5/address.js';
import {
  encodeGreeting,
  encodeMethodSelection,
  encodeReply,
  encodeRequest,
  encodeUserPassReply,
  encodeUserPassRequest,
  parseGreeting,
  parseMethodSelection,
  parseReply,
  parseRequest,
  parseUserPassReply,
  parseUserPassRequest,
} from '../../src/proto/socks5/codec.js';
import {
  CMD_CONNECT,
  CMD_UDP_ASSOCIATE,
  REP_NETWORK_UNREACHABLE,
  REP_SUCCEEDED,
} from '../../src/proto/socks5/constants.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** Every prefix must say "need more"; the whole input must parse with consumed = length. */
function assertIncremental<T>(
  input: Buffer,
  parse: (b: Buffer) => { value: T; consumed: number } | undefined,
): T {
  for (let i = 0; i < input.length; i++) assert.equal(parse(input.subarray(0, i)), undefined, `prefix ${i}`);
  const r = parse(input);
  assert.ok(r);
  assert.equal(r.consumed, input.length);
  // Coalesced with trailing bytes: same value, same consumed.
  const more = parse(Buffer.concat([input, hex('deadbeef')]));
  assert.deepEqual(more, r);
  return r.value;
}

const isSocksError = (err: unknown): boolean =>
  err instanceof ProtocolError && err.code === 'ERR_SOCKS_PROTOCOL';

describe('socks5 greeting / method selection (facts §5.2)', () => {
  it('encodes GOST notls greetings', () => {
    assert.deepEqual(encodeGreeting([0x00]), hex('050100'));
    assert.deepEqual(encodeGreeting([0x00, 0x02]), hex('05020002'));
  });
  it('parses greetings incrementally, including GOST TLS-method offers', () => {
    assert.deepEqual(assertIncremental(hex('05020080'), parseGreeting), { methods: [0x00, 0x80] });
    assert.deepEqual(assertIncremental(hex('0504000280 82'), parseGreeting), { methods: [0, 2, 0x80, 0x82] });
    assert.deepEqual(parseGreeting(hex('0500')), { value: { methods: [] }, consumed: 2 });
  });
  it('rejects a wrong version at the first byte', () => {
    assert.throws(() => parseGreeting(hex('04')), isSocksError);
    assert.throws(() => parseGreeting(Buffer.from('GET / HTTP/1.1')), isSocksError);
  });
  it('method selection round trip', () => {
    assert.deepEqual(encodeMethodSelection(0xff), hex('05ff'));
    assert.deepEqual(assertIncremental(hex('0502'), parseMethodSelection), { method: 2 });
    assert.throws(() => parseMethodSelection(hex('0100')), isSocksError);
  });
});

describe('RFC 1929 username/password', () => {
  it('round trips incrementally', () => {
    const req = encodeUserPassRequest('user', 'pässword');
    assert.deepEqual(
      req,
      Buffer.concat([hex('0104'), Buffer.from('user'), hex('09'), Buffer.from('pässword')]),
    );
    assert.deepEqual(assertIncremental(req, parseUserPassRequest), {
      username: 'user',
      password: 'pässword',
    });
    assert.deepEqual(assertIncremental(hex('0100 00'), parseUserPassRequest), { username: '', password: '' });
  });
  it('replies', () => {
    assert.deepEqual(encodeUserPassReply(0), hex('0100'));
    assert.deepEqual(encodeUserPassReply(1), hex('0101'));
    assert.deepEqual(assertIncremental(hex('0101'), parseUserPassReply), { status: 1 });
  });
  it('rejects a wrong sub-negotiation version and over-long fields', () => {
    assert.throws(() => parseUserPassRequest(hex('05')), isSocksError);
    assert.throws(() => encodeUserPassRequest('u'.repeat(256), 'p'), isSocksError);
  });
});

describe('socks5 request / reply', () => {
  it('IPv4 connect', () => {
    const req = encodeRequest(CMD_CONNECT, '127.0.0.1', 8080);
    assert.deepEqual(req, hex('05010001 7f000001 1f90'));
    assert.deepEqual(assertIncremental(req, parseRequest), {
      cmd: 1,
      addr: { type: 1, host: '127.0.0.1', port: 8080 },
    });
  });
  it('domain names are ATYP 3, never resolved', () => {
    const req = encodeRequest(CMD_CONNECT, 'example.com', 443);
    assert.deepEqual(req, Buffer.concat([hex('050100030b'), Buffer.from('example.com'), hex('01bb')]));
    assert.deepEqual(assertIncremental(req, parseRequest).addr, { type: 3, host: 'example.com', port: 443 });
  });
  it('IPv6 targets', () => {
    const req = encodeRequest(CMD_CONNECT, '2001:db8::1', 80);
    assert.deepEqual(req, hex('05010004 20010db8000000000000000000000001 0050'));
    assert.deepEqual(assertIncremental(req, parseRequest).addr, { type: 4, host: '2001:db8::1', port: 80 });
    assert.equal(assertIncremental(encodeRequest(1, '::1', 1), parseRequest).addr.host, '::1');
    // An IPv4-mapped address travels as IPv4 (Go: ip.To4() != nil) ...
    assert.deepEqual(encodeAddress('::ffff:10.0.0.1', 1), hex('01 0a000001 0001'));
    // ... and a mapped ATYP 4 address reads back as dotted IPv4, like Go's net.IP.String().
    assert.equal(decodeAddress(hex('04 00000000000000000000ffff0a000001 0001'), 0)?.value.host, '10.0.0.1');
  });
  it('GOST reply bytes: success with 0.0.0.0:0 and dial failure', () => {
    assert.deepEqual(encodeReply(REP_SUCCEEDED), hex('05000001 00000000 0000'));
    assert.deepEqual(encodeReply(REP_NETWORK_UNREACHABLE), hex('05030001 00000000 0000'));
    assert.deepEqual(encodeReply(REP_SUCCEEDED, '127.0.0.1', 5000), hex('05000001 7f000001 1388'));
    assert.equal(encodeReply(REP_SUCCEEDED).length, 10);
    assert.deepEqual(assertIncremental(encodeReply(7), parseReply), {
      rep: 7,
      bind: { type: 1, host: '0.0.0.0', port: 0 },
    });
  });
  it('UDP ASSOCIATE request parses with its command', () => {
    assert.equal(parseRequest(encodeRequest(CMD_UDP_ASSOCIATE, '0.0.0.0', 0))?.value.cmd, 3);
  });
  it('rejects garbage: bad version, unknown ATYP, empty domain', () => {
    assert.throws(() => parseRequest(hex('04010001')), isSocksError);
    assert.throws(() => parseRequest(hex('05010002 00')), isSocksError);
    assert.throws(() => parseRequest(hex('05010003 00 0050')), isSocksError);
    assert.throws(() => encodeAddress('x'.repeat(256), 1), isSocksError);
  });
  it('random bytes: only ProtocolError or need-more, consumed within bounds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const buf = Buffer.from(bytes);
        for (const parse of [
          parseGreeting,
          parseRequest,
          parseReply,
          parseUserPassRequest,
          parseMethodSelection,
        ]) {
          try {
            const r = parse(buf);
            if (r) assert.ok(r.consumed > 0 && r.consumed <= buf.length);
          } catch (err) {
            assert.ok(isSocksError(err), String(err));
          }
        }
      }),
    );
  });
  it('address round trip property', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.ipV4(),
          fc.domain().filter((d) => d.length <= 255),
          fc.ipV6(),
        ),
        fc.integer({ min: 0, max: 65535 }),
        (host, port) => {
          const enc = encodeAddress(host, port);
          const dec = decodeAddress(enc, 0);
          assert.ok(dec);
          assert.equal(dec.consumed, enc.length);
          assert.equal(dec.value.port, port);
          // Re-encoding the decoded form gives the same bytes (canonical text may differ for IPv6).
          assert.deepEqual(encodeAddress(dec.value.host, port), enc);
        },
      ),
    );
  });
});
