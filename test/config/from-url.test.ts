import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.js';
import { nodesFromUrl, parseGostUrl, serviceFromUrl } from '../../src/config/from-url.js';
import type { HopConfig, NodeConfig, ServiceConfig } from '../../src/config/types.js';

function one(url: string, index = 0): ServiceConfig {
  const services = serviceFromUrl(url, index);
  assert.equal(services.length, 1);
  return services[0] as ServiceConfig;
}

function node(hop: HopConfig, i = 0): NodeConfig {
  const n = hop.nodes[i];
  assert.ok(n, `node ${i}`);
  return n;
}

/** Asserts a ConfigError whose message names the URL and contains `fragment`. */
function assertUrlError(fn: () => unknown, url: string, fragment: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.message.includes(JSON.stringify(url)), `message names the URL: ${err.message}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    if (typeof fragment === 'string')
      assert.ok(err.message.includes(fragment), `"${err.message}" includes "${fragment}"`);
    else assert.match(err.message, fragment);
    return true;
  });
}

describe('serviceFromUrl (-L)', () => {
  it('spec server: http+mws://:8443?path=/ws → handler http, listener mws, path everywhere', () => {
    assert.deepEqual(one('http+mws://:8443?path=/ws'), {
      name: 'service-0',
      addr: ':8443',
      handler: { type: 'http', metadata: { path: '/ws' } },
      listener: { type: 'mws', metadata: { path: '/ws' } },
      metadata: { path: '/ws' },
    });
  });

  it(':8080 is auto over tcp', () => {
    assert.deepEqual(one(':8080', 3), {
      name: 'service-3',
      addr: ':8080',
      handler: { type: 'auto' },
      listener: { type: 'tcp' },
    });
  });

  it('a scheme-less host:port is auto over tcp', () => {
    const s = one('127.0.0.1:1080');
    assert.equal(s.addr, '127.0.0.1:1080');
    assert.equal(s.handler.type, 'auto');
    assert.equal(s.listener.type, 'tcp');
  });

  it('a single scheme applies to both parts, each falling back as GOST does', () => {
    const cases: Array<[string, string, string]> = [
      ['mws://:8443', 'auto', 'mws'],
      ['mwss://:443', 'auto', 'mwss'],
      ['http://:8080', 'http', 'tcp'],
      ['socks5://:1080', 'socks5', 'tcp'],
      ['rtcp://:2222', 'rtcp', 'rtcp'],
      ['tls+mws://:8443', 'auto', 'mws'],
      ['https://:443', 'http', 'tls'],
      ['HTTP+MWS://:8443', 'http', 'mws'],
      ['bogus+nothing://:1', 'auto', 'tcp'],
      ['a+b+c://:1', 'auto', 'tcp'],
    ];
    for (const [url, handler, listener] of cases) {
      const s = one(url);
      assert.equal(s.handler.type, handler, url);
      assert.equal(s.listener.type, listener, url);
    }
  });

  it('accepts bracketed IPv6 literals', () => {
    assert.equal(one('http://[::1]:8080').addr, '[::1]:8080');
    assert.equal(one('socks5://[fe80::1%25eth0]:1080').addr, '[fe80::1%25eth0]:1080');
    assert.deepEqual(
      serviceFromUrl('http://[::]:8000-8001', 0).map((s) => s.addr),
      ['[::]:8000', '[::]:8001'],
    );
  });

  it('user:pass@ becomes handler auth (percent-decoded, last @ splits)', () => {
    const s = one('http+mws://user:p%40ss@:8443?path=/ws');
    assert.deepEqual(s.handler.auth, { username: 'user', password: 'p@ss' });
    assert.equal(s.listener.auth, undefined);
    assert.deepEqual(one('http://us:p@ss@:8080').handler.auth, { username: 'us', password: 'p@ss' });
    assert.deepEqual(one('http://solo@:8080').handler.auth, { username: 'solo', password: '' });
  });

  it('auth=base64(user:pass) is used when there is no userinfo, and never kept as metadata', () => {
    const b64 = Buffer.from('alice:secret').toString('base64');
    const s = one(`http://:8080?auth=${encodeURIComponent(b64)}`);
    assert.deepEqual(s.handler.auth, { username: 'alice', password: 'secret' });
    assert.equal(s.handler.metadata, undefined);
    const rawUrl = Buffer.from('bob:pw').toString('base64url');
    assert.deepEqual(one(`http://:8080?auth=${rawUrl}`).handler.auth, { username: 'bob', password: 'pw' });
    assert.deepEqual(one(`http://u:p@:8080?auth=${b64}`).handler.auth, { username: 'u', password: 'p' });
    assertUrlError(() => serviceFromUrl('http://:8080?auth=!!!', 0), 'http://:8080?auth=!!!', 'auth');
  });

  it('a port range makes one service per port, numbered from index', () => {
    const services = serviceFromUrl('socks5://:8000-8002?foo=bar', 5);
    assert.deepEqual(
      services.map((s) => [s.name, s.addr]),
      [
        ['service-5', ':8000'],
        ['service-6', ':8001'],
        ['service-7', ':8002'],
      ],
    );
    for (const s of services) assert.deepEqual(s.metadata, { foo: 'bar' });
    assert.notEqual(services[0]?.handler, services[1]?.handler, 'each service has its own objects');
  });

  it('a URL path on a tcp listener is a port forward: handler tcp with forwarder nodes', () => {
    assert.deepEqual(one('tcp://:2222/127.0.0.1:22,host2:22'), {
      name: 'service-0',
      addr: ':2222',
      handler: { type: 'tcp' },
      listener: { type: 'tcp' },
      forwarder: {
        nodes: [
          { name: 'target-0', addr: '127.0.0.1:22' },
          { name: 'target-1', addr: 'host2:22' },
        ],
      },
    });
    const auto = one(':8080/10.0.0.5:80');
    assert.equal(auto.handler.type, 'tcp');
    assert.deepEqual(auto.forwarder?.nodes, [{ name: 'target-0', addr: '10.0.0.5:80' }]);
  });

  it('a URL path on other listeners makes handler forward (relay stays relay, rtcp stays rtcp)', () => {
    const s = one('http+mws://:8443/10.0.0.1:80?path=/ws');
    assert.equal(s.handler.type, 'forward');
    assert.equal(s.listener.type, 'mws');
    assert.deepEqual(s.forwarder?.nodes, [{ name: 'target-0', addr: '10.0.0.1:80' }]);
    assert.equal(one('relay+mws://:8443/10.0.0.1:80').handler.type, 'relay');
    assert.equal(one('rtcp://:2222/10.0.0.1:22').handler.type, 'rtcp');
  });

  it('forward targets expand port ranges and pair up with a listen port range (GOST)', () => {
    assert.deepEqual(one('tcp://:9000/h:80-81').forwarder?.nodes, [
      { name: 'target-0', addr: 'h:80' },
      { name: 'target-1', addr: 'h:81' },
    ]);
    const paired = serviceFromUrl('tcp://:9000-9002/a:1,b:2', 0);
    assert.deepEqual(
      paired.map((s) => s.forwarder?.nodes.map((n) => n.addr)),
      [['a:1'], ['b:2'], undefined],
    );
    const shared = serviceFromUrl('tcp://:9000-9001/a:1', 0);
    assert.deepEqual(
      shared.map((s) => s.forwarder?.nodes.map((n) => n.addr)),
      [['a:1'], ['a:1']],
    );
  });

  it('a WebSocket path given as URL path is rejected with a hint', () => {
    assertUrlError(() => serviceFromUrl('http+mws://:8443/ws', 0), 'http+mws://:8443/ws', '?path=');
  });

  it('prefixed query keys go to one part only; others to handler, listener and service', () => {
    const s = one('http+mws://:8443?handler.a=1&listener.b=2&service.c=3&d=4');
    assert.deepEqual(s.handler.metadata, { a: '1', d: '4' });
    assert.deepEqual(s.listener.metadata, { b: '2', d: '4' });
    assert.deepEqual(s.metadata, { c: '3', d: '4' });
    const upper = one('http://:8080?Handler.X=1');
    assert.deepEqual(upper.handler.metadata, { X: '1' });
    assert.equal(upper.metadata, undefined);
  });

  it('query keys are case-insensitive and the first value wins; values are decoded strings', () => {
    const s = one('http+mws://:8443?PATH=/a&path=/b&path=/c&mux.version=2&h=a+b%20c');
    assert.deepEqual(s.listener.metadata, { PATH: '/a', 'mux.version': '2', h: 'a b c' });
  });

  it('TLS keys become listener TLS and leave the metadata', () => {
    const s = one('http+mwss://:443?path=/ws&certFile=cert.pem&keyFile=key.pem&ca=ca.pem');
    assert.deepEqual(s.listener.tls, { certFile: 'cert.pem', keyFile: 'key.pem', caFile: 'ca.pem' });
    assert.deepEqual(s.listener.metadata, { path: '/ws' });
    assert.deepEqual(one('https://:443?tls.certFile=a&cert=b&key=k').listener.tls, {
      certFile: 'a',
      keyFile: 'k',
    });
  });

  it('retries becomes handler.retries; interface/so_mark go to service metadata only', () => {
    const s = one('http://:8080?retries=3&interface=eth0&so_mark=5');
    assert.equal(s.handler.retries, 3);
    assert.equal(s.handler.metadata, undefined, 'retries is consumed from the handler metadata only (GOST)');
    assert.deepEqual(s.listener.metadata, { retries: '3' });
    assert.deepEqual(s.metadata, { interface: 'eth0', so_mark: '5', retries: '3' });
  });

  it('selector keys on -L set the forwarder selector', () => {
    const s = one('tcp://:8080/a:1,b:2?strategy=fifo&maxFails=2');
    assert.deepEqual(s.forwarder?.selector, { strategy: 'fifo', maxFails: 2, failTimeout: 30_000 });
    assert.equal(s.metadata, undefined);
  });

  it('keys GOST turns into unimplemented features are dropped from handler metadata', () => {
    const s = one('http://:8080?bypass=10.0.0.0/8&limiter.in=1MB');
    assert.equal(s.handler.metadata, undefined);
    assert.deepEqual(s.listener.metadata, { bypass: '10.0.0.0/8', 'limiter.in': '1MB' });
  });

  it('rejects bad URLs with a one-line ConfigError naming the URL', () => {
    const bad: Array<[string, string | RegExp]> = [
      ['', 'empty URL'],
      ['   ', 'empty URL'],
      ['1http://:80', 'invalid scheme'],
      ['http://', 'missing listen address'],
      ['http://:99999', 'out of range'],
      ['http://:80x', 'invalid port'],
      ['http://localhost', 'missing port'],
      ['http://:', 'missing port'],
      ['http://::1:8080', 'brackets'],
      ['http://[::1', 'missing "]"'],
      ['http://[nope]:80', 'invalid IPv6'],
      ['http://[::1]x:80', 'after "]"'],
      ['http://:8002-8000', 'port range'],
      ['http://a b:80', 'invalid host'],
      ['http://:80?a=1;b=2', '";"'],
      ['http://:80?a=%zz', 'percent-encoding'],
      ['http://u%zz:p@:80', 'percent-encoding'],
      ['tcp://:80/nohost', 'forward target "nohost"'],
      ['tcp://:80/h:0', 'forward target'],
      ['http://:80?maxFails=x', 'maxFails'],
      ['http://:80?strategy=best', 'unknown strategy'],
      ['http://:80?retries=many', 'retries'],
      ['http://:80?a=\u0001', 'control character'],
    ];
    for (const [url, fragment] of bad) {
      assertUrlError(() => serviceFromUrl(url, 0), url, fragment);
      assert.throws(
        () => serviceFromUrl(url, 0),
        (e: unknown) => e instanceof ConfigError && e.path.startsWith('-L '),
      );
    }
  });
});

describe('nodesFromUrl (-F)', () => {
  it('spec client: http+mws://SERVER:8443?path=/ws → one hop, one node, path copied to all four', () => {
    assert.deepEqual(nodesFromUrl('http+mws://SERVER:8443?path=/ws', 0), {
      name: 'hop-0',
      nodes: [
        {
          name: 'node-0',
          addr: 'SERVER:8443',
          connector: { type: 'http', metadata: { path: '/ws' } },
          dialer: { type: 'mws', metadata: { path: '/ws' } },
          metadata: { path: '/ws' },
        },
      ],
      metadata: { path: '/ws' },
    });
  });

  it('mws://host:8443 is http+mws; unknown parts fall back to http / tcp', () => {
    const cases: Array<[string, string, string]> = [
      ['mws://host:8443', 'http', 'mws'],
      ['mwss://host:443', 'http', 'mwss'],
      ['socks5://host:1080', 'socks5', 'tcp'],
      ['socks5+mws://host:8443', 'socks5', 'mws'],
      ['https://host:443', 'http', 'tls'],
      [':8443', 'http', 'tcp'],
      ['host:8080', 'http', 'tcp'],
      ['auto+auto://h:1', 'http', 'tcp'],
    ];
    for (const [url, connector, dialer] of cases) {
      const n = node(nodesFromUrl(url, 0));
      assert.equal(n.connector.type, connector, url);
      assert.equal(n.dialer.type, dialer, url);
    }
  });

  it('keeps an empty host (":8443") verbatim as the node address', () => {
    assert.equal(node(nodesFromUrl('http+mws://:8443?path=/ws', 0)).addr, ':8443');
  });

  it('comma-separated hosts are several nodes of one hop, with separate objects', () => {
    const hop = nodesFromUrl('http+mws://a:8443,[::1]:8443,,b:9443?path=/ws', 2);
    assert.equal(hop.name, 'hop-2');
    assert.deepEqual(
      hop.nodes.map((n) => [n.name, n.addr, n.dialer.type]),
      [
        ['node-0', 'a:8443', 'mws'],
        ['node-1', '[::1]:8443', 'mws'],
        ['node-2', 'b:9443', 'mws'],
      ],
    );
    assert.notEqual(hop.nodes[0]?.dialer.metadata, hop.nodes[1]?.dialer.metadata);
  });

  it('user:pass@ and auth= become connector auth, not dialer auth', () => {
    const n = node(nodesFromUrl('http+mws://user:pass@srv:8443', 0));
    assert.deepEqual(n.connector.auth, { username: 'user', password: 'pass' });
    assert.equal(n.dialer.auth, undefined);
    const b = node(nodesFromUrl(`http://srv:8080?auth=${Buffer.from('x:y').toString('base64')}`, 0));
    assert.deepEqual(b.connector.auth, { username: 'x', password: 'y' });
    assert.equal(b.metadata, undefined);
  });

  it('prefixed keys go to connector/dialer/node/hop only', () => {
    const hop = nodesFromUrl('http+mws://s:1?connector.a=1&dialer.b=2&node.c=3&hop.d=4&e=5', 0);
    const n = node(hop);
    assert.deepEqual(n.connector.metadata, { a: '1', e: '5' });
    assert.deepEqual(n.dialer.metadata, { b: '2', e: '5' });
    assert.deepEqual(n.metadata, { c: '3', e: '5' });
    assert.deepEqual(hop.metadata, { d: '4', e: '5' });
  });

  it('TLS keys become dialer TLS', () => {
    const n = node(
      nodesFromUrl(
        'http+mwss://srv.example:443?path=/ws&secure=true&serverName=srv.example&caFile=ca.pem&cert=c&key=k',
        0,
      ),
    );
    assert.deepEqual(n.dialer.tls, {
      certFile: 'c',
      keyFile: 'k',
      caFile: 'ca.pem',
      secure: true,
      serverName: 'srv.example',
    });
    assert.deepEqual(n.dialer.metadata, { path: '/ws' });
    assert.equal(node(nodesFromUrl('mwss://h:443?tls.secure=false', 0)).dialer.tls, undefined);
    assert.equal(node(nodesFromUrl('mwss://h:443', 0)).dialer.tls, undefined);
    assertUrlError(() => nodesFromUrl('mwss://h:443?secure=yes', 0), 'mwss://h:443?secure=yes', 'secure');
  });

  it('selector keys set the hop selector (CLI default failTimeout 30s) and leave the metadata', () => {
    const hop = nodesFromUrl('http+mws://a:1,b:2?strategy=fifo&max_fails=3&fail_timeout=1m&path=/ws', 0);
    assert.deepEqual(hop.selector, { strategy: 'fifo', maxFails: 3, failTimeout: 60_000 });
    assert.deepEqual(hop.metadata, { path: '/ws' });
    assert.deepEqual(nodesFromUrl('mws://a:1?maxFails=2', 0).selector, {
      strategy: 'round',
      maxFails: 2,
      failTimeout: 30_000,
    });
    assert.deepEqual(nodesFromUrl('mws://a:1?failTimeout=10', 0).selector, {
      strategy: 'round',
      maxFails: 1,
      failTimeout: 10_000,
    });
    assert.equal(nodesFromUrl('mws://a:1', 0).selector, undefined);
  });

  it('interface/so_mark/proxyProtocol go to hop metadata only; bypass/resolver/hosts are dropped', () => {
    const hop = nodesFromUrl('mws://a:1?interface=eth0&proxyProtocol=1&bypass=x&hosts=a:1.2.3.4', 0);
    assert.deepEqual(hop.metadata, { interface: 'eth0', proxyProtocol: '1' });
    assert.equal(node(hop).metadata, undefined);
    assert.equal(node(hop).dialer.metadata, undefined);
  });

  it('ignores a URL path, as GOST does', () => {
    assert.equal(node(nodesFromUrl('http+mws://srv:8443/ignored', 0)).addr, 'srv:8443');
  });

  it('rejects bad node URLs with a one-line ConfigError naming the URL', () => {
    const bad: Array<[string, string]> = [
      ['', 'empty URL'],
      ['http://', 'missing node address'],
      ['http://?path=/ws', 'missing node address'],
      ['http://,,', 'missing node address'],
      ['http://host', 'missing port'],
      ['http://host:0', 'out of range'],
      ['http://host:70000', 'out of range'],
      ['http://host:8000-8001', 'invalid port'],
      ['http://a:1,b', 'missing port'],
      ['http://fe80::1:80', 'brackets'],
      ['mws://a:1?fail_timeout=soon', 'fail_timeout'],
    ];
    for (const [url, fragment] of bad) {
      assertUrlError(() => nodesFromUrl(url, 0), url, fragment);
      assert.throws(
        () => nodesFromUrl(url, 0),
        (e: unknown) => e instanceof ConfigError && e.path.startsWith('-F '),
      );
    }
  });
});

describe('parseGostUrl', () => {
  it('splits scheme, userinfo, host, path and query', () => {
    assert.deepEqual(parseGostUrl('HTTP+MWS://u:p@h:1/a,b?x=1&y=2&x=3#frag'), {
      scheme: 'http+mws',
      userinfo: { username: 'u', password: 'p' },
      host: 'h:1',
      path: '/a,b',
      query: [
        ['x', '1'],
        ['y', '2'],
        ['x', '3'],
      ],
    });
    assert.deepEqual(parseGostUrl(':8080'), { scheme: 'auto', host: ':8080', path: '', query: [] });
  });
});

describe('URL grammar properties', () => {
  const port = fc.integer({ min: 1, max: 65535 });
  const hostname = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5})?$/);
  const pathValue = fc.stringMatching(/^\/[A-Za-z0-9_/-]{0,12}$/);

  it('-L handler+listener://:port?path=P always gives that addr, types and path', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('http', 'socks5', 'auto', 'relay'),
        fc.constantFrom('tcp', 'mws', 'mwss', 'ws'),
        port,
        pathValue,
        (handler, listener, p, path) => {
          const s = one(`${handler}+${listener}://:${p}?path=${encodeURIComponent(path)}`);
          assert.equal(s.addr, `:${p}`);
          assert.equal(s.handler.type, handler);
          assert.equal(s.listener.type, listener);
          assert.deepEqual(s.listener.metadata, { path });
          assert.deepEqual(s.handler.metadata, { path });
        },
      ),
    );
  });

  it('-F with N comma-separated hosts gives N nodes with the given addresses', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(hostname, port), { minLength: 1, maxLength: 5 }), (hosts) => {
        const addrs = hosts.map(([h, p]) => `${h}:${p}`);
        const hop = nodesFromUrl(`http+mws://${addrs.join(',')}?path=/ws`, 0);
        assert.deepEqual(
          hop.nodes.map((n) => n.addr),
          addrs,
        );
        assert.deepEqual(
          hop.nodes.map((n) => n.name),
          addrs.map((_, i) => `node-${i}`),
        );
      }),
    );
  });

  it('never throws anything but ConfigError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        for (const f of [() => serviceFromUrl(s, 0), () => nodesFromUrl(s, 0)]) {
          try {
            f();
          } catch (err) {
            assert.ok(err instanceof ConfigError, `${JSON.stringify(s)}: ${String(err)}`);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
