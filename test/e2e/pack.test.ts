/**
 * Installable as people install it: `npm pack`, then the tarball installed into an empty folder,
 * where `npx gost-ts -V` and `npx gost-ts demo` work, both entry points ('.', './browser') import,
 * and their types check. Only dist (no source maps) ships, beside package.json and the README.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe('npm pack → install the tarball → use it', () => {
  let work: string;
  let app: string;
  let packed: PackResult;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'gost-ts-pack-'));
    app = join(work, 'app');
    // --ignore-scripts: setup.sh built dist already (prepack would build it again).
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: repoRoot,
      timeout: 120_000,
    });
    packed = (JSON.parse(stdout) as PackResult[])[0]!;
    await run('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        join(work, packed.filename),
      ],
      { cwd: app, timeout: 240_000 },
    );
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds dist and what it needs, types included, nothing else', () => {
    const paths = packed.files.map((f) => f.path);
    for (const p of paths)
      assert.ok(
        ['package.json', 'README.md', 'LICENSE'].includes(p) ||
          (p.startsWith('dist/') && !p.endsWith('.map')),
        `shipped but not needed: ${p}`,
      );
    for (const needed of [
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/browser/index.js',
      'dist/browser/index.d.ts',
    ])
      assert.ok(paths.includes(needed), `missing from the tarball: ${needed}`);
  });

  test('npx gost-ts -V and npx gost-ts demo', async () => {
    const v = await run('npx', ['--no-install', 'gost-ts', '-V'], { cwd: app, timeout: 60_000 });
    assert.match(v.stdout, /^gost-ts \d+\.\d+\.\d+ /);
    const demo = await run('npx', ['--no-install', 'gost-ts', 'demo'], { cwd: app, timeout: 60_000 });
    assert.match(demo.stdout + demo.stderr, /demo: OK/);
  });

  test("both entry points import, and their types check ('.' and './browser')", async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const a = await import('gost-ts'); const b = await import('gost-ts/browser');" +
          'console.log(typeof a.createMwsEndpoint, typeof a.buildRuntime, typeof b.connectMws);',
      ],
      { cwd: app, timeout: 30_000 },
    );
    assert.equal(stdout.trim(), 'function function function');
    writeFileSync(
      join(app, 'server.ts'),
      "import { createMwsEndpoint, type MwsEndpoint } from 'gost-ts';\n" +
        "export const e: MwsEndpoint = createMwsEndpoint({ path: '/tunnel', handler: { type: 'http', auth: { username: 'u', password: 'p' } } });\n",
    );
    writeFileSync(
      join(app, 'page.ts'),
      "import { connectMws, type MwsTunnel } from 'gost-ts/browser';\n" +
        "export const t: Promise<MwsTunnel> = connectMws('wss://example.com/tunnel', { muxVersion: 2 });\n",
    );
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    assert.ok(existsSync(tsc));
    const common = [
      '--noEmit',
      '--strict',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--skipLibCheck',
      'false',
    ];
    // The Node entry point needs Node's types (from this repository); the browser one only the DOM.
    await run(
      process.execPath,
      [
        tsc,
        ...common,
        '--typeRoots',
        join(repoRoot, 'node_modules', '@types'),
        '--types',
        'node',
        'server.ts',
      ],
      { cwd: app, timeout: 120_000 },
    ).catch((err: Error & { stdout?: string }) => assert.fail(`server.ts: ${err.stdout ?? err.message}`));
    writeFileSync(
      join(app, 'tsconfig.page.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: 'nodenext',
          lib: ['es2022', 'dom'],
          types: [],
        },
        files: ['page.ts'],
      }),
    );
    await run(process.execPath, [tsc, '-p', 'tsconfig.page.json'], { cwd: app, timeout: 120_000 }).catch(
      (err: Error & { stdout?: string }) => assert.fail(`page.ts: ${err.stdout ?? err.message}`),
    );
  });
});
