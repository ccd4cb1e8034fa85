import { fileURLToPath } from 'node:url';

const probePath = fileURLToPath(new URL('./heap-probe.cjs', import.meta.url));

/** NODE_OPTIONS that preload the heap probe (heap-probe.cjs) into a gost-ts process. */
export function probeEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const prior = env['NODE_OPTIONS'] ?? '';
  return { ...env, NODE_OPTIONS: `${prior} --require ${probePath}`.trim() };
}

/** What the probe saw, right after a full GC in the process under test. */
export interface HeapSample {
  heapUsed: number;
  /** Of heapUsed, V8's compiled code (the code spaces). */
  codeUsed: number;
  /** V8's compiled code and bytecode with their metadata (v8.getHeapCodeStatistics()). */
  jitUsed: number;
  /** V8 heap committed (used or not). */
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  fds: number;
  /** Active libuv handles and requests by type (process.getActiveResourcesInfo()). */
  resources: Record<string, number>;
}

/**
 * Heap used after GC less what V8's compiler keeps (code, bytecode and their metadata, which grow
 * as more paths get optimized, bounded by the program): the objects the process keeps.
 */
export function heapData(s: HeapSample): number {
  return s.heapUsed - s.jitUsed;
}

/** Sum of the active handles and requests the probe counted. */
export function handleCount(s: HeapSample): number {
  return Object.values(s.resources).reduce((a, b) => a + b, 0);
}

/**
 * Sends SIGUSR2 to `pid` (a process started with probeEnv()) and resolves with the sample it
 * prints on stderr, which the caller collects into `lines`.
 */
export async function heapSample(pid: number, lines: readonly string[], ms = 10_000): Promise<HeapSample> {
  const from = lines.length;
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = lines.slice(from).find((l) => l.startsWith('heap-probe '));
    if (hit !== undefined) return JSON.parse(hit.split(' ').slice(2).join(' ')) as HeapSample;
    if (Date.now() > deadline) throw new Error(`no heap-probe line from pid ${pid} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
