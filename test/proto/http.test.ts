import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../src/core/errors.js';
import { encodeConnectRequest } from '../../src/proto/http/connect-request.js';
import { canonicalHeaderKey, getHeader } from '../../src/proto/http/headers.js';
import { parseRequestHead } from '../../src/proto/http/request-head.js';
import { parseResponseHead } from '../../src/proto/http/response-head.js';
import {
  FORWARD_SERVICE_UNAVAILABLE,
  UDP_FORBIDDEN,
  encodeBadRequest,
  encodeConnectEstablished,
  encodeForbidden,
  encodeProxyAuthRequired,
  encodeServiceUnavailable,
} from '../../src/proto/http/replies.js';

const s = (b: Buffer): string => b.toString('latin1');

/** Feeds `input` one byte at a time the way readUntil does; returns the first complete parse. */
function feedByteByByte<T>(
  input: Buffer,
  parse: (b: Buffer, prev: number) => { value: T; consumed: number } | undefined,
): { value: T; consumed: number; at: number } {
  let prev = 0;
  for (let i = 1; i <= input.length; i++) {
    const r = parse(input.subarray(0, i), prev);
    if (r) return { ...r, at: i };
    prev = i;
  }
  throw new Error('never completed');
}

describe('encodeConnectRequest (facts §4.1)', () => {
  it('matches GOST byte for byte without credentials', () => {
    assert.equal(
      s(encodeConnectRequest('example.com:443')),
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: Go-http-client/1.1\r\n' +
        'Proxy-Connection: keep-alive\r\n\r\n',
    );
  });

  it('adds Proxy-Authorization before Proxy-Connection (sorted)', () => {
    assert.equal(
      s(encodeConnectRequest('example.com:443', { auth: { username: 'user', password: 'pass' } })),
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: Go-http-client/1.1\r\n' +
        'Proxy-Authorization: Basic dXNlcjpwYXNz\r\nProxy-Connection: keep-alive\r\n\r\n',
    );
  });

  it('canonicalises and sorts custom headers into the set; fixed headers win', () => {
    const out = s(
      encodeConnectRequest('[::1]:80', {
        header: { 'x-test': '1', foo: 'bar', 'proxy-connection': 'close', host: 'evil', zzz: 'last' },
      }),
    );
    assert.equal(
      out,
      'CONNECT [::1]:80 HTTP/1.1\r\nHost: [::1]:80\r\nUser-Agent: Go-http-client/1.1\r\n' +
        'Foo: bar\r\nProxy-Connection: keep-alive\r\nX-Test: 1\r\nZzz: last\r\n\r\n',
    );
  });

  it('a custom User-Agent replaces the default; an empty one drops the line', () => {
    assert.match(
      s(encodeConnectRequest('a:1', { header: { 'user-agent': 'curl/8' } })),
      /\r\nUser-Agent: curl\/8\r\n/,
    );
    assert.doesNotMatch(s(encodeConnectRequest('a:1', { header: { 'User-Agent': '' } })), /User-Agent/);
  });

  it('round-trips through the request parser', () => {
    const req = encodeConnectRequest('example.com:443', { auth: { username: 'u', password: 'p' } });
    const r = parseRequestHead(req);
    assert.ok(r);
    assert.equal(r.consumed, req.length);
    assert.equal(r.value.method, 'CONNECT');
    assert.equal(r.value.target, 'example.com:443');
    assert.equal(getHeader(r.value.headers, 'proxy-authorization'), 'Basic dTpw');
  });
});

describe('GOST reply bytes (facts §4.2)', () => {
  it('200 Connection established', () => {
    assert.equal(
      s(encodeConnectEstablished()),
      'HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\n',
    );
    assert.equal(
      s(encodeConnectEstablished('x/1')),
      'HTTP/1.1 200 Connection established\r\nProxy-Agent: x/1\r\n\r\n',
    );
  });

  it('503, 403, 400', () => {
    assert.equal(
      s(encodeServiceUnavailable()),
      'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nProxy-Agent: gost/3.0\r\n\r\n',
    );
    assert.equal(
      s(encodeForbidden()),
      'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nProxy-Agent: gost/3.0\r\n\r\n',
    );
    assert.equal(s(encodeBadRequest()), 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  });

  it('both 407 forms', () => {
    assert.equal(
      s(encodeProxyAuthRequired({ keepAlive: true })),
      'HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\n' +
        'Proxy-Authenticate: Basic realm="gost"\r\nProxy-Connection: close\r\n\r\n',
    );
    assert.equal(
      s(encodeProxyAuthRequired({ keepAlive: false })),
      'HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\nProxy-Authenticate: Basic realm="gost"\r\n\r\n',
    );
    assert.match(s(encodeProxyAuthRequired({ keepAlive: false, realm: 'r' })), /Basic realm="r"/);
  });

  it('plain-HTTP 503 and UDP 403', () => {
    assert.equal(
      s(FORWARD_SERVICE_UNAVAILABLE),
      'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n',
    );
    assert.equal(s(UDP_FORBIDDEN), 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
  });

  it('custom headers join the sorted set after the transfer Connection line', () => {
    assert.equal(
      s(encodeServiceUnavailable({ proxyAgent: 'p', header: { 'x-a': '1', accept: 'b' } })),
      'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nAccept: b\r\nProxy-Agent: p\r\nX-A: 1\r\n\r\n',
    );
    assert.equal(
      s(encodeBadRequest({ header: { 'x-a': '1' } })),
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nX-A: 1\r\n\r\n',
    );
    // A custom Proxy-Agent wins over the default one, as in GOST.
    assert.match(
      s(encodeServiceUnavailable({ header: { 'proxy-agent': 'nginx' } })),
      /Proxy-Agent: nginx\r\n\r\n$/,
    );
  });
});

describe('canonicalHeaderKey', () => {
  it('follows Go', () => {
    assert.equal(canonicalHeaderKey('x-gost-protocol'), 'X-Gost-Protocol');
    assert.equal(canonicalHeaderKey('USER-AGENT'), 'User-Agent');
    assert.equal(canonicalHeaderKey('bad key'), 'bad key');
  });
});

describe('parseRequestHead', () => {
  const req = Buffer.from(
    'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Connection: keep-alive\r\n\r\nPAYLOAD',
  );
  const headLen = req.length - 'PAYLOAD'.length;

  it('needs more until the blank line, then reports consumed (pipelined bytes left over)', () => {
    assert.equal(parseRequestHead(req.subarray(0, headLen - 1)), undefined);
    const r = parseRequestHead(req);
    assert.ok(r);
    assert.equal(r.consumed, headLen);
    assert.deepEqual(r.value.headers, [
      ['Host', 'example.com:443'],
      ['Proxy-Connection', 'keep-alive'],
    ]);
    assert.equal(r.value.version, 'HTTP/1.1');
  });

  it('gives the same result fed byte by byte (with the resume hint) and coalesced', () => {
    const whole = parseRequestHead(req);
    const step = feedByteByByte(req, (b, p) => parseRequestHead(b, {}, p));
    assert.deepEqual(step.value, whole?.value);
    assert.equal(step.at, headLen);
  });

  it('accepts bare LF line endings and obs-fold', () => {
    const r = parseRequestHead(Buffer.from('GET http://a/ HTTP/1.0\nHost: a\nX: 1\n  2\n\n'));
    assert.ok(r);
    assert.equal(r.value.versionMinor, 0);
    assert.equal(getHeader(r.value.headers, 'x'), '1 2');
  });

  it('rejects garbage with ERR_HTTP_BAD_REQUEST', () => {
    for (const bad of [
      'GARBAGE\r\n\r\n',
      'GET /\r\n\r\n',
      'GET / HTTP/x\r\n\r\n',
      'G(T / HTTP/1.1\r\n\r\n',
      'GET / HTTP/1.1\r\nNoColon\r\n\r\n',
      'GET / HTTP/1.1\r\nBad Name: x\r\n\r\n',
      '\r\n\r\n',
      'GET / HTTP/1.1\r\n folded-first: x\r\n\r\n',
    ]) {
      assert.throws(
        () => parseRequestHead(Buffer.from(bad)),
        (err: unknown) => err instanceof ProtocolError && err.code === 'ERR_HTTP_BAD_REQUEST',
        bad,
      );
    }
  });

  it('rejects oversized heads even before they complete', () => {
    const big = Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(2000)}`);
    assert.throws(() => parseRequestHead(big, { maxHeadBytes: 1024 }), /larger than 1024/);
    assert.throws(
      () => parseRequestHead(Buffer.from(`GET / HTTP/1.1\r\n${'X: 1\r\n'.repeat(300)}\r\n`)),
      /header lines/,
    );
  });

  it('never throws anything but ProtocolError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          parseRequestHead(Buffer.from(bytes), { maxHeadBytes: 200 });
        } catch (err) {
          assert.ok(err instanceof ProtocolError);
        }
      }),
    );
  });
});

describe('parseResponseHead', () => {
  it('parses status and leaves body bytes', () => {
    const buf = Buffer.from('HTTP/1.1 200 Connection established\r\nProxy-Agent: gost/3.0\r\n\r\nhello');
    const r = parseResponseHead(buf);
    assert.ok(r);
    assert.equal(r.value.statusCode, 200);
    assert.equal(r.value.status, '200 Connection established');
    assert.equal(buf.subarray(r.consumed).toString(), 'hello');
  });

  it('status text is Go resp.Status', () => {
    const r = parseResponseHead(encodeProxyAuthRequired({ keepAlive: true }));
    assert.equal(r?.value.status, '407 Proxy Authentication Required');
    assert.equal(parseResponseHead(Buffer.from('HTTP/1.0 200\r\n\r\n'))?.value.status, '200');
  });

  it('byte by byte equals coalesced', () => {
    const buf = encodeServiceUnavailable();
    const step = feedByteByByte(buf, (b, p) => parseResponseHead(b, {}, p));
    assert.equal(step.at, buf.length);
    assert.deepEqual(step.value, parseResponseHead(buf)?.value);
  });

  it('rejects malformed status lines with ERR_HTTP_PROXY_STATUS', () => {
    for (const bad of [
      'HTTP/1.1\r\n\r\n',
      'HTTP/1.1 2000 OK\r\n\r\n',
      'SSH-2.0-x 200 OK\r\n\r\n',
      'HTTP/1.1 abc\r\n\r\n',
    ]) {
      assert.throws(
        () => parseResponseHead(Buffer.from(bad)),
        (err: unknown) => err instanceof ProtocolError && err.code === 'ERR_HTTP_PROXY_STATUS',
        bad,
      );
    }
  });
});
