import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../src/core/errors.js';
import {
  SOCKS4_FAILED,
  SOCKS4_GRANTED,
  SOCKS4_REJECTED_USERID,
  encodeSocks4Reply,
  encodeSocks4Request,
  parseSocks4Reply,
  parseSocks4Request,
} from '../../src/proto/socks4/codec.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const isSocksError = (err: unknown): boolean =>
  err instanceof ProtocolError && err.code === 'ERR_SOCKS_PROTOCOL';

function incremental<T>(input: Buffer, parse: (b: Buffer) => { value: T; consumed: number } | undefined): T {
  for (let i = 0; i < input.length; i++) assert.equal(parse(input.subarray(0, i)), undefined, `prefix ${i}`);
  const r = parse(Buffer.concat([input, hex('aabb')]));
  assert.ok(r);
  assert.equal(r.consumed, input.length);
  return r.value;
}

describe('socks4 request (facts §5.3)', () => {
  it('plain SOCKS4', () => {
    const req = encodeSocks4Request('127.0.0.1', 80, { use4a: false, userId: 'bob' });
    assert.deepEqual(req, Buffer.concat([hex('0401 0050 7f000001'), Buffer.from('bob'), hex('00')]));
    assert.deepEqual(incremental(req, parseSocks4Request), {
      cmd: 1,
      port: 80,
      ip: '127.0.0.1',
      userId: 'bob',
      host: '127.0.0.1',
    });
  });
  it('4a form (GOST default, even for IP literals)', () => {
    const req = encodeSocks4Request('example.com', 443);
    assert.deepEqual(
      req,
      Buffer.concat([hex('0401 01bb 00000001 00'), Buffer.from('example.com'), hex('00')]),
    );
    const v = incremental(req, parseSocks4Request);
    assert.equal(v.hostname, 'example.com');
    assert.equal(v.host, 'example.com');
    assert.equal(incremental(encodeSocks4Request('10.1.2.3', 1), parseSocks4Request).host, '10.1.2.3');
  });
  it('rejects garbage', () => {
    assert.throws(() => parseSocks4Request(hex('05')), isSocksError);
    assert.throws(
      () => parseSocks4Request(Buffer.concat([hex('0401 0050 7f000001'), Buffer.alloc(300, 0x41)])),
      isSocksError,
    );
    assert.throws(
      () => parseSocks4Request(Buffer.concat([hex('0401 0050 00000001 00'), Buffer.alloc(300, 0x41)])),
      isSocksError,
    );
    assert.throws(() => parseSocks4Request(hex('0401 0050 00000001 00 00')), isSocksError);
    assert.throws(() => encodeSocks4Request('example.com', 1, { use4a: false }), isSocksError);
  });
  it('random bytes never throw anything but ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          parseSocks4Request(Buffer.from(bytes));
          parseSocks4Reply(Buffer.from(bytes));
        } catch (err) {
          assert.ok(isSocksError(err));
        }
      }),
    );
  });
});

describe('socks4 reply', () => {
  it('GOST replies are 00 CD + six zero bytes', () => {
    assert.deepEqual(encodeSocks4Reply(SOCKS4_GRANTED), hex('005a000000000000'));
    assert.deepEqual(encodeSocks4Reply(SOCKS4_FAILED), hex('005b000000000000'));
    assert.deepEqual(encodeSocks4Reply(SOCKS4_REJECTED_USERID), hex('005d000000000000'));
  });
  it('parses incrementally; a non-zero first byte is an error (as GOST)', () => {
    assert.deepEqual(incremental(hex('005a1f907f000001'), parseSocks4Reply), {
      code: 0x5a,
      port: 8080,
      ip: '127.0.0.1',
    });
    assert.throws(() => parseSocks4Reply(hex('04')), isSocksError);
  });
});
