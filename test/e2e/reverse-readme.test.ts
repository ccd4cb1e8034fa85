/**
 * Runs every command of README's "Reverse tunnels and UDP" section (and its YAML) as written, with
 * only the addresses swapped for loopback ports: the published port, the forward port and the fixed
 * target carry data, checked by hash.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { startCli, runCli, freePort } from '../helpers/cli.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
// The reverse TCP part of the section: up to its "### UDP" subsection (test/e2e/readme-udp.test.ts).
const section = readme.slice(
  readme.indexOf('## Reverse tunnels and UDP'),
  readme.indexOf('\n### UDP', readme.indexOf('## Reverse tunnels and UDP') + 5),
);

function blocks(lang: string): string[] {
  const out: string[] = [];
  const re = new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g');
  for (let m = re.exec(section); m !== null; m = re.exec(section)) out.push(m[1] ?? '');
  return out;
}

/** `gost-ts …` lines of the section's sh blocks, comments dropped, split as a shell would (double quotes only). */
const commands: string[][] = blocks('sh')
  .flatMap((b) => b.split('\n'))
  .filter((l) => l.startsWith('gost-ts '))
  .map((l) => (l.split(/\s+#\s/)[0] ?? '').trim())
  .map((l) => [...l.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '').slice(1));

interface Ports {
  server: number;
  published: number;
  forward: number;
  target: number;
}

function localize(text: string, p: Ports): string {
  return text
    .replace(/server:8443/g, `127.0.0.1:${p.server}`)
    .replace(/(\/\/|@):8443/g, `$1127.0.0.1:${p.server}`)
    .replace(/(\/\/|')(:2222)/g, `$1127.0.0.1:${p.published}`)
    .replace(/\/\/:8080/g, `//127.0.0.1:${p.forward}`)
    .replace(/127\.0\.0\.1:22(?!\d)/g, `127.0.0.1:${p.target}`)
    .replace(/10\.0\.0\.5:\d+/g, `127.0.0.1:${p.target}`);
}

async function ports(t: TestContext): Promise<Ports> {
  const sockets = new Set<net.Socket>();
  const echo = net.createServer((s) => (sockets.add(s), s.on('error', () => undefined), s.pipe(s)));
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    echo.close();
  });
  return {
    server: await freePort(),
    published: await freePort(),
    forward: await freePort(),
    target: (echo.address() as net.AddressInfo).port,
  };
}

async function echoed(port: number): Promise<void> {
  const payload = randomBytes(64 << 10);
  const s = net.connect(port, '127.0.0.1');
  const h = createHash('sha256');
  let got = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`:${port}: ${got} bytes back after 15 s`)), 15_000);
      s.on('data', (c: Buffer) => {
        h.update(c);
        got += c.length;
        if (got >= payload.length) {
          clearTimeout(timer);
          resolve();
        }
      });
      s.once('error', (e) => (clearTimeout(timer), reject(e)));
      s.once('close', () => (clearTimeout(timer), reject(new Error(`:${port}: closed after ${got} bytes`))));
      s.once('connect', () => s.write(payload));
    });
  } finally {
    s.destroy();
  }
  assert.equal(h.digest('hex'), createHash('sha256').update(payload).digest('hex'));
}

const run = (args: string[], p: Ports) => startCli(args.map((a) => localize(a, p)));

describe('README: reverse tunnels', () => {
  it('has the commands this test runs', () => {
    assert.equal(commands.length, 7, commands.map((c) => c.join(' ')).join('\n'));
    assert.equal(blocks('yaml').length, 1);
  });

  for (const [i, name] of [
    [0, 'rtcp over socks5+mws'],
    [2, 'rtcp over relay+mws'],
  ] as const) {
    it(`${name}: server and client as written; the published port reaches the target`, async (t) => {
      const p = await ports(t);
      const server = await run(commands[i] ?? [], p);
      const client = await run(commands[i + 1] ?? [], p);
      t.after(async () => (await client.stop(), await server.stop()));
      await client.waitForLine(/rtcp: tunnel up/);
      await echoed(p.published);
    });
  }

  it('relay CONNECT with credentials, as written', async (t) => {
    const p = await ports(t);
    const server = await run(commands[4] ?? [], p);
    const client = await run(commands[5] ?? [], p);
    t.after(async () => (await client.stop(), await server.stop()));
    await echoed(p.forward);
  });

  it('relay server with a fixed target, as written', async (t) => {
    const p = await ports(t);
    const server = await run(commands[6] ?? [], p);
    const client = await startCli([
      '-L',
      `tcp://127.0.0.1:${p.forward}/127.0.0.1:9`,
      '-F',
      `relay+mws://127.0.0.1:${p.server}?path=/ws`,
    ]);
    t.after(async () => (await client.stop(), await server.stop()));
    await echoed(p.forward);
  });

  it('the YAML client config (listener.chain) against the socks5 server; -O yaml prints it', async (t) => {
    const p = await ports(t);
    const dir = mkdtempSync(join(tmpdir(), 'gost-ts-rtcp-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'client.yaml');
    writeFileSync(file, localize(blocks('yaml')[0] ?? '', p));
    const server = await run(commands[0] ?? [], p);
    const client = await startCli(['-C', file]);
    t.after(async () => (await client.stop(), await server.stop()));
    await client.waitForLine(/rtcp: tunnel up/);
    await echoed(p.published);
    // The client command prints the same structure: the chain under the listener, not the handler.
    const printed = await runCli([...(commands[1] ?? []), '-O', 'yaml']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(
      printed.stdout,
      /handler:\n {6}type: rtcp\n {4}listener:\n {6}type: rtcp\n {6}chain: chain-0\n/,
    );
  });
});
