// Metadata parsing of the mws dialer and listener: every key in both spellings (GOST's dotted key and
// the seed document's), GOST's first-present-wins rule, and ConfigErrors for invalid combinations
// (facts §9). The wire effect of each key is tested in ws-dialer, ws-listener and mux.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata } from '../../src/core/metadata.js';
import { ConfigError } from '../../src/core/errors.js';
import { parseMwsDialerMetadata, type MwsDialerMetadata } from '../../src/dialer/mws/metadata.js';
import { parseMwsListenerMetadata, type MwsListenerMetadata } from '../../src/listener/mws/metadata.js';
import { DEFAULT_SMUX_CONFIG } from '../../src/mux/smux/config.js';

const dialer = (md: Record<string, unknown>): MwsDialerMetadata => parseMwsDialerMetadata(new Metadata(md));
const listener = (md: Record<string, unknown>): MwsListenerMetadata =>
  parseMwsListenerMetadata(new Metadata(md));

type Side = 'dialer' | 'listener';
const parse = (side: Side, md: Record<string, unknown>): MwsDialerMetadata | MwsListenerMetadata =>
  side === 'dialer' ? dialer(md) : listener(md);

/** [keys in GOST's precedence order, value A, value B, read-back] */
const wsKeys: [
  string[],
  unknown,
  unknown,
  (m: MwsDialerMetadata | MwsListenerMetadata) => unknown,
  unknown,
  unknown,
][] = [
  [['ws.path', 'path'], '/a', '/b', (m) => m.ws.path, '/a', '/b'],
  [['ws.header', 'header'], { a: '1' }, { b: '2' }, (m) => m.ws.header, { a: '1' }, { b: '2' }],
  [['ws.handshakeTimeout', 'handshakeTimeout'], '2s', '3s', (m) => m.ws.handshakeTimeout, 2000, 3000],
  [['ws.readHeaderTimeout', 'readHeaderTimeout'], '2s', '3s', (m) => m.ws.readHeaderTimeout, 2000, 3000],
  [['ws.readBufferSize', 'readBufferSize'], 111, 222, (m) => m.ws.readBufferSize, 111, 222],
  [['ws.writeBufferSize', 'writeBufferSize'], 111, 222, (m) => m.ws.writeBufferSize, 111, 222],
  [['ws.enableCompression', 'enableCompression'], true, false, (m) => m.ws.enableCompression, true, false],
];

const muxKeys: [string, string, unknown, unknown, keyof typeof DEFAULT_SMUX_CONFIG, unknown, unknown][] = [
  ['mux.keepaliveDisabled', 'muxKeepAliveDisabled', true, false, 'keepAliveDisabled', true, false],
  ['mux.keepaliveInterval', 'muxKeepAliveInterval', '2s', '3s', 'keepAliveInterval', 2000, 3000],
  ['mux.keepaliveTimeout', 'muxKeepAliveTimeout', '40s', '50s', 'keepAliveTimeout', 40_000, 50_000],
  ['mux.maxFrameSize', 'muxMaxFrameSize', 1000, 2000, 'maxFrameSize', 1000, 2000],
  ['mux.maxReceiveBuffer', 'muxMaxReceiveBuffer', 100_000, 200_000, 'maxReceiveBuffer', 100_000, 200_000],
  ['mux.maxStreamBuffer', 'muxMaxStreamBuffer', 10_000, 20_000, 'maxStreamBuffer', 10_000, 20_000],
];

/** Keys that mean something on one side only (README "mws / mwss options", `where`). */
const oneSided: Record<string, Side> = { 'ws.readHeaderTimeout': 'listener', 'ws.writeBufferSize': 'dialer' };

for (const side of ['dialer', 'listener'] as const) {
  for (const [keys, a, b, get, ra, rb] of wsKeys) {
    const [first, second] = keys as [string, string];
    const only = oneSided[first];
    if (only !== undefined && only !== side) {
      test(`${side}: ${first} / ${second} mean nothing here: left unread (the builder warns)`, () => {
        const md = new Metadata({ [first]: a, [second]: b });
        if (side === 'dialer') parseMwsDialerMetadata(md);
        else parseMwsListenerMetadata(md);
        assert.deepEqual(md.unusedKeys().sort(), [first, second].sort());
      });
      continue;
    }
    test(`${side}: ${first} / ${second} both work, ${first} wins`, () => {
      assert.deepEqual(get(parse(side, { [first]: a })), ra);
      assert.deepEqual(get(parse(side, { [second]: b })), rb);
      assert.deepEqual(get(parse(side, { [second]: b, [first]: a })), ra);
      // Keys are case-insensitive.
      assert.deepEqual(get(parse(side, { [second.toUpperCase()]: b })), rb);
    });
  }

  for (const [dotted, seed, a, b, field, ra, rb] of muxKeys) {
    test(`${side}: ${dotted} and seed ${seed} both work; the dotted key wins`, () => {
      assert.equal(parse(side, { [dotted]: a }).mux[field], ra);
      assert.equal(parse(side, { [seed]: b }).mux[field], rb);
      assert.equal(parse(side, { [seed]: b, [dotted]: a }).mux[field], ra);
      assert.equal(parse(side, {}).mux[field], DEFAULT_SMUX_CONFIG[field]);
    });
  }

  test(`${side}: the first key present wins even when its value is empty (then the default)`, () => {
    assert.equal(parse(side, { 'mux.maxFrameSize': '', muxMaxFrameSize: 2000 }).mux.maxFrameSize, 32_768);
    assert.equal(parse(side, { 'ws.path': '', path: '/b' }).ws.path, '/ws');
  });

  test(`${side}: mux.version 1 (default) and 2`, () => {
    assert.equal(parse(side, {}).mux.version, 1);
    assert.equal(parse(side, { 'mux.version': 2 }).mux.version, 2);
    assert.equal(parse(side, { 'mux.version': '2' }).mux.version, 2);
  });

  const invalid: [string, Record<string, unknown>, RegExp][] = [
    [
      'maxStreamBuffer > maxReceiveBuffer',
      { 'mux.maxStreamBuffer': 200_000, 'mux.maxReceiveBuffer': 100_000 },
      /maxStreamBuffer/i,
    ],
    [
      'maxStreamBuffer > maxReceiveBuffer (seed spelling)',
      { muxMaxStreamBuffer: 200_000, muxMaxReceiveBuffer: 100_000 },
      /maxStreamBuffer/i,
    ],
    ['maxFrameSize > 65535', { 'mux.maxFrameSize': 65_536 }, /maxFrameSize/i],
    ['mux.version 3', { 'mux.version': 3 }, /mux\.version/],
    [
      'keepaliveTimeout < keepaliveInterval',
      { 'mux.keepaliveInterval': '10s', 'mux.keepaliveTimeout': '5s' },
      /keepaliveTimeout|keepaliveInterval/i,
    ],
    ['mux.type yamux', { 'mux.type': 'yamux' }, /mux\.type/],
  ];
  for (const [label, md, names] of invalid) {
    test(`${side}: ${label} → ConfigError naming the key, at parse time`, () => {
      assert.throws(
        () => parse(side, md),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError, `ConfigError expected, got ${String(err)}`);
          assert.match(`${err.path} ${err.message}`, names);
          return true;
        },
      );
    });
  }

  test(`${side}: an ill-typed value is a ConfigError naming the key`, () => {
    assert.throws(
      () => parse(side, { 'mux.maxFrameSize': 'big' }),
      (err: unknown) => err instanceof ConfigError && /mux\.maxFrameSize/.test(err.path),
    );
    assert.throws(
      () => parse(side, { handshakeTimeout: 'soon' }),
      (err: unknown) => err instanceof ConfigError && /handshakeTimeout/.test(err.path),
    );
  });
}

test('dialer: ws.host / host, ws.host wins; unset → undefined (node address)', () => {
  assert.equal(dialer({ host: 'b.example' }).host, 'b.example');
  assert.equal(dialer({ 'ws.host': 'a.example' }).host, 'a.example');
  assert.equal(dialer({ host: 'b.example', 'ws.host': 'a.example' }).host, 'a.example');
  assert.equal(dialer({}).host, undefined);
});

test('dialer ping interval: seed duration form, GOST bool + ttl / keepalive.interval, off by default', () => {
  assert.equal(dialer({}).pingInterval, 0);
  assert.equal(dialer({ keepAlive: '30s' }).pingInterval, 30_000);
  assert.equal(dialer({ keepAlive: '1s' }).pingInterval, 1000);
  assert.equal(dialer({ keepalive: true }).pingInterval, 15_000);
  assert.equal(dialer({ keepalive: 'true', ttl: '2s' }).pingInterval, 2000);
  assert.equal(dialer({ keepalive: 'true', 'keepalive.interval': '3s' }).pingInterval, 3000);
  assert.equal(dialer({ keepalive: 'true', ttl: '2s', 'keepalive.interval': '3s' }).pingInterval, 2000);
  assert.equal(dialer({ 'ws.keepalive': true, ttl: '4s' }).pingInterval, 4000);
  assert.equal(dialer({ keepalive: false, ttl: '2s' }).pingInterval, 0);
  assert.equal(dialer({ ttl: '2s' }).pingInterval, 0, 'ttl alone does not enable pings');
});

test('listener: backlog / ws.backlog (default 128), TCP keepalive', () => {
  assert.equal(listener({}).backlog, 128);
  assert.equal(listener({ backlog: 7 }).backlog, 7);
  assert.equal(listener({ 'ws.backlog': 9, backlog: 7 }).backlog, 9);
  assert.equal(listener({}).keepAlive, false);
  assert.equal(listener({ keepalive: true, 'keepalive.idle': '20s' }).keepAlive, true);
  assert.equal(listener({ keepalive: true, 'keepalive.idle': '20s' }).keepAliveIdle, 20_000);
});
