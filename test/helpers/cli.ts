import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The built command-line entry point, exactly what the `gost-ts` bin runs. */
export const cliPath = resolve(repoRoot, 'dist', 'cli', 'main.js');

export interface CliProcess {
  proc: ChildProcess;
  /** stderr lines so far (pino JSON logs, or the one-line error). */
  lines: string[];
  stdout: () => string;
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  count(re: RegExp): number;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** Starts `gost-ts args…` and resolves once it logged "gost-ts started" (or rejects with its output). */
export async function startCli(
  args: string[],
  opts: { cwd?: string; ready?: RegExp; env?: NodeJS.ProcessEnv } = {},
): Promise<CliProcess> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} missing: run "npm run build" first`);
  const proc = spawn(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  const lines: string[] = [];
  let out = '';
  let partial = '';
  const waiters = new Set<() => void>();
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => {
    partial += c.toString();
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters) w();
  });
  const cli: CliProcess = {
    proc,
    lines,
    stdout: () => out,
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
          reject(new Error(`gost-ts exited before ${String(re)}:\n${lines.join('\n')}${partial}`));
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${String(re)}:\n${lines.join('\n')}`));
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
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const [code] = (await once(proc, 'exit')) as [number | null];
      clearTimeout(timer);
      return code;
    },
  };
  await cli.waitForLine(opts.ready ?? /gost-ts started/, 15_000);
  return cli;
}

/** Runs `gost-ts args…` to completion: exit code, stdout, stderr. */
export async function runCli(
  args: string[],
  timeoutMs = 15_000,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(proc, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** A loopback port that was free a moment ago (for command lines that need a fixed port). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
