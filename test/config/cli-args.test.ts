import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { buildConfigFromArgs, helpText, parseArgs } from '../../src/cli/args.js';
import { toYaml } from '../../src/config/load.js';

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

  it('rejects a -C service whose name clashes with a -L one', async () => {
    const inline = JSON.stringify({ services: [{ addr: ':9999' }] });
    await assert.rejects(
      buildConfigFromArgs(parseArgs(['-C', inline, '-L', ':8080'])),
      /services\[1\]\.name: duplicate service name "service-0"/,
    );
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
    const keys = [
      'ws.path | path',
      'ws.host | host',
      'ws.header | header',
      'keepAlive=',
      'ws.keepalive | keepalive',
      'ttl | keepalive.interval',
      'ws.handshakeTimeout | handshakeTimeout',
      'ws.readHeaderTimeout | readHeaderTimeout',
      'ws.readBufferSize | readBufferSize',
      'ws.writeBufferSize | writeBufferSize',
      'ws.enableCompression | enableCompression',
      'ws.backlog | backlog',
      'mux.type',
      'mux.version',
      'mux.keepaliveDisabled | muxKeepAliveDisabled',
      'mux.keepaliveInterval | muxKeepAliveInterval',
      'mux.keepaliveTimeout | muxKeepAliveTimeout',
      'mux.maxFrameSize | muxMaxFrameSize',
      'mux.maxReceiveBuffer | muxMaxReceiveBuffer',
      'mux.maxStreamBuffer | muxMaxStreamBuffer',
      'mux.maxStreamWindow',
      'tcp.keepalive',
      'certFile | cert | tls.certFile',
      'keyFile | key | tls.keyFile',
      'caFile | ca | tls.caFile',
      'secure | tls.secure',
      'serverName | tls.serverName',
      'strategy',
      'maxFails | max_fails',
      'failTimeout | fail_timeout',
    ];
    for (const k of keys) assert.ok(text.includes(k), k);
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
