import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConfigError } from '../../src/core/errors.js';
import {
  IGNORED_KEYS,
  decodeConfig,
  loadConfigSource,
  mergeConfigs,
  normaliseConfig,
  parseConfigText,
  toJson,
  toYaml,
} from '../../src/config/load.js';
import { nodesFromUrl, serviceFromUrl } from '../../src/config/from-url.js';
import type { Config } from '../../src/config/types.js';

const SEED_CLIENT = `
services:
- name: service-0
  addr: ":8080"
  handler:
    type: auto
    chain: chain-0
  listener:
    type: tcp
chains:
- name: chain-0
  hops:
  - name: hop-0
    nodes:
    - name: node-0
      addr: :8443
      connector:
        type: http
      dialer:
        type: mws          # mwss for WebSocket over TLS
        metadata:
          path: /ws
          header:
            foo: bar
`;

const SEED_SERVER = `
services:
- name: service-0
  addr: :8443
  handler: {type: http}
  listener: {type: mws, metadata: {path: /ws}}
`;

/** Asserts a ConfigError with this exact path whose message contains `fragment`. */
function assertConfigError(fn: () => unknown, path: string, fragment: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.path, path, err.message);
    assert.equal(err.code, 'ERR_CONFIG_INVALID');
    assert.ok(err.message.startsWith(path === '' ? fragment.slice(0, 0) : `${path}: `), err.message);
    assert.ok(err.message.includes(fragment), `"${err.message}" includes "${fragment}"`);
    assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
    return true;
  });
}

const yaml = (text: string): Config => parseConfigText(text, 'yaml');

describe('parseConfigText: seed examples (facts §7)', () => {
  it('parses the seed client example to the expected structure', () => {
    assert.deepEqual(yaml(SEED_CLIENT), {
      services: [
        {
          name: 'service-0',
          addr: ':8080',
          handler: { type: 'auto', chain: 'chain-0' },
          listener: { type: 'tcp' },
        },
      ],
      chains: [
        {
          name: 'chain-0',
          hops: [
            {
              name: 'hop-0',
              nodes: [
                {
                  name: 'node-0',
                  addr: ':8443',
                  connector: { type: 'http' },
                  dialer: { type: 'mws', metadata: { path: '/ws', header: { foo: 'bar' } } },
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('parses the matching server', () => {
    assert.deepEqual(yaml(SEED_SERVER), {
      services: [
        {
          name: 'service-0',
          addr: ':8443',
          handler: { type: 'http' },
          listener: { type: 'mws', metadata: { path: '/ws' } },
        },
      ],
      chains: [],
    });
  });

  it('deep-freezes the result', () => {
    const c = yaml(SEED_CLIENT);
    assert.ok(Object.isFrozen(c));
    assert.ok(Object.isFrozen(c.services));
    const header = c.chains[0]?.hops[0]?.nodes[0]?.dialer.metadata?.['header'];
    assert.ok(Object.isFrozen(header));
    assert.throws(() => {
      (c.services as unknown as unknown[]).push({});
    }, TypeError);
  });
});

describe('parseConfigText: defaults, keys and values', () => {
  it('fills in names and types', () => {
    const c = yaml(`
services:
  - addr: :1
  - addr: :2
    handler: {type: socks5}
chains:
  - hops:
      - nodes:
          - addr: a:1
          - addr: b:1
            dialer: {type: mws}
`);
    assert.deepEqual(
      c.services.map((s) => [s.name, s.handler.type, s.listener.type]),
      [
        ['service-0', 'auto', 'tcp'],
        ['service-1', 'socks5', 'tcp'],
      ],
    );
    const hop = c.chains[0]?.hops[0];
    assert.equal(c.chains[0]?.name, 'chain-0');
    assert.equal(hop?.name, 'hop-0');
    assert.deepEqual(
      hop?.nodes.map((n) => [n.name, n.connector.type, n.dialer.type]),
      [
        ['node-0', 'http', 'tcp'],
        ['node-1', 'http', 'mws'],
      ],
    );
  });

  it('matches struct keys case-insensitively and keeps metadata keys verbatim', () => {
    const c = yaml(`
Services:
  - NAME: s
    ADDR: :8080
    Handler: {TYPE: http, Metadata: {Mux.Version: 2, ProbeResist: "code:404"}}
    LISTENER:
      type: mws
      TLS: {CERTFILE: c.pem, KeyFile: k.pem}
`);
    const s = c.services[0];
    assert.equal(s?.name, 's');
    assert.equal(s?.addr, ':8080');
    assert.deepEqual(s?.handler, { type: 'http', metadata: { 'Mux.Version': 2, ProbeResist: 'code:404' } });
    assert.deepEqual(s?.listener, { type: 'mws', tls: { certFile: 'c.pem', keyFile: 'k.pem' } });
  });

  it('keeps native YAML values and dotted keys in metadata', () => {
    const c = yaml(`
services:
  - addr: :8443
    listener:
      type: mws
      metadata: {mux.version: 2, keepalive: true, ttl: 30s, header: {X-A: "1"}, list: [1, 2]}
`);
    assert.deepEqual(c.services[0]?.listener.metadata, {
      'mux.version': 2,
      keepalive: true,
      ttl: '30s',
      header: { 'X-A': '1' },
      list: [1, 2],
    });
  });

  it('reads JSON, numbers in metadata stay numbers (more lenient than GOST)', () => {
    const ignored: string[] = [];
    const c = parseConfigText(
      JSON.stringify({
        services: [
          { name: 'svc', addr: ':8080', handler: { type: 'auto', chain: 'c' }, listener: { type: 'tcp' } },
        ],
        chains: [
          {
            name: 'c',
            hops: [
              {
                name: 'h',
                selector: { strategy: 'fifo', maxFails: 2, failTimeout: '30s' },
                nodes: [
                  {
                    name: 'n',
                    addr: 'srv:8443',
                    connector: { type: 'http', auth: { username: 'u', password: 'p' } },
                    dialer: {
                      type: 'mwss',
                      tls: {
                        secure: true,
                        serverName: 'srv',
                        options: { minVersion: 'VersionTLS13', alpn: ['http/1.1'] },
                      },
                      metadata: { path: '/ws', 'mux.version': 2, ttl: 30 },
                    },
                  },
                ],
              },
            ],
          },
        ],
        log: { level: 'debug', format: 'json' },
        metrics: { addr: ':9000', path: '/m' },
        api: { addr: ':18080', accesslog: true, pathPrefix: '/api' },
        tls: { validity: '720h', commonName: 'example' },
      }),
      'json',
      { onIgnoredKey: (path) => ignored.push(path) },
    );
    assert.deepEqual(ignored, ['chains[0].hops[0].nodes[0].dialer.tls.options']);
    const hop = c.chains[0]?.hops[0];
    assert.deepEqual(hop?.selector, { strategy: 'fifo', maxFails: 2, failTimeout: 30_000 });
    assert.deepEqual(hop?.nodes[0]?.connector.auth, { username: 'u', password: 'p' });
    // tls.options is not applied (no TLS version/ALPN control): reported as ignored, not kept.
    assert.deepEqual(hop?.nodes[0]?.dialer.tls, { secure: true, serverName: 'srv' });
    assert.deepEqual(hop?.nodes[0]?.dialer.metadata, { path: '/ws', 'mux.version': 2, ttl: 30 });
    assert.deepEqual(c.log, { level: 'debug', format: 'json' });
    assert.deepEqual(c.metrics, { addr: ':9000', path: '/m' });
    assert.deepEqual(c.api, { addr: ':18080', accessLog: true, pathPrefix: '/api' });
    assert.deepEqual(c.tls, { validity: 720 * 3_600_000, commonName: 'example' });
  });

  it('reads selector.failTimeout as a duration string, seconds, or Go nanoseconds', () => {
    const ft = (v: string): number | undefined =>
      yaml(`chains: [{hops: [{selector: {failTimeout: ${v}}, nodes: [{addr: "a:1"}]}]}]`).chains[0]?.hops[0]
        ?.selector?.failTimeout;
    assert.equal(ft('30s'), 30_000);
    assert.equal(ft('1m30s'), 90_000);
    assert.equal(ft('"15"'), 15_000);
    assert.equal(ft('20'), 20_000);
    assert.equal(ft('30000000000'), 30_000);
    assert.equal(ft('0'), 10_000, 'unset/zero → GOST default 10s');
    const sel = yaml(`chains: [{hops: [{selector: {}, nodes: [{addr: "a:1"}]}]}]`).chains[0]?.hops[0]
      ?.selector;
    assert.deepEqual(sel, { strategy: 'round', maxFails: 1, failTimeout: 10_000 });
  });

  it('treats null and empty values as absent', () => {
    const c = yaml(`
services:
  - addr: :1
    handler:
    metadata: {}
chains:
`);
    assert.deepEqual(c, {
      services: [{ name: 'service-0', addr: ':1', handler: { type: 'auto' }, listener: { type: 'tcp' } }],
      chains: [],
    });
    assert.deepEqual(yaml(''), { services: [], chains: [] });
  });

  it('accepts the GOST keys we do not implement and reports each one', () => {
    const seen: string[] = [];
    const c = parseConfigText(
      `
services:
  - addr: :1
    bypass: b0
    Admission: a0
    handler: {type: http, authers: [x], limiter: l}
    listener: {type: tcp, chainGroup: {chains: [c]}}
bypasses: [{name: b0, matchers: [example.com]}]
limiters: []
profiling: {addr: ":6060"}
chains:
  - hops:
      - bypass: b0
        nodes: [{addr: "a:1", interface: eth0, connector: {type: http, tls: {}}}]
`,
      'yaml',
      { onIgnoredKey: (p) => seen.push(p) },
    );
    assert.equal(c.services.length, 1);
    assert.deepEqual(seen.sort(), [
      'bypasses',
      'chains[0].hops[0].bypass',
      'chains[0].hops[0].nodes[0].connector.tls',
      'chains[0].hops[0].nodes[0].interface',
      'limiters',
      'profiling',
      'services[0].Admission',
      'services[0].bypass',
      'services[0].handler.authers',
      'services[0].handler.limiter',
      'services[0].listener.chainGroup',
    ]);
    assert.ok(IGNORED_KEYS.config.includes('bypasses'));
  });

  it('resolves chain hops that only name a top-level hop', () => {
    const c = yaml(`
hops: [{name: shared, nodes: [{addr: "a:1"}]}]
chains: [{name: c, hops: [{name: shared}]}]
services: [{addr: ":1", handler: {chain: c}}]
`);
    assert.equal(c.chains[0]?.hops[0]?.nodes.length, 0);
    assert.equal(c.hops?.[0]?.name, 'shared');
  });
});

describe('parseConfigText: errors name the offending path', () => {
  const cases: Array<[string, string, string, string]> = [
    [
      'unknown struct key',
      'services: [{addr: ":1", handlr: {type: http}}]',
      'services[0].handlr',
      'unknown key (did you mean "handler"?)',
    ],
    ['unknown top-level key', 'servces: []', 'servces', 'unknown key'],
    [
      'unknown nested key',
      'chains: [{hops: [{nodes: [{addr: "a:1", dialer: {type: mws, metdata: {}}}]}]}]',
      'chains[0].hops[0].nodes[0].dialer.metdata',
      'unknown key',
    ],
    ['wrong type', 'services: [{addr: 8080}]', 'services[0].addr', 'expected a string'],
    ['wrong type keeps user spelling', 'Services: [{ADDR: [1]}]', 'Services[0].ADDR', 'expected a string'],
    ['missing service addr', 'services: [{name: s}]', 'services[0].addr', 'missing required key'],
    ['empty service addr', 'services: [{addr: ""}]', 'services[0].addr', 'must not be empty'],
    [
      'missing node addr',
      'chains: [{hops: [{nodes: [{name: n}]}]}]',
      'chains[0].hops[0].nodes[0].addr',
      'missing required key',
    ],
    ['services not a list', 'services: {addr: ":1"}', 'services', 'expected a list'],
    ['service not a map', 'services: [":8080"]', 'services[0]', 'expected a map'],
    [
      'metadata not a map',
      'services: [{addr: ":1", metadata: [a]}]',
      'services[0].metadata',
      'expected a map',
    ],
    [
      'handler.chain names no chain',
      'services: [{addr: ":1", handler: {chain: nope}}]',
      'services[0].handler.chain',
      'unknown chain "nope"',
    ],
    [
      'listener.chain names no chain',
      'chains: [{name: c}]\nservices: [{addr: ":1", listener: {type: rtcp, chain: x}}]',
      'services[0].listener.chain',
      'unknown chain "x" (defined: c)',
    ],
    [
      'handler.auther names no auther',
      'services: [{addr: ":1", handler: {auther: a}}]',
      'services[0].handler.auther',
      'unknown auther "a"',
    ],
    [
      'duplicate service names',
      'services: [{name: s, addr: ":1"}, {name: s, addr: ":2"}]',
      'services[1].name',
      'duplicate service name "s"',
    ],
    [
      'duplicate explicit name after a defaulted one',
      'services: [{addr: ":1"}, {name: service-0, addr: ":2"}, {addr: ":3"}, {name: service-0, addr: ":4"}]',
      'services[3].name',
      'duplicate service name "service-0"',
    ],
    ['duplicate chain names', 'chains: [{name: c}, {name: c}]', 'chains[1].name', 'duplicate chain name'],
    [
      'duplicate node names in a hop',
      'chains: [{hops: [{nodes: [{name: n, addr: "a:1"}, {name: n, addr: "b:1"}]}]}]',
      'chains[0].hops[0].nodes[1].name',
      'duplicate node name',
    ],
    [
      'hop without nodes and no top-level hop',
      'chains: [{hops: [{name: h}]}]',
      'chains[0].hops[0].nodes',
      'no top-level hop',
    ],
    [
      'duplicate key in different case',
      'services: [{addr: ":1", ADDR: ":2"}]',
      'services[0].ADDR',
      'duplicate key',
    ],
    [
      'bad integer',
      'services: [{addr: ":1", handler: {retries: lots}}]',
      'services[0].handler.retries',
      'expected an integer',
    ],
    [
      'bad boolean',
      'chains: [{hops: [{nodes: [{addr: "a:1", dialer: {tls: {secure: yes}}}]}]}]',
      'chains[0].hops[0].nodes[0].dialer.tls.secure',
      'expected a boolean',
    ],
    [
      'bad duration',
      'chains: [{hops: [{selector: {failTimeout: soon}, nodes: [{addr: "a:1"}]}]}]',
      'chains[0].hops[0].selector.failTimeout',
      'expected a duration',
    ],
    [
      'bad strategy',
      'chains: [{hops: [{selector: {strategy: best}, nodes: [{addr: "a:1"}]}]}]',
      'chains[0].hops[0].selector.strategy',
      'unknown strategy "best"',
    ],
    [
      'auth without username',
      'services: [{addr: ":1", handler: {auth: {password: p}}}]',
      'services[0].handler.auth.username',
      'missing required key',
    ],
    ['metrics without addr', 'metrics: {path: /m}', 'metrics.addr', 'missing required key'],
    ['top level not a map', '- a\n- b', '', 'expected a map'],
  ];
  for (const [name, text, path, fragment] of cases) {
    it(name, () => assertConfigError(() => yaml(text), path, fragment));
  }

  it('reports YAML syntax errors on one line with a position', () => {
    assertConfigError(() => yaml('services: [\n  {addr: ":1"\n'), '', 'invalid YAML');
    assertConfigError(() => yaml('a: 1\na: 2'), '', 'line 2');
  });

  it('reports JSON syntax errors', () => {
    assertConfigError(() => parseConfigText('{"services": [}', 'json'), '', 'invalid JSON');
  });

  it('reports wrong types in JSON with the same paths', () => {
    assertConfigError(
      () => parseConfigText('{"services": [{"addr": ":1", "handler": {"type": 5}}]}', 'json'),
      'services[0].handler.type',
      'expected a string, got number 5',
    );
  });
});

describe('mergeConfigs', () => {
  it('concatenates lists and lets later single objects win', () => {
    const a = yaml('services: [{name: a, addr: ":1"}]\nlog: {level: info}\nmetrics: {addr: ":9"}');
    const b = yaml('services: [{name: b, addr: ":2"}]\nlog: {level: debug}');
    const m = mergeConfigs([a, b]);
    assert.deepEqual(
      m.services.map((s) => s.name),
      ['a', 'b'],
    );
    assert.deepEqual(m.log, { level: 'debug' });
    assert.deepEqual(m.metrics, { addr: ':9' });
    assert.ok(Object.isFrozen(m));
  });

  it('rejects names that clash across sources, and resolves references across them', () => {
    const a = yaml('services: [{addr: ":1"}]');
    assertConfigError(() => mergeConfigs([a, a]), 'services[1].name', 'duplicate service name "service-0"');
    const chains = yaml('chains: [{name: c, hops: [{nodes: [{addr: "a:1"}]}]}]');
    const svc = decodeConfig({
      services: [{ name: 'x', addr: ':1', handler: { chain: 'c' } }],
      chains: [{ name: 'c' }],
    });
    assert.equal(mergeConfigs([svc]).services.length, 1);
    assertConfigError(() => mergeConfigs([svc, chains]), 'chains[1].name', 'duplicate chain name "c"');
  });
});

describe('toYaml / toJson (-O)', () => {
  it('prints the GOST shape and reads back to an equal config', () => {
    const c = yaml(SEED_CLIENT);
    const text = toYaml(c);
    assert.match(text, /^services:\n/);
    assert.match(text, /type: mws/);
    assert.deepEqual(yaml(text), c);
    assert.deepEqual(parseConfigText(toJson(c), 'json'), c);
  });

  it('prints durations as Go durations and api.accesslog in GOST spelling', () => {
    const c = yaml(`
chains: [{name: c, hops: [{selector: {strategy: fifo, failTimeout: 90}, nodes: [{addr: "a:1"}]}]}]
api: {addr: ":1", accessLog: true}
`);
    const n = normaliseConfig(c);
    assert.deepEqual((n['chains'] as Array<{ hops: Array<{ selector: unknown }> }>)[0]?.hops[0]?.selector, {
      strategy: 'fifo',
      maxFails: 1,
      failTimeout: '1m30s',
    });
    assert.deepEqual(n['api'], { addr: ':1', accesslog: true });
    assert.deepEqual(yaml(toYaml(c)), c);
  });

  it('round-trips configs built from command-line URLs (property)', () => {
    const handler = fc.constantFrom('http', 'socks5', 'auto', 'relay', 'tcp');
    const listener = fc.constantFrom('tcp', 'mws', 'mwss', 'tls');
    const port = fc.integer({ min: 1, max: 65535 });
    const key = fc.constantFrom(
      'path',
      'mux.version',
      'keepalive',
      'ttl',
      'header',
      'handler.x',
      'listener.y',
      'service.z',
    );
    const value = fc.stringMatching(/^[A-Za-z0-9/._:-]{0,10}$/);
    const query = fc.array(fc.tuple(key, value), { maxLength: 5 });
    fc.assert(
      fc.property(handler, listener, port, query, fc.boolean(), (h, l, p, q, withChain) => {
        const qs = q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
        const services = serviceFromUrl(`${h}+${l}://u:p@:${p}?${qs}&certFile=c.pem`, 0);
        const hop = nodesFromUrl(
          `http+${l === 'tls' ? 'tcp' : l}://a:1,b:2?${qs}&strategy=rr&secure=true`,
          0,
        );
        const cfg = decodeConfig(
          normaliseConfig({
            services: withChain
              ? services.map((s) => ({ ...s, handler: { ...s.handler, chain: 'chain-0' } }))
              : services,
            chains: [{ name: 'chain-0', hops: [hop] }],
          }),
        );
        assert.deepEqual(yaml(toYaml(cfg)), cfg);
        assert.deepEqual(parseConfigText(toJson(cfg), 'json'), cfg);
      }),
      { numRuns: 200 },
    );
  });
});

describe('loadConfigSource', () => {
  let dir = '';
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads .yaml, .yml and .json files by extension, and inline JSON', async () => {
    dir = await mkdtemp(join(tmpdir(), 'gost-ts-config-'));
    await writeFile(join(dir, 'a.yaml'), SEED_SERVER);
    await writeFile(join(dir, 'b.YML'), SEED_SERVER);
    await writeFile(join(dir, 'c.json'), JSON.stringify({ services: [{ addr: ':1' }] }));
    const expected = yaml(SEED_SERVER);
    assert.deepEqual(await loadConfigSource(join(dir, 'a.yaml')), expected);
    assert.deepEqual(await loadConfigSource(join(dir, 'b.YML')), expected);
    assert.equal((await loadConfigSource(join(dir, 'c.json'))).services[0]?.addr, ':1');
    const inline = await loadConfigSource(' {"services": [{"addr": ":2", "handler": {"type": "http"}}]} ');
    assert.equal(inline.services[0]?.handler.type, 'http');
  });

  it('names the source in errors', async () => {
    dir ||= await mkdtemp(join(tmpdir(), 'gost-ts-config-'));
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'services: [{addr: ":1", handlr: {}}]');
    await assert.rejects(loadConfigSource(bad), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.path, 'services[0].handlr');
      assert.equal(err.message, `services[0].handlr: unknown key (did you mean "handler"?) (in ${bad})`);
      return true;
    });
    await assert.rejects(
      loadConfigSource('{"services": 1}'),
      /services: expected a list, got number 1 \(in inline JSON\)/,
    );
    await assert.rejects(loadConfigSource(join(dir, 'missing.yaml')), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /cannot read config file .*missing\.yaml: ENOENT/);
      return true;
    });
    await assert.rejects(loadConfigSource(join(dir, 'conf.txt')), /unsupported extension "\.txt"/);
  });
});
