/**
 * Runs one `go-peer load` scenario (test/interop/go-peer/load.go) and returns its JSON result. The
 * load generator is Go, so Node never limits what is measured.
 */
import { spawnChild } from './children.js';

/** The result line of `go-peer load`: durations in µs, MB = 10^6 bytes. */
export interface LoadResult {
  mode: string;
  proxy: string;
  /** Timed part: transfer, all rate connections, all latency samples or opening all streams. */
  seconds: number;
  bytes: number;
  mbps: number;
  /** Connections (bulk, rate, streams) or samples (latency) that succeeded. */
  ops: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  maxUs: number;
  /** Latency with a bulk transfer beside it: what that transfer moved meanwhile. */
  besideBytes: number;
  besideMbps: number;
  errors: number;
  firstError?: string;
  /** CPU seconds the load generator itself used (to show it is not the bottleneck). */
  loadCpuS: number;
}

/** The streams mode pauses twice so the caller can sample memory. */
export interface LoadHooks {
  /** The session is warm, no stream is open yet. */
  onWarm?: () => Promise<void>;
  /** Every stream is open (or failed). */
  onOpen?: (info: { open: number; errors: number; seconds: number }) => Promise<void>;
}

/**
 * Runs `go-peer load <args>`. Rejects when the tool fails or does not finish within `timeoutMs`
 * (the tool also gets that limit itself, so it normally exits on its own first).
 */
export async function runLoad(
  goPeer: string,
  args: readonly string[],
  timeoutMs: number,
  hooks: LoadHooks = {},
): Promise<LoadResult> {
  const child = spawnChild({
    name: 'load',
    command: goPeer,
    args: ['load', '-stdin', '-timeout', `${String(Math.ceil(timeoutMs / 1000))}s`, ...args],
  });
  let result: LoadResult | undefined;
  let hookError: Error | undefined;
  const runHook = async (p: Promise<void> | undefined): Promise<void> => {
    try {
      await p;
    } catch (err) {
      hookError ??= err instanceof Error ? err : new Error(String(err));
    }
  };
  const off = child.onLine((line, stream) => {
    if (stream !== 'stdout') return;
    if (line === 'WARM') {
      void runHook(hooks.onWarm?.()).then(() => child.send('go'));
    } else if (line.startsWith('OPEN ')) {
      const info = JSON.parse(line.slice(5)) as { open: number; errors: number; seconds: number };
      void runHook(hooks.onOpen?.(info)).then(() => child.send('go'));
    } else if (line.startsWith('{')) {
      result = JSON.parse(line) as LoadResult;
    }
  });
  const killer = setTimeout(() => child.killNow(), timeoutMs + 5000);
  try {
    const code = await child.exited;
    if (hookError !== undefined) throw hookError;
    if (code !== 0 || result === undefined) {
      throw new Error(`go-peer load ${args.join(' ')}: exit code ${String(code)}\n${child.tail()}`);
    }
    return result;
  } finally {
    clearTimeout(killer);
    off();
    await child.stop();
  }
}
