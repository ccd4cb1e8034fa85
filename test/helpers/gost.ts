// Test helper: runs the real GOST (v3.2.6, built by test/interop/gost/build.sh into
// .cache/gost/gost) as a peer process.
//
//   const server = await startGost(['-L', `http+mws://127.0.0.1:${port}?path=/ws`]);
//   try { ... } finally { await server.stop(); }
//
// There is no skip: a missing or unbuildable GOST throws, so the test that needed it fails.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Path of the built GOST binary. */
export const gostBinary = resolve(repoRoot, '.cache', 'gost', 'gost');
const buildScript = resolve(repoRoot, 'test', 'interop', 'gost', 'build.sh');
const STDERR_CAP = 256 * 1024;

let built = false;
/** Builds GOST once per test process (a no-op when the stamp is current); throws with the reason. */
export function ensureGost(): string {
  if (built) return gostBinary;
  const r = spawnSync('bash', [buildScript], { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0 || !existsSync(gostBinary)) {
    const why = r.error
      ? r.error.message
      : `${(r.stderr || '').trim()} (exit ${String(r.status ?? r.signal)})`;
    throw new Error(`GOST could not be built, so this interop test cannot run: ${why}`);
  }
  built = true;
  return gostBinary;
}

export interface GostProcess {
  readonly proc: ChildProcess;
  /** GOST's log lines so far (JSON, from stderr and stdout). */
  readonly lines: string[];
  /** Resolves with the first log line (past or future) matching `re`; rejects on timeout or exit. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  count(re: RegExp): number;
  /** SIGTERM, then SIGKILL after 3 s; resolves with the exit code. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/**
 * Starts `gost args…` and resolves once it logged `listening on` `listeners` times (default: one
 * per `-L`), or rejects with its output. Pass `listeners: 0` for a pure client of `-C` configs.
 */
export async function startGost(
  args: string[],
  opts: { listeners?: number; timeoutMs?: number; cwd?: string; stdin?: string } = {},
): Promise<GostProcess> {
  const bin = ensureGost();
  const proc = spawn(bin, args, {
    cwd: opts.cwd ?? repoRoot,
    stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (opts.stdin !== undefined) proc.stdin?.end(opts.stdin);
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const lines: string[] = [];
  let partial = '';
  let size = 0;
  const waiters = new Set<() => void>();
  const onData = (c: Buffer): void => {
    if (size > STDERR_CAP) return;
    size += c.length;
    partial += c.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const g: GostProcess = {
    proc,
    lines,
    count: (re) => lines.filter((l) => re.test(l)).length,
    waitForLine: (re, timeoutMs = 10_000) =>
      new Promise((resolveLine, reject) => {
        const check = (): void => {
          const hit = lines.find((l) => re.test(l));
          if (hit !== undefined) {
            done();
            resolveLine(hit);
          }
        };
        const onExit = (): void => {
          done();
          reject(new Error(`gost exited before ${String(re)}:\n${lines.join('\n')}${partial}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${String(re)} from gost:\n${lines.join('\n')}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
          proc.off('exit', onExit);
        };
        waiters.add(check);
        proc.once('exit', onExit);
        check();
      }),
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      const exited = once(proc, 'exit');
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      const [code] = (await exited) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
  const want = opts.listeners ?? args.filter((a) => a === '-L').length;
  if (want > 0) {
    const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
    while (g.count(/"msg":"listening on /) < want) {
      const left = deadline - Date.now();
      if (left <= 0 || proc.exitCode !== null) {
        await g.stop();
        throw new Error(`gost did not start its ${want} listener(s):\n${lines.join('\n')}${partial}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return g;
}

/** Runs `gost args…` to completion (e.g. `-O yaml`, `-V`): exit code, stdout, stderr. */
export async function runGost(
  args: string[],
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(ensureGost(), args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}
