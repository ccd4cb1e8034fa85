// Test helper: runs the Go interop peer (test/interop/go-peer), which wires the real gorilla/websocket
// and xtaci/smux libraries the way GOST does, so our TypeScript code is tested against them.
//
//   const reason = goPeerMissingReason();
//   test('...', { skip: reason }, async () => {
//     const server = await startGoPeer('server', ['-listen', '127.0.0.1:0']);
//     try { ... } finally { await server.stop(); }
//   });
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildScript = resolve(repoRoot, 'test', 'interop', 'go-peer', 'build.sh');

/** Path of the built peer binary. */
export const goPeerBinary = resolve(repoRoot, '.cache', 'go-peer', 'go-peer');

const LISTEN_TIMEOUT_MS = 20_000;
const DEFAULT_LINE_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;
const STDERR_CAP = 64 * 1024;

export type GoPeerMode = 'server' | 'client';

export interface GoPeer {
  /** `host:port` from the peer's `LISTEN` line (server: WebSocket port; client: local proxy port). */
  readonly addr: string;
  readonly port: number;
  readonly proc: ChildProcess;
  /** Every stdout line so far, in order (LISTEN, UPGRADE, SESSION_OPEN, STREAM_OPEN, ...). */
  readonly lines: string[];
  /** stderr collected so far (capped), for diagnostics. */
  stderr(): string;
  /** Resolves with the first line (past or future) matching `re`; rejects on timeout or peer exit. */
  waitForLine(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGSTOP: the peer stops answering anything (simulates a silently dead peer). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** SIGTERM, then SIGKILL after 2 s; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Build (once per test process)

let buildResult: { reason: string | undefined } | undefined;

/**
 * undefined when the peer binary exists or could be built; otherwise a loud reason for
 * `{ skip: reason }`. Runs build.sh synchronously the first time only.
 */
export function goPeerMissingReason(): string | undefined {
  if (buildResult === undefined) buildResult = { reason: build() };
  // In CI nothing may be skipped: a missing peer fails the file that needed it.
  if (buildResult.reason !== undefined && process.env.CI === 'true') throw new Error(buildResult.reason);
  return buildResult.reason;
}

function build(): string | undefined {
  const r = spawnSync('bash', [buildScript], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 300_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status === 0 && existsSync(goPeerBinary)) return undefined;
  const why = r.error
    ? r.error.message
    : `${(r.stderr || r.stdout || '').trim()} (exit ${String(r.status ?? r.signal)})`;
  if (existsSync(goPeerBinary)) {
    // A previously built binary still works even if Go is gone now.
    process.emitWarning(`go-peer: build failed, using the existing binary: ${why}`);
    return undefined;
  }
  return `GO INTEROP PEER UNAVAILABLE — interop tests are NOT running: ${why}`;
}

// ---------------------------------------------------------------------------------------------
// Never leave peers running: kill every live one when this process exits. (The peer also exits by
// itself when its stdin pipe closes, which covers a SIGKILLed test process.)

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      for (const p of live) p.kill('SIGKILL');
      // Restore the default action and re-raise, so the process still dies of the signal.
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    // Only take over if nobody else handles the signal (adding a listener disables the default).
    if (process.listenerCount(sig) === 0) process.on(sig, onSignal);
  }
}

// ---------------------------------------------------------------------------------------------
// Start

/** Spawns `go-peer <mode> ...args` and resolves once it printed `LISTEN host:port` (20 s bound). */
export async function startGoPeer(mode: GoPeerMode, args: string[]): Promise<GoPeer> {
  const reason = goPeerMissingReason();
  if (reason !== undefined) throw new Error(reason);
  installExitHook();

  const proc = spawn(goPeerBinary, [mode, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, GO_PEER_EXIT_ON_STDIN_EOF: '1' },
  });
  live.add(proc);

  const lines: string[] = [];
  const lineListeners = new Set<(line: string) => void>();
  const exitListeners = new Set<() => void>();
  let stderrText = '';
  let exited = false;
  let exitDesc = '';

  let markExited: (desc: string) => void = () => undefined;
  const exitPromise = new Promise<void>((resolveExit) => {
    markExited = (desc: string): void => {
      if (exited) return;
      exited = true;
      exitDesc = desc;
      live.delete(proc);
      for (const l of exitListeners) l();
      resolveExit();
    };
  });
  // 'close' (not 'exit') so all stdout/stderr output has been delivered by then.
  proc.once('close', (code, signal) => {
    markExited(signal !== null ? `signal ${signal}` : `code ${String(code)}`);
  });
  proc.once('error', (err) => {
    stderrText += `spawn error: ${err.message}\n`;
    if (proc.pid === undefined) markExited('spawn failed');
  });

  const stdout = proc.stdout;
  const stderr = proc.stderr;
  if (stdout === null || stderr === null) throw new Error('go-peer: stdio pipes missing');
  stderr.setEncoding('utf8');
  stderr.on('data', (chunk: string) => {
    if (process.env['GO_PEER_DEBUG']) process.stderr.write(`[go-peer ${mode} ${String(proc.pid)}] ${chunk}`);
    if (stderrText.length < STDERR_CAP) stderrText += chunk;
  });
  createInterface({ input: stdout, crlfDelay: Infinity }).on('line', (line) => {
    if (process.env['GO_PEER_DEBUG'])
      process.stderr.write(`[go-peer ${mode} ${String(proc.pid)}] > ${line}\n`);
    lines.push(line);
    for (const l of lineListeners) l(line);
  });

  // Peers must not keep the test process alive on their own (the exit hook kills leftovers).
  proc.unref();
  for (const s of [proc.stdin, stdout, stderr]) {
    (s as unknown as { unref?: () => void } | null)?.unref?.();
  }

  const describe = (): string =>
    `go-peer ${mode} (pid ${String(proc.pid)})\n  stdout:\n    ${lines.slice(-20).join('\n    ')}\n  stderr:\n    ${stderrText.trim().split('\n').slice(-20).join('\n    ')}`;

  const waitForLine = (re: RegExp, timeoutMs: number = DEFAULT_LINE_TIMEOUT_MS): Promise<string> => {
    const test = (line: string): boolean => {
      re.lastIndex = 0; // tolerate /g and /y regexps
      return re.test(line);
    };
    const past = lines.find(test);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise<string>((resolveLine, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        lineListeners.delete(onLine);
        exitListeners.delete(onExit);
      };
      const onLine = (line: string): void => {
        if (!test(line)) return;
        cleanup();
        resolveLine(line);
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`waitForLine ${String(re)}: peer exited (${exitDesc}) — ${describe()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`waitForLine ${String(re)}: timed out after ${timeoutMs} ms — ${describe()}`));
      }, timeoutMs);
      lineListeners.add(onLine);
      exitListeners.add(onExit);
      if (exited) onExit();
    });
  };

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      if (exited) return;
      proc.kill('SIGTERM');
      proc.kill('SIGCONT'); // a paused (SIGSTOPped) peer only acts on SIGTERM once continued
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolveKill) => {
        timer = setTimeout(() => {
          if (!exited) proc.kill('SIGKILL');
          resolveKill();
        }, STOP_GRACE_MS);
      });
      await Promise.race([exitPromise, killed]);
      clearTimeout(timer);
      await exitPromise;
    })();
    return stopping;
  };

  let listenLine: string;
  try {
    listenLine = await waitForLine(/^LISTEN \S+$/, LISTEN_TIMEOUT_MS);
  } catch (err) {
    await stop();
    throw err instanceof Error ? err : new Error(String(err));
  }
  const addr = listenLine.slice('LISTEN '.length);
  const port = Number(addr.slice(addr.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0) {
    await stop();
    throw new Error(`go-peer: bad LISTEN line ${JSON.stringify(listenLine)}`);
  }

  return {
    addr,
    port,
    proc,
    lines,
    stderr: () => stderrText,
    waitForLine,
    pause: () => {
      if (!exited) proc.kill('SIGSTOP');
    },
    resume: () => {
      if (!exited) proc.kill('SIGCONT');
    },
    stop,
  };
}
