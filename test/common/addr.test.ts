import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bytesToIPv6,
  ensurePort,
  ipv6ToBytes,
  joinHostPort,
  parseHostPort,
  splitHostPort,
} from '../../src/common/addr.js';
import { TunnelError } from '../../src/core/errors.js';

describe('splitHostPort / parseHostPort', () => {
  it('splits the usual forms', () => {
    assert.deepEqual(splitHostPort('example.com:443'), { host: 'example.com', port: 443 });
    assert.deepEqual(splitHostPort('[::1]:80'), { host: '::1', port: 80 });
    assert.deepEqual(splitHostPort(':8080'), { host: '', port: 8080 });
    assert.deepEqual(splitHostPort('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  });
  it('uses the default port only when none is given', () => {
    assert.deepEqual(splitHostPort('example.com', 80), { host: 'example.com', port: 80 });
    assert.deepEqual(splitHostPort('[::1]', 80), { host: '::1', port: 80 });
    assert.deepEqual(splitHostPort('::1', 80), { host: '::1', port: 80 });
    assert.deepEqual(splitHostPort('a:', 80), { host: 'a', port: 80 });
  });
  it('rejects bad addresses', () => {
    for (const bad of ['example.com', 'a:b', 'a:65536', '::1', '[::1', '[::1]x', 'a]:1', '1:2:3', 'a:-1']) {
      assert.equal(parseHostPort(bad), undefined, bad);
    }
    assert.throws(
      () => splitHostPort('nope'),
      (e: unknown) => e instanceof TunnelError && e.code === 'ERR_CONFIG_INVALID',
    );
  });
  it('join brackets IPv6 and round-trips', () => {
    assert.equal(joinHostPort('::1', 80), '[::1]:80');
    assert.equal(joinHostPort('a.b', '1'), 'a.b:1');
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()), fc.integer({ min: 0, max: 65535 }), (h, p) => {
        assert.deepEqual(splitHostPort(joinHostPort(h, p)), { host: h, port: p });
      }),
    );
  });
  it('ensurePort adds a default like GOST', () => {
    assert.equal(ensurePort('example.com', 80), 'example.com:80');
    assert.equal(ensurePort('example.com:8080', 80), 'example.com:8080');
    assert.equal(ensurePort('[::1]', 80), '[::1]:80');
    assert.equal(ensurePort('::1', 80), '[::1]:80');
    assert.equal(ensurePort('[::1]:81', 80), '[::1]:81');
  });
});

describe('IPv6 bytes', () => {
  it('parses and prints RFC 5952 text', () => {
    assert.equal(ipv6ToBytes('::1')?.toString('hex'), '00000000000000000000000000000001');
    assert.equal(ipv6ToBytes('2001:db8::ff00:42:8329')?.toString('hex'), '20010db8000000000000ff0000428329');
    assert.equal(ipv6ToBytes('::ffff:1.2.3.4')?.toString('hex'), '00000000000000000000ffff01020304');
    assert.equal(ipv6ToBytes('1.2.3.4'), undefined);
    assert.equal(bytesToIPv6(Buffer.from('20010db8000000000000000000000001', 'hex')), '2001:db8::1');
    assert.equal(bytesToIPv6(Buffer.from('20010db8000100000001000100010001', 'hex')), '2001:db8:1:0:1:1:1:1');
    assert.equal(bytesToIPv6(Buffer.alloc(16)), '::');
  });
  it('round-trips any IPv6 literal', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const b = ipv6ToBytes(ip);
        assert.ok(b, ip);
        assert.deepEqual(ipv6ToBytes(bytesToIPv6(b)), b);
      }),
    );
  });
});
