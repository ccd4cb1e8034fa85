/**
 * Every command the README shows runs here. Commands are extracted from the README (every line of a
 * ```sh block, and inline code that starts with gost-ts, npm, npx, node, curl or bash) and each must
 * have an entry in `HOW`, which says how it is exercised:
 *
 *   - `scenario`: gost-ts and curl commands run for real, in a named scenario (servers first), with
 *     the README's ports and host names swapped for free loopback ports (`localize`), curl fetching
 *     from local origins; the data that comes back is checked.
 *   - `cli`: `node dist/cli/main.js ARGS` runs and its output is checked (`npm run demo` = setup +
 *     `demo`).
 *   - `script`: an npm script the suite cannot run from inside itself (`npm test`, `npm run bench`,
 *     which the brief forbids here): the script must exist and run what the README says it runs.
 *   - `bin`: package installation commands (`npm install -g .`, `npx gost-ts`): the package's bin
 *     entry must be the built CLI, executable, with a node shebang.
 *   - `test`: a README section whose own test runs its commands from the README text (reverse
 *     tunnels, UDP): the command must be in that section and the test file must read it.
 *
 * A README command without an entry fails, and so does an entry the README no longer shows. To add
 * a README command: add its text to `HOW` (and, for a new scenario, a case in `runScenario`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { startCli, runCli, freePort, cliPath, type CliProcess } from '../helpers/cli.js';
import { curl } from '../helpers/curl.js';
import { webOrigin, type Origin } from '../helpers/origins.js';
import { echoServer } from '../helpers/net.js';
import { issue, makeCa } from '../tls/pki.js';
import { parseBenchArgs } from '../../bench/args.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  bin: Record<string, string>;
};

type How =
  | { kind: 'scenario'; scenario: Scenario }
  | { kind: 'cli'; args: string[]; expect: RegExp }
  | { kind: 'script'; script: string; runs: RegExp; args?: string[]; parsed?: object }
  | { kind: 'bin' }
  | { kind: 'test'; file: string; section: string; readsReadme?: false };

type Scenario = 'spec' | 'mwss' | 'mux-v2' | 'config-file' | 'port-forward';

const REVERSE: How = {
  kind: 'test',
  file: 'test/e2e/reverse-readme.test.ts',
  section: '## Reverse tunnels and UDP',
};

const UDP: How = { kind: 'test', file: 'test/e2e/readme-udp.test.ts', section: '### UDP' };

const HOW: Record<string, How> = {
  'npm run demo': { kind: 'cli', args: ['demo'], expect: /^demo: OK/m },
  'npm run demo -- --serve': { kind: 'cli', args: ['demo', '--serve'], expect: /^serving; use /m },
  'npm test': { kind: 'script', script: 'test', runs: /scripts\/test\.sh/ },
  'npm ci && npm run build': { kind: 'script', script: 'build', runs: /tsc -p tsconfig\.build\.json/ },
  'npm run bench': { kind: 'script', script: 'bench', runs: /bench\/run\.ts/ },
  'npm run bench -- --repeat 3': {
    kind: 'script',
    script: 'bench',
    runs: /bench\/run\.ts/,
    args: ['--repeat', '3'],
    parsed: { repeat: 3 },
  },
  // The long fault, fuzz and soak runs; the suite runs short versions of each (test/faults,
  // test/fuzz, test/soak).
  'npm run faults -- --cycles 1000': {
    kind: 'script',
    script: 'faults',
    runs: /test\/faults\/run-cycles\.ts/,
  },
  'npm run fuzz': { kind: 'script', script: 'fuzz', runs: /test\/fuzz\/run\.ts/ },
  'npm run soak -- --minutes 30': { kind: 'script', script: 'soak', runs: /test\/soak\/run\.ts/ },
  'npm run lint': { kind: 'script', script: 'lint', runs: /eslint/ },
  'npm run typecheck': { kind: 'script', script: 'typecheck', runs: /tsc/ },
  'npm run format': { kind: 'script', script: 'format', runs: /prettier/ },
  'bash scripts/test.sh test/mux/smux/session.test.ts': {
    kind: 'script',
    script: 'test',
    runs: /scripts\/test\.sh/,
  },
  'node dist/cli/main.js': { kind: 'cli', args: ['-V'], expect: /^gost-ts \d+\.\d+\.\d+/ },
  'npm install -g .': { kind: 'bin' },
  'npm pack': { kind: 'test', file: 'test/e2e/pack.test.ts', section: '## Quick start', readsReadme: false },
  'cd /some/app && npm install /path/to/gost-ts-0.1.0.tgz': {
    kind: 'test',
    file: 'test/e2e/pack.test.ts',
    section: '## Quick start',
    readsReadme: false,
  },
  'npx gost-ts -V': {
    kind: 'test',
    file: 'test/e2e/pack.test.ts',
    section: '## Quick start',
    readsReadme: false,
  },
  'npx gost-ts demo': {
    kind: 'test',
    file: 'test/e2e/pack.test.ts',
    section: '## Quick start',
    readsReadme: false,
  },
  'npm install': {
    kind: 'test',
    file: 'test/e2e/pack.test.ts',
    section: '## Quick start',
    readsReadme: false,
  },
  'node app.mjs': {
    kind: 'test',
    file: 'test/e2e/readme-mount.test.ts',
    section: '## Mount in your app',
    readsReadme: false,
  },
  'gost -L http://:1080 -F "http+mws://127.0.0.1:8080?path=/tunnel"': {
    kind: 'test',
    file: 'test/e2e/readme-mount.test.ts',
    section: '## Mount in your app',
    readsReadme: false,
  },
  'gost -L socks5://:1081 -F "socks5+mws://127.0.0.1:8080?path=/tunnel"': {
    kind: 'test',
    file: 'test/e2e/readme-mount.test.ts',
    section: '## Mount in your app',
    readsReadme: false,
  },
  'gost-ts -L "http+mws://127.0.0.1:8443?path=/tunnel"': {
    kind: 'test',
    file: 'test/e2e/nginx.test.ts',
    section: '## Deploying',
    readsReadme: false,
  },
  'gost-ts -C /etc/gost-ts/gost-ts.yaml': {
    kind: 'test',
    file: 'test/e2e/contrib.test.ts',
    section: '## Deploying',
    readsReadme: false,
  },
  'gost-ts -L "socks5+mws://:8443?udp=true&bind=true"': UDP,
  'gost-ts -L udp://:5353/1.1.1.1:53 -F socks5+mws://server:8443': UDP,
  'gost-ts -L rudp://:5353/127.0.0.1:53 -F socks5+mws://server:8443': UDP,
  'gost-ts -L "socks5://:1080?udp=true" -F socks5+mws://server:8443': UDP,
  'gost-ts -L udp://:5353/127.0.0.1:53 -F relay+mws://server:8443': {
    kind: 'test',
    file: 'test/interop/gost-matrix/relay-udp.test.ts',
    section: '### UDP',
  },
  'gost-ts -L rudp://:5353/127.0.0.1:53 -F "relay+mws://server:8443?path=/ws"': {
    kind: 'test',
    file: 'test/interop/gost-matrix/relay-udp-bind.test.ts',
    section: '### UDP',
  },
  'gost-ts -L "socks5://:1080?udp=true" -F "relay+mws://server:8443?path=/ws"': {
    kind: 'test',
    file: 'test/interop/gost-matrix/relay-udp-bind.test.ts',
    section: '### UDP',
  },
  'gost-ts -L "socks5+mws://:8443?path=/ws&bind=true"': REVERSE,
  'gost-ts -L rtcp://:2222/127.0.0.1:22 -F "socks5+mws://server:8443?path=/ws"': REVERSE,
  'gost-ts -L "relay+mws://:8443?path=/ws&bind=true"': REVERSE,
  'gost-ts -L rtcp://:2222/127.0.0.1:22 -F "relay+mws://server:8443?path=/ws"': REVERSE,
  'gost-ts -L "relay+mws://user:pass@:8443?path=/ws"': REVERSE,
  'gost-ts -L tcp://:8080/10.0.0.5:80 -F "relay+mws://user:pass@server:8443?path=/ws"': REVERSE,
  'gost-ts -L "relay+mws://:8443/10.0.0.5:22?path=/ws"': REVERSE,

  'npx gost-ts': { kind: 'bin' },
  'gost-ts -L http+mws://:8443?path=/ws': { kind: 'scenario', scenario: 'spec' },
  'gost-ts -L :8080 -F http+mws://SERVER:8443?path=/ws': { kind: 'scenario', scenario: 'spec' },
  'curl -x http://127.0.0.1:8080 https://example.com/': { kind: 'scenario', scenario: 'spec' },
  'curl --socks5-hostname 127.0.0.1:8080 http://example.com/': { kind: 'scenario', scenario: 'spec' },
  'gost-ts -L "http+mwss://:443?path=/ws"': { kind: 'scenario', scenario: 'mwss' },
  'gost-ts -L :8080 -F "http+mwss://server.example:443?path=/ws&secure=true&caFile=ca.pem"': {
    kind: 'scenario',
    scenario: 'mwss',
  },
  'gost-ts -L "http+mws://:8443?path=/ws&mux.version=2"': { kind: 'scenario', scenario: 'mux-v2' },
  'gost-ts -L :8080 -F "http+mws://server:8443?path=/ws&mux.version=2&muxMaxStreamBuffer=262144"': {
    kind: 'scenario',
    scenario: 'mux-v2',
  },
  'gost-ts -C client.yaml': { kind: 'scenario', scenario: 'config-file' },
  'gost-ts -L tcp://:2222/127.0.0.1:22 -F http+mws://server:8443': {
    kind: 'scenario',
    scenario: 'port-forward',
  },
};

/** Every command the README shows, in order (duplicates once). */
function readmeCommands(): string[] {
  const out: string[] = [];
  const fence = /^```(\w*)\n([\s\S]*?)^```/gm;
  for (const m of readme.matchAll(fence)) {
    if (m[1] !== 'sh') continue;
    for (const line of (m[2] ?? '').split('\n')) {
      const cmd = line.replace(/\s+#.*$/, '').trim();
      if (cmd !== '') out.push(cmd);
    }
  }
  const prose = readme.replace(fence, '');
  // Inline commands; `gost-ts started` (a log line) is not one.
  for (const m of prose.matchAll(/`((?:gost-ts -|(?:npm|npx|node|curl|bash) )[^`]+)`/g))
    out.push((m[1] ?? '').replace(/\s+/g, ' '));
  return [...new Set(out)];
}

/** The README's fenced block of `lang` that follows `marker`. */
function blockAfter(marker: string, lang: string): string {
  const at = readme.indexOf(marker);
  assert.ok(at >= 0, `README has "${marker}"`);
  const m = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'm').exec(readme.slice(at));
  assert.ok(m?.[1] !== undefined, `a ${lang} block after "${marker}"`);
  return m[1];
}

/** Shell words of a README command line (double quotes only, as the README uses). */
function words(cmd: string): string[] {
  return [...cmd.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

interface Ports {
  server: number;
  client: number;
  forward: number;
  echo: number;
  http: Origin;
  https: Origin;
}

/** The README's example ports, hosts and URLs → this machine's loopback. */
function localize(text: string, p: Ports, tlsHost = '127.0.0.1'): string {
  return text
    .replace(/https:\/\/example\.com\//g, p.https.url)
    .replace(/http:\/\/example\.com\//g, p.http.url)
    .replace(/127\.0\.0\.1:22\b/g, `127.0.0.1:${p.echo}`)
    .replace(/\b(SERVER|server\.example|server):/g, `${tlsHost}:`)
    .replace(/:8443\b/g, `:${p.server}`)
    .replace(/:443\b/g, `:${p.server}`)
    .replace(/:8080\b/g, `:${p.client}`)
    .replace(/:2222\b/g, `:${p.forward}`);
}

/** The README commands of one scenario, in README order. */
function commandsOf(scenario: Scenario): string[] {
  return readmeCommands().filter((c) => {
    const how = HOW[c];
    return how?.kind === 'scenario' && how.scenario === scenario;
  });
}

const gostArgs = (cmd: string, p: Ports, host?: string): string[] => words(localize(cmd, p, host)).slice(1);

async function viaProxy(p: Ports, origin: Origin): Promise<void> {
  const r = await curl(['-k', '-x', `http://127.0.0.1:${p.client}`, origin.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.body, 'hello /\n');
}

async function runScenario(scenario: Scenario, p: Ports, cleanup: Array<() => unknown>): Promise<void> {
  const cmds = commandsOf(scenario);
  assert.ok(cmds.length > 0, `the README still shows the ${scenario} commands`);
  const start = async (args: string[], cwd?: string): Promise<CliProcess> => {
    const cli = await startCli(args, cwd === undefined ? {} : { cwd });
    cleanup.push(() => cli.stop());
    return cli;
  };
  const gost = cmds.filter((c) => c.startsWith('gost-ts '));
  switch (scenario) {
    case 'spec':
    case 'mux-v2': {
      const [server, client] = gost;
      assert.ok(server !== undefined && client !== undefined, `${scenario}: server and client`);
      await start(gostArgs(server, p));
      await start(gostArgs(client, p));
      for (const c of cmds.filter((x) => x.startsWith('curl '))) {
        const r = await curl(words(localize(c, p)).slice(1).concat(['-k']));
        assert.equal(r.code, 0, `${c}: ${r.stderr}`);
        assert.equal(r.body, 'hello /\n', c);
      }
      await viaProxy(p, p.http);
      return;
    }
    case 'mwss': {
      // The server finds cert.pem/key.pem in its working directory (the README's default); the
      // client verifies them against ca.pem, for the name it dials (localhost stands in for
      // server.example, which the certificate names).
      const ca = await makeCa('readme CA');
      const leaf = await issue(ca, { cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'] });
      const dir = mkdtempSync(join(tmpdir(), 'gost-ts-readme-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(join(dir, 'cert.pem'), leaf.cert);
      writeFileSync(join(dir, 'key.pem'), leaf.key);
      writeFileSync(join(dir, 'ca.pem'), ca.cert);
      const [server, client] = gost;
      assert.ok(server !== undefined && client !== undefined, 'mwss: server and client');
      await start(gostArgs(server, p), dir);
      await start(gostArgs(client, p, 'localhost'), dir);
      await viaProxy(p, p.https);
      return;
    }
    case 'config-file': {
      // The README's YAML as client.yaml, its one-line server config as server.yaml.
      const dir = mkdtempSync(join(tmpdir(), 'gost-ts-readme-'));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const clientYaml = localize(blockAfter('The same as a config file', 'yaml'), p);
      const serverLine = /^Server: `(services: .*)`\.$/m.exec(readme)?.[1];
      assert.ok(serverLine !== undefined, 'README shows the server config');
      writeFileSync(join(dir, 'client.yaml'), clientYaml);
      writeFileSync(join(dir, 'server.yaml'), localize(serverLine, p));
      await start(['-C', 'server.yaml'], dir);
      const [cmd] = gost;
      assert.ok(cmd !== undefined);
      await start(gostArgs(cmd, p), dir);
      await viaProxy(p, p.http);
      return;
    }
    case 'port-forward': {
      const [cmd] = gost;
      assert.ok(cmd !== undefined);
      const server = commandsOf('spec').find((c) => c.startsWith('gost-ts -L http+mws://'));
      assert.ok(server !== undefined, 'the spec server command');
      await start(gostArgs(server, p));
      await start(gostArgs(cmd, p));
      const s = net.connect(p.forward, '127.0.0.1');
      await once(s, 'connect');
      s.write('ping through the tunnel');
      const [data] = (await once(s, 'data')) as [Buffer];
      assert.equal(data.toString(), 'ping through the tunnel');
      s.destroy();
      return;
    }
  }
}

test('every README command has an entry saying how it is exercised, and every entry is shown', () => {
  const shown = readmeCommands();
  const missing = shown.filter((c) => HOW[c] === undefined);
  assert.deepEqual(missing, [], 'README commands with no entry in HOW');
  const stale = Object.keys(HOW).filter((c) => !shown.includes(c));
  assert.deepEqual(stale, [], 'HOW entries the README no longer shows');
});

for (const scenario of ['spec', 'mwss', 'mux-v2', 'config-file', 'port-forward'] as const) {
  test(`README scenario "${scenario}" runs: ${commandsOf(scenario).join(' | ')}`, async () => {
    const cleanup: Array<() => unknown> = [];
    const [http, https, echo] = await Promise.all([webOrigin(), webOrigin(true), echoServer()]);
    cleanup.push(
      () => http.close(),
      () => https.close(),
      () => echo.close(),
    );
    try {
      const p: Ports = {
        server: await freePort(),
        client: await freePort(),
        forward: await freePort(),
        echo: echo.port,
        http,
        https,
      };
      await runScenario(scenario, p, cleanup);
    } finally {
      for (const c of cleanup.reverse()) await c();
    }
  });
}

test('README cli commands run', async () => {
  for (const [cmd, how] of Object.entries(HOW)) {
    if (how.kind !== 'cli') continue;
    if (how.args.includes('--serve')) {
      // Runs until stopped: wait for it to say on stdout that it is serving, then stop it.
      const proc = spawn(process.execPath, [cliPath, ...how.args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const serving = new Promise<void>((resolveServing, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${cmd}: no "serving" line in 60 s:\n${out}`)),
          60_000,
        );
        proc.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (how.expect.test(out)) {
            clearTimeout(timer);
            resolveServing();
          }
        });
        proc.once('exit', () => reject(new Error(`${cmd} exited before serving:\n${out}`)));
      });
      try {
        await serving;
      } finally {
        proc.kill('SIGINT');
      }
      const [code, signal] = (await once(proc, 'exit')) as [number | null, string | null];
      assert.equal(code, 0, `${cmd}: exit ${code} ${signal}\n${out}`);
      continue;
    }
    const r = await runCli(how.args, 60_000);
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
    assert.match(r.stdout, how.expect, cmd);
  }
});

test('README npm scripts exist and run what the README says', () => {
  for (const [cmd, how] of Object.entries(HOW)) {
    if (how.kind !== 'script') continue;
    const script = pkg.scripts[how.script];
    assert.ok(script !== undefined, `${cmd}: package.json has script "${how.script}"`);
    assert.match(script, how.runs, cmd);
    for (const file of cmd.split(' ').filter((w) => /\.(ts|sh)$/.test(w)))
      assert.ok(existsSync(join(root, file)), `${cmd}: ${file} exists`);
    // The bench itself is not run here (it takes the machine for minutes); its arguments are parsed.
    if (how.args !== undefined) {
      const opts = parseBenchArgs(how.args) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(how.parsed ?? {})) assert.deepEqual(opts[k], v, `${cmd}: ${k}`);
    }
  }
});

test('README sections with their own test: the command is in the section, the test reads it', () => {
  for (const [cmd, how] of Object.entries(HOW)) {
    if (how.kind !== 'test') continue;
    const start = readme.indexOf(how.section);
    assert.ok(start >= 0, `README has "${how.section}"`);
    const end = readme.indexOf('\n## ', start + how.section.length);
    assert.ok(
      readme
        .slice(start, end < 0 ? undefined : end)
        .replace(/\s+/g, ' ')
        .includes(cmd.replace(/\s+/g, ' ')),
      `${cmd} is in ${how.section}`,
    );
    const source = readFileSync(join(root, how.file), 'utf8');
    // Some section tests mirror their section's commands instead of reading them from the README.
    if (how.readsReadme !== false)
      assert.ok(
        source.includes('README.md') && source.includes(how.section),
        `${how.file} reads ${how.section}`,
      );
  }
});

test('README install commands: the package bin is the built CLI, executable, with a node shebang', () => {
  assert.equal(resolve(root, pkg.bin['gost-ts'] ?? ''), cliPath);
  const mode = statSync(cliPath).mode;
  assert.ok((mode & 0o111) !== 0, `${cliPath} is executable`);
  assert.match(readFileSync(cliPath, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});
