// The option table (src/config/keys.ts) is what the plugins read: every applied option's example,
// given on the side the table names, builds without a word; given on the other side it is ignored
// with a warning naming where it applies; an ignored GOST key is warned about; anything else fails.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfigFromArgs, parseArgs } from '../../src/config/cmdline.js';
import { buildRuntime } from '../../src/config/build.js';
import { allOptions, type OptionSpec } from '../../src/config/keys.js';
import { silentLogger, type Logger } from '../../src/core/logger.js';
import { ConfigError } from '../../src/core/errors.js';
import { makeTestPki } from '../tls/pki.js';

const pki = await makeTestPki();
after(() => pki.cleanup());

/** Builds a command line (nothing listens) and returns every warning, config's and builder's. */
async function warningsOf(argv: string[]): Promise<string[]> {
  const warnings: string[] = [];
  const log: Logger = {
    ...silentLogger,
    warn: (fields: unknown, message?: unknown) =>
      warnings.push(`${String(message ?? fields)} ${JSON.stringify(fields)}`),
    child: () => log,
  };
  const config = await buildConfigFromArgs(parseArgs(argv), {
    onWarning: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
  });
  await buildRuntime(config, { log });
  return warnings;
}

const LISTEN = new Set(['handler', 'listener', 'service']);

/** A command line that puts `query` where `o` applies, on a plugin type that reads it. */
function argvFor(o: OptionSpec, query: string, side: 'L' | 'F'): string[] {
  const type = (o.types ?? '').split(' ')[0] ?? '';
  if (side === 'L') {
    // A reverse tunnel needs its target and a chain.
    if (type === 'rtcp') return ['-L', `rtcp://127.0.0.1:0/127.0.0.1:1${query}`, '-F', 'relay://127.0.0.1:1'];
    const scheme = o.where.includes('handler') && type !== '' ? `${type}+mws` : `http+${type || 'tcp'}`;
    // A selector needs forward targets on -L.
    const targets = o.group === 'selector' ? '/127.0.0.1:1,127.0.0.1:2' : '';
    return ['-L', `${scheme}://127.0.0.1:0${targets}${query}`];
  }
  const scheme = o.where.includes('connector') && type !== '' ? `${type}+tcp` : `http+${type || 'tcp'}`;
  return ['-L', '127.0.0.1:0', '-F', `${scheme}://127.0.0.1:1,127.0.0.1:2${query}`];
}

/** Example values naming files get real ones. */
const withFiles = (query: string): string =>
  query
    .replace('cert.pem', pki.files.serverCert)
    .replace('key.pem', pki.files.serverKey)
    .replace('ca.pem', pki.files.caCert);

describe('the option table', () => {
  for (const [id, o] of allOptions()) {
    if (o.status !== 'applied' || o.example === undefined) continue;
    const sides = [
      ...(o.where.some((w) => LISTEN.has(w)) ? (['L'] as const) : []),
      ...(o.where.some((w) => !LISTEN.has(w)) ? (['F'] as const) : []),
    ];
    for (const side of sides) {
      it(`${id}: ${o.example} on -${side} is read, without a warning`, async () => {
        let query = withFiles(o.example ?? '');
        // A certificate needs its key (and the reverse) on a listener.
        if (id === 'tls.certFile') query += `&keyFile=${pki.files.serverKey}`;
        if (id === 'tls.keyFile') query += `&certFile=${pki.files.serverCert}`;
        const warnings = await warningsOf(argvFor(o, query, side));
        // An unverified TLS dialer is always warned about (GOST's default); that is not about the option.
        assert.deepEqual(
          warnings.filter((w) => !w.startsWith('tls: server certificate not verified')),
          [],
        );
      });
    }
  }

  it('an option on the side where it means nothing is ignored with a warning naming where it applies', async () => {
    const f = await warningsOf(['-L', '127.0.0.1:0', '-F', 'mws://127.0.0.1:1?readHeaderTimeout=5s']);
    assert.equal(f.length, 1, f.join('\n'));
    assert.match(f[0] ?? '', /option "readHeaderTimeout" means nothing to connector "http" \/ dialer "mws"/);
    assert.match(f[0] ?? '', /"appliesTo":"listener \(mws mwss ws wss\)"/);
    const l = await warningsOf(['-L', 'mws://127.0.0.1:0?writeBufferSize=4096']);
    assert.equal(l.length, 1, l.join('\n'));
    assert.match(l[0] ?? '', /option "writeBufferSize" means nothing to handler "auto" \/ listener "mws"/);
  });

  it('a GOST option gost-ts does not implement is warned about by name', async () => {
    const w = await warningsOf(['-L', '127.0.0.1:0', '-F', 'mws://127.0.0.1:1?tcp.keepalive=true']);
    assert.equal(w.length, 1, w.join('\n'));
    assert.match(w[0] ?? '', /GOST option not supported by gost-ts; ignored .*"key":"tcp\.keepalive"/);
    const bypass = await warningsOf(['-L', 'http://127.0.0.1:0?bypass=10.0.0.0/8']);
    assert.match(bypass.join('\n'), /not supported.*"key":"bypass"/);
  });

  it("the builder's held lines are written once the config built (unverified TLS dialer)", async () => {
    const w = await warningsOf(['-L', '127.0.0.1:0', '-F', 'mwss://127.0.0.1:1']);
    assert.equal(w.length, 1, w.join('\n'));
    assert.match(w[0] ?? '', /^tls: server certificate not verified/);
  });

  it('an option nobody knows is an error naming it', async () => {
    await assert.rejects(warningsOf(['-L', 'mws://127.0.0.1:0?pth=/ws']), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /pth: unknown option for handler "auto" \/ listener "mws"/);
      return true;
    });
  });

  it('a negative duration is an error (keepAlive=-1s would otherwise turn pings off silently)', async () => {
    await assert.rejects(
      warningsOf(['-L', '127.0.0.1:0', '-F', 'mws://127.0.0.1:1?keepAlive=-1s']),
      /dialer\.metadata\.keepAlive: expected a duration of 0 or more, got "-1s"/,
    );
    await assert.rejects(
      warningsOf(['-L', 'mws://127.0.0.1:0?handshakeTimeout=-5s']),
      /handshakeTimeout: expected a duration of 0 or more/,
    );
  });

  it('?header=X-A:1;X-B:2, as the README writes it, gives two headers', async () => {
    const c = await buildConfigFromArgs(parseArgs(['-L', 'mws://127.0.0.1:0?header=X-A:1;X-B:2']));
    assert.equal(c.services[0]?.listener.metadata?.['header'], 'X-A:1;X-B:2');
    await assert.rejects(
      buildConfigFromArgs(parseArgs(['-L', 'mws://127.0.0.1:0?path=/ws;x=1'])),
      /";" in query "path=\/ws;x=1"/,
    );
  });
});
