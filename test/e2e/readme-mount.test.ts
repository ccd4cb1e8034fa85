/**
 * README "Mount in your app": the Express and Fastify examples run as written (as .mjs files that
 * import 'gost-ts' by name, with PORT/HOST from the environment), the real gost client tunnels
 * through each with the README's command, and SIGTERM ends each app cleanly via endpoint.close().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { SocksClient } from 'socks';
import { freePort } from '../helpers/cli.js';
import { startGost } from '../helpers/gost.js';
import { echoServer } from '../helpers/net.js';
import { echoDigest, echoViaProxy, sha256, within } from '../helpers/tunnel.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Mount in your app'), readme.indexOf('## In the browser'));

function example(name: string): string {
  const m = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(section);
  assert.ok(m?.[1], `README: no "${name}" example in "Mount in your app"`);
  return m[1];
}

/** The README's `gost -L X -F "Y"` line whose comment names `app`. */
function gostCommand(app: string): { listen: string; forward: string } {
  const line = section.split('\n').find((l) => l.startsWith('gost -L') && l.includes(`# the ${app} app`));
  const m = line && /^gost -L (\S+) -F "([^"]+)"/.exec(line);
  assert.ok(m, `README: no gost command for the ${app} app`);
  return { listen: m[1]!, forward: m[2]! };
}

async function getText(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return res.text();
}

for (const [name, app, proto] of [
  ['express', 'Express', 'http'],
  ['fastify', 'Fastify', 'socks5'],
] as const) {
  test(`README mount example: ${app}`, async (t) => {
    const dir = resolve(repoRoot, '.cache', 'readme-examples');
    mkdirSync(dir, { recursive: true });
    const file = resolve(dir, `${name}.mjs`);
    writeFileSync(file, example(name));
    const port = await freePort();
    const proc = spawn(process.execPath, [file], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    t.after(() => proc.kill('SIGKILL'));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const text = await getText(port).catch(() => undefined);
      if (text === 'hello') break;
      assert.ok(
        Date.now() < deadline && proc.exitCode === null,
        `the ${app} example did not start: ${stderr}`,
      );
      await new Promise((r) => setTimeout(r, 100));
    }

    const target = await echoServer();
    t.after(() => target.close());
    const cmd = gostCommand(app);
    const proxyPort = await freePort();
    const gost = await startGost([
      '-L',
      cmd.listen.replace(/:\/\/:\d+/, `://127.0.0.1:${proxyPort}`),
      '-F',
      cmd.forward.replace(':8080', `:${port}`),
    ]);
    t.after(() => gost.stop());
    const payload = randomBytes(256 * 1024);
    if (proto === 'http') {
      assert.equal(await echoViaProxy(proxyPort, `127.0.0.1:${target.port}`, payload), sha256(payload));
    } else {
      const { socket } = await SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: proxyPort, type: 5 },
        command: 'connect',
        destination: { host: '127.0.0.1', port: target.port },
        timeout: 10_000,
      });
      try {
        assert.equal(await echoDigest(socket, payload), sha256(payload));
      } finally {
        socket.destroy();
      }
    }

    proc.kill('SIGTERM');
    const [code] = (await within(once(proc, 'exit'), 15_000, `the ${app} example to exit on SIGTERM`)) as [
      number | null,
    ];
    assert.equal(code, 0, stderr);
  });
}
