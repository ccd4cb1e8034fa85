/**
 * Child processes of the benchmark: spawned with piped stdio, read line by line, and always stopped.
 *
 * Three layers keep strays away: `stop()`/`stopAll()` on the normal path (SIGTERM, then SIGKILL);
 * SIGKILL from the `exit` handler when the runner dies of an error or a signal; and every child
 * exits by itself when its stdin pipe closes, which covers even a SIGKILLed runner (go-peer:
 * GO_PEER_EXIT_ON_STDIN_EOF / `-stdin`; gost-ts: the {@link NODE_STDIN_GUARD} preload).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Lines of stdout+stderr kept per child for error messages. */
const TAIL_LINES = 30;
/** How long a child gets between SIGTERM and SIGKILL (ms). */
const STOP_GRACE_MS = 3000;

/**
 * A `node --import` module that exits the process when its stdin reaches EOF, i.e. when the runner
 * is gone. It only reads stdin; gost-ts itself is unchanged.
 */
export const NODE_STDIN_GUARD = 'data:text/javascript,process.stdin.on("end",()=>process.exit(0)).resume();';

type LineListener = (line: string, stream: 'stdout' | 'stderr') => void;

export interface ChildOptions {
  /** Label in logs and errors. */
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** One running child process. Create with {@link spawnChild}. */
export class Child {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (null when killed by a signal) once the process is gone. */
  readonly exited: Promise<number | null>;
  #proc: ChildProcess;
  #tail: string[] = [];
  #listeners = new Set<LineListener>();
  #exitCode: number | null | undefined;
  #readers: ReturnType<typeof createInterface>[] = [];

  constructor(opts: ChildOptions) {
    this.name = opts.name;
    this.#proc = spawn(opts.command, opts.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    if (this.#proc.pid === undefined) {
      throw new Error(`${opts.name}: cannot spawn ${opts.command}`);
    }
    this.pid = this.#proc.pid;
    // A write to a child that just died must not crash the runner.
    this.#proc.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.#proc.once('exit', (code) => {
        this.#exitCode = code;
        live.delete(this);
        resolve(code);
      });
    });
    const stdout = this.#proc.stdout;
    const stderr = this.#proc.stderr;
    if (stdout !== null) this.#readLines(stdout, 'stdout');
    if (stderr !== null) this.#readLines(stderr, 'stderr');
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.#exitCode !== undefined;
  }

  /** The last lines of output, for error messages. */
  tail(): string {
    return this.#tail.join('\n');
  }

  /** Calls `fn` for every later output line until the returned function is called. */
  onLine(fn: LineListener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /**
   * Resolves with the first non-undefined `match(line)`. Rejects when `match` throws, when the child
   * exits first, or after `timeoutMs`.
   */
  waitFor<T>(
    match: (line: string, stream: 'stdout' | 'stderr') => T | undefined,
    timeoutMs: number,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        off();
        clearTimeout(timer);
      };
      const off = this.onLine((line, stream) => {
        let v: T | undefined;
        try {
          v = match(line, stream);
        } catch (err) {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (v !== undefined) {
          done();
          resolve(v);
        }
      });
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: not ready after ${String(timeoutMs)} ms\n${this.tail()}`));
      }, timeoutMs);
      void this.exited.then((code) => {
        done();
        reject(new Error(`${this.name}: exited (code ${String(code)})\n${this.tail()}`));
      });
    });
  }

  /**
   * Stops splitting the output into lines (the tail and line listeners see nothing more) and drains
   * it unread from now on, for a child that logs a lot while being measured.
   */
  muteOutput(): void {
    for (const rl of this.#readers) rl.close();
    this.#readers = [];
    this.#proc.stdout?.resume();
    this.#proc.stderr?.resume();
  }

  /** Writes one control line to the child's stdin. */
  send(line: string): void {
    this.#proc.stdin?.write(`${line}\n`);
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  async stop(): Promise<void> {
    if (this.hasExited) return;
    this.#proc.kill('SIGTERM');
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL without waiting (for the `exit` handler, which cannot wait). */
  killNow(): void {
    if (!this.hasExited) this.#proc.kill('SIGKILL');
  }

  #readLines(input: NodeJS.ReadableStream, stream: 'stdout' | 'stderr'): void {
    const rl = createInterface({ input, crlfDelay: Infinity });
    this.#readers.push(rl);
    rl.on('line', (line) => {
      this.#tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
      for (const fn of this.#listeners) fn(line, stream);
    });
  }
}

const live = new Set<Child>();

/** Spawns a child and registers it for cleanup. */
export function spawnChild(opts: ChildOptions): Child {
  const child = new Child(opts);
  live.add(child);
  return child;
}

/** Stops every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

let cleanupInstalled = false;

/**
 * Makes the runner stop its children on Ctrl-C/SIGTERM (exit status 130/143) and SIGKILL any
 * survivor when the process exits for any other reason.
 */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.killNow();
  });
  const onSignal = (signal: NodeJS.Signals, status: number): void => {
    process.stderr.write(`\nbench: ${signal}, stopping ${String(live.size)} process(es)\n`);
    const force = setTimeout(() => process.exit(status), STOP_GRACE_MS + 1000);
    force.unref();
    void stopAll().finally(() => process.exit(status));
  };
  process.once('SIGINT', () => onSignal('SIGINT', 130));
  process.once('SIGTERM', () => onSignal('SIGTERM', 143));
}
