import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { buildConfigFromArgs, helpText, parseArgs } from '../../src/cli/args.js';
import { toYaml } from '../../src/config/load.js';
import { createBuiltinRegistries } from '../../src/registry/builtins.js';

function assertFlagError(argv: string[], fragment: string): void {
  assert.throws(
    () => parseArgs(argv),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.ok(err.message.includes(fragment), `"${err.message}" includes "${fragment}"`);
      assert.ok(!err.message.includes('\n'));
      return true;
    },
  );
}

describe('parseArgs', () => {
  it('reads -L x, -L=x and --L x, repeatable and in order', () => {
    const a = parseArgs([
      '-L',
      ':8080',
      '-L=socks5://:1080',
      '--L',
      'http://:8081',
      '--F=mws://a:1',
      '-F',
      'mws://b:2',
    ]);
    assert.deepEqual(a.services, [':8080', 'socks5://:1080', 'http://:8081']);
    assert.deepEqual(a.nodes, ['mws://a:1', 'mws://b:2']);
    assert.deepEqual(a.configs, []);
    assert.equal(a.version, false);
    assert.equal(a.help, false);
    assert.equal(a.output, undefined);
    assert.equal(a.logLevel, undefined);
  });

  it('takes the next argument as a value even when it starts with "-" (-C - = stdin)', () => {
    assert.deepEqual(parseArgs(['-C', '-', '-C', 'gost.yaml', '-C={"services":[]}']).configs, [
      '-',
      'gost.yaml',
      '{"services":[]}',
    ]);
  });

  it('reads -O, -D, -DD, -V, --version, -h, --help, -metrics, -api', () => {
    assert.equal(parseArgs(['-O', 'yaml']).output, 'yaml');
    assert.equal(parseArgs(['-O=json']).output, 'json');
    assert.equal(parseArgs(['-D']).logLevel, 'debug');
    assert.equal(parseArgs(['-DD']).logLevel, 'trace');
    assert.equal(parseArgs(['-D', '-DD']).logLevel, 'trace');
    assert.equal(parseArgs(['-D=false']).logLevel, undefined);
    assert.equal(parseArgs(['-V']).version, true);
    assert.equal(parseArgs(['--version']).version, true);
    assert.equal(parseArgs(['-h']).help, true);
    assert.equal(parseArgs(['--help']).help, true);
    assert.equal(parseArgs(['-help']).help, true);
    const a = parseArgs(['-metrics', ':9000', '--api=:18080']);
    assert.equal(a.metricsAddr, ':9000');
    assert.equal(a.apiAddr, ':18080');
  });

  it('rejects unknown flags, missing values and stray arguments with one-line ConfigErrors', () => {
    assertFlagError(['-X'], '-X: unknown flag');
    assertFlagError(['-l', ':1'], '-l: unknown flag');
    assertFlagError(['-L'], '-L: flag needs an argument');
    assertFlagError(['-metrics'], '-metrics: flag needs an argument');
    assertFlagError(['-O', 'xml'], 'unknown output format "xml"');
    assertFlagError(['-D=maybe'], 'invalid boolean');
    assertFlagError([':8080'], 'unexpected argument ":8080"');
    assertFlagError(['-L', ':1', '--', '-L', ':2'], 'not supported');
    assertFlagError(['---L', 'x'], 'bad flag syntax');
  });
});

describe('buildConfigFromArgs', () => {
  it('spec client: -L :8080 -F http+mws://SERVER:8443?path=/ws', async () => {
    const c = await buildConfigFromArgs(parseArgs(['-L', ':8080', '-F', 'http+mws://SERVER:8443?path=/ws']));
    assert.deepEqual(c, {
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
                  addr: 'SERVER:8443',
                  connector: { type: 'http', metadata: { path: '/ws' } },
                  dialer: { type: 'mws', metadata: { path: '/ws' } },
                  metadata: { path: '/ws' },
                },
              ],
              metadata: { path: '/ws' },
            },
          ],
        },
      ],
    });
    assert.ok(Object.isFrozen(c.services[0]?.handler));
  });

  it('spec server: -L http+mws://:8443?path=/ws has no chain', async () => {
    const c = await buildConfigFromArgs(parseArgs(['-L', 'http+mws://:8443?path=/ws']));
    assert.deepEqual(c.chains, []);
    assert.equal(c.services[0]?.handler.chain, undefined);
    assert.equal(c.services[0]?.listener.type, 'mws');
  });

  it('each -F is one hop in order; names services across all -L (port ranges included)', async () => {
    const c = await buildConfigFromArgs(
      parseArgs(['-L', ':8000-8001', '-L', 'socks5://:1080', '-F', 'mws://a:1', '-F', 'socks5://b:2']),
    );
    assert.deepEqual(
      c.services.map((s) => [s.name, s.addr, s.handler.chain]),
      [
        ['service-0', ':8000', 'chain-0'],
        ['service-1', ':8001', 'chain-0'],
        ['service-2', ':1080', 'chain-0'],
      ],
    );
    assert.deepEqual(
      c.chains[0]?.hops.map((h) => [h.name, h.nodes[0]?.addr, h.nodes[0]?.connector.type]),
      [
        ['hop-0', 'a:1', 'http'],
        ['hop-1', 'b:2', 'socks5'],
      ],
    );
  });

  it('an rtcp listener gets the chain on the listener, as GOST does', async () => {
    const c = await buildConfigFromArgs(
      parseArgs(['-L', 'rtcp://:2222/10.0.0.1:22', '-F', 'mws://srv:8443']),
    );
    assert.equal(c.services[0]?.listener.chain, 'chain-0');
    assert.equal(c.services[0]?.handler.chain, undefined);
  });

  it('merges -C sources before the -L/-F part; -D/-DD override log.level only', async () => {
    const inline = JSON.stringify({
      services: [{ name: 'from-file', addr: ':9999', handler: { type: 'http' } }],
      log: { level: 'info', format: 'json' },
    });
    const c = await buildConfigFromArgs(parseArgs(['-C', inline, '-L', ':8080', '-DD']));
    assert.deepEqual(
      c.services.map((s) => s.name),
      ['from-file', 'service-0'],
    );
    assert.deepEqual(c.log, { level: 'trace', format: 'json' });
  });

  it('default names continue across -C sources and -L/-F (no clash on service-0 / chain-0)', async () => {
    const a = JSON.stringify({
      services: [{ addr: ':9997' }],
      chains: [{ hops: [{ nodes: [{ addr: 'a:1' }] }] }],
    });
    const b = JSON.stringify({ services: [{ addr: ':9998' }, { name: 'service-2', addr: ':9999' }] });
    const c = await buildConfigFromArgs(parseArgs(['-C', a, '-C', b, '-L', ':8080', '-F', 'mws://s:1']));
    assert.deepEqual(
      c.services.map((s) => [s.name, s.addr, s.handler.chain]),
      [
        ['service-0', ':9997', undefined],
        ['service-1', ':9998', undefined],
        ['service-2', ':9999', undefined],
        ['service-3', ':8080', 'chain-1'],
      ],
    );
    assert.deepEqual(
      c.chains.map((ch) => ch.name),
      ['chain-0', 'chain-1'],
    );
  });

  it('checks -C sources as one config: a service may use a chain from another source', async () => {
    const chains = JSON.stringify({ chains: [{ name: 'c1', hops: [{ nodes: [{ addr: 'a:1' }] }] }] });
    const services = JSON.stringify({
      services: [{ addr: ':9999', handler: { type: 'http', chain: 'c1' } }],
    });
    const c = await buildConfigFromArgs(parseArgs(['-C', chains, '-C', services]));
    assert.equal(c.services[0]?.handler.chain, 'c1');
    await assert.rejects(
      buildConfigFromArgs(parseArgs(['-C', services])),
      /services\[0\]\.handler\.chain: unknown chain "c1"/,
    );
    const named = JSON.stringify({ services: [{ name: 'service-0', addr: ':1' }] });
    await assert.rejects(
      buildConfigFromArgs(parseArgs(['-C', named, '-C', named])),
      /services\[1\]\.name: duplicate service name "service-0"/,
    );
  });

  it('warns about a scheme part no GOST registry knows, and falls back as GOST does', async () => {
    const warnings: string[] = [];
    const c = await buildConfigFromArgs(parseArgs(['-L', 'http+mwz://:9999', '-F', 'mws://a:1']), {
      onWarning: (message) => warnings.push(message),
    });
    assert.equal(c.services[0]?.listener.type, 'tcp');
    assert.equal(c.services[0]?.handler.type, 'http');
    assert.deepEqual(warnings, ['unknown listener type "mwz"; using "tcp" as GOST does']);
  });

  it('keeps a type GOST knows and gost-ts does not (the builder names it), silently', async () => {
    const warnings: string[] = [];
    const c = await buildConfigFromArgs(parseArgs(['-L', 'ss+wt://:9999']), {
      onWarning: (message) => warnings.push(message),
    });
    assert.equal(c.services[0]?.handler.type, 'ss');
    assert.equal(c.services[0]?.listener.type, 'wt');
    assert.deepEqual(warnings, []);
  });

  it('reads -metrics and -api addresses as GOST does', async () => {
    const c = await buildConfigFromArgs(
      parseArgs(['-metrics', ':9000?path=/m', '-api', 'u:p@:18080?pathPrefix=/api']),
    );
    assert.deepEqual(c.metrics, { addr: ':9000', path: '/m' });
    assert.deepEqual(c.api, { addr: ':18080', pathPrefix: '/api', auth: { username: 'u', password: 'p' } });
  });

  it('surfaces URL errors as ConfigError naming the URL', async () => {
    await assert.rejects(buildConfigFromArgs(parseArgs(['-L', 'http://:99999'])), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, '-L "http://:99999": port 99999 out of range (0-65535)');
      return true;
    });
    await assert.rejects(
      buildConfigFromArgs(parseArgs(['-L', ':1', '-F', 'http://'])),
      /-F "http:\/\/": missing node address/,
    );
  });

  it('-O yaml output matches the facts §1 description', async () => {
    const text = toYaml(
      await buildConfigFromArgs(parseArgs(['-L', ':8080', '-F', 'http+mws://:8443?path=/ws'])),
    );
    assert.match(text, /name: service-0\n\s+addr: :8080\n\s+handler:\n\s+type: auto\n\s+chain: chain-0/);
    assert.match(text, /addr: :8443\n\s+connector:\n\s+type: http/);
  });
});

describe('helpText', () => {
  const text = helpText();

  it('lists every flag', () => {
    for (const flag of [
      '-L',
      '-F',
      '-C',
      '-O',
      '-D',
      '-DD',
      '-metrics',
      '-api',
      '-V',
      '--version',
      '-h',
      '--help',
    ]) {
      assert.ok(text.includes(`  ${flag}`) || text.includes(`, ${flag}`), flag);
    }
  });

  it('lists the URL grammar and every mws/mwss, TLS and selector parameter', () => {
    assert.ok(text.includes('[scheme://][user:pass@]host[:port][/targets][?key=value&...]'));
    // Written out by hand, so a key dropped from the option table fails here.
    const keys = [
      'path | ws.path',
      'host | ws.host',
      'header | ws.header',
      'keepAlive | ws.keepalive | keepalive',
      'ttl | keepalive.interval',
      'handshakeTimeout | ws.handshakeTimeout',
      'readHeaderTimeout | ws.readHeaderTimeout [-L]',
      'readBufferSize | ws.readBufferSize',
      'writeBufferSize | ws.writeBufferSize [-F]',
      'enableCompression | ws.enableCompression',
      'backlog | ws.backlog [-L]',
      'mux.type',
      'mux.version',
      'muxKeepAliveDisabled | mux.keepaliveDisabled',
      'muxKeepAliveInterval | mux.keepaliveInterval',
      'muxKeepAliveTimeout | mux.keepaliveTimeout',
      'muxMaxFrameSize | mux.maxFrameSize',
      'muxMaxReceiveBuffer | mux.maxReceiveBuffer',
      'muxMaxStreamBuffer | mux.maxStreamBuffer',
      'mux.maxStreamWindow',
      'tcp.keepalive',
      'proxyProtocol',
      'certFile | tls.certFile | cert',
      'keyFile | tls.keyFile | key',
      'caFile | tls.caFile | ca',
      'secure | tls.secure [-F]',
      'serverName | tls.serverName [-F]',
      'strategy',
      'maxFails | max_fails',
      'failTimeout | fail_timeout',
    ];
    for (const k of keys) assert.ok(text.includes(k), k);
    // Only strategies the builder accepts are offered.
    assert.match(text, /Strategies: round, rr, random, rand, fifo, ha, hash\./);
    assert.ok(!text.includes('parallel') && !text.includes('lowestlatency'));
    // Type lists are what the registries hold: nothing GOST-only (ss, kcp, ...).
    const handlers = /handlers: +(.*)\n/.exec(text)?.[1]?.split(' ') ?? [];
    assert.deepEqual(handlers, createBuiltinRegistries().handlers.names());
    assert.ok(handlers.includes('auto') && !handlers.includes('ss'));
  });

  it('describes read-ahead and fragment sizes as the code applies them', () => {
    assert.match(text, /readBufferSize \| ws\.readBufferSize +\(default 65536\)/);
    assert.match(text, /writeBufferSize \| ws\.writeBufferSize \[-F\] +\(default whole messages\)/);
  });

  it('every example URL in the help parses', async () => {
    const lines = text.split('\n');
    const urls: Array<['-L' | '-F', string]> = [];
    for (const line of lines) {
      for (const m of line.matchAll(/(-L|-F) "?([^"\s]+)"?/g)) {
        if (m[2]?.includes(':')) urls.push([m[1] as '-L' | '-F', m[2]]);
      }
    }
    assert.ok(urls.length >= 10, `found ${urls.length} examples`);
    for (const [flag, url] of urls) {
      const argv = flag === '-L' ? ['-L', url] : ['-L', ':1', '-F', url];
      await buildConfigFromArgs(parseArgs(argv));
    }
  });
});
