/**
 * Hands the memory glibc's allocator keeps after V8 frees dead Buffers back to the system.
 *
 * Why: relayed data lives in Buffers whose backing stores come from malloc. When a collection
 * frees them, glibc keeps the freed chunks: it returns memory only from the top of its heap, and a
 * few live allocations above a hole pin everything below. A burst (a session's downloads, a fault
 * that drops a session with data in flight) so raises RSS for good: 100 packet-drop fault cycles
 * left a client at 95 MB, of which `malloc_trim(0)` returned 24 MB. Right after a full collection
 * is when there is most to return, so each one is followed by a trim (at most one a second). V8
 * may go minutes without a full collection while garbage Buffers pile up (gc-headroom.ts lets up
 * to 64 MiB of them wait), so a slow check collects and trims once RSS has grown by 8 MiB since
 * the last trim: RSS read at any moment then stays within what 30 s of traffic leaves behind.
 *
 * `malloc_trim` is reached through koffi (a foreign-function library); without glibc (musl,
 * macOS) or without koffi this does nothing.
 */
import { createRequire } from 'node:module';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

/** Fewest milliseconds between two trims: each walks every arena with its lock held. */
export const MIN_TRIM_INTERVAL_MS = 1000;

/** How often RSS is compared with its level after the last trim. */
export const CHECK_INTERVAL_MS = 30_000;

/** Growth of RSS since the last trim that makes the periodic check collect and trim. */
export const CHECK_GROWTH_BYTES = 8 * 1024 * 1024;

type TrimFunction = (pad: number) => number;

/**
 * glibc's `malloc_trim`, or undefined where there is none: not Linux, no `libc.so.6` (musl names
 * its C library differently and has no malloc_trim), or koffi missing.
 */
export function loadMallocTrim(): TrimFunction | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const require = createRequire(import.meta.url);
    const koffi = require('koffi') as {
      load(path: string): { func(signature: string): TrimFunction };
    };
    return koffi.load('libc.so.6').func('int malloc_trim(size_t pad)');
  } catch {
    return undefined;
  }
}

/**
 * V8's full collection. Node has no API for it: `--expose-gc` is turned on just long enough to
 * take `gc` from a fresh context (the application's own global stays without it).
 */
export function loadFullCollection(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  v8.setFlagsFromString('--no-expose-gc');
  return gc;
}

/** What one trim did, for the log. */
export interface TrimReport {
  reason: 'gc' | 'growth';
  rssBefore: number;
  rssAfter: number;
}

/** Stops trimming. */
export type AllocatorTrimHandle = () => void;

export interface AllocatorTrimOptions {
  /** The trim itself; default glibc's malloc_trim. */
  trim?: TrimFunction | undefined;
  /** How often RSS is compared with its level after the last trim (default CHECK_INTERVAL_MS). */
  checkIntervalMs?: number;
  /** Growth since the last trim that makes the check collect and trim (default CHECK_GROWTH_BYTES). */
  checkGrowthBytes?: number;
}

/**
 * Trims after every full collection (deferred so that trims stay MIN_TRIM_INTERVAL_MS apart), and
 * collects and trims whenever RSS has grown by `checkGrowthBytes` since the last trim, checked
 * every `checkIntervalMs`. Returns undefined, and installs nothing, where malloc_trim is
 * unavailable.
 */
export function installAllocatorTrim(
  onTrim?: (r: TrimReport) => void,
  o: AllocatorTrimOptions = {},
): AllocatorTrimHandle | undefined {
  const trim = 'trim' in o ? o.trim : loadMallocTrim();
  if (trim === undefined) return undefined;
  const collect = loadFullCollection();
  const growth = o.checkGrowthBytes ?? CHECK_GROWTH_BYTES;
  let lastTrim = 0;
  let rssAfterLast = process.memoryUsage.rss();
  let deferred: NodeJS.Timeout | undefined;

  const run = (reason: TrimReport['reason']): void => {
    const rssBefore = process.memoryUsage.rss();
    trim(0);
    lastTrim = Date.now();
    rssAfterLast = process.memoryUsage.rss();
    onTrim?.({ reason, rssBefore, rssAfter: rssAfterLast });
  };
  const request = (reason: TrimReport['reason']): void => {
    if (deferred !== undefined) return;
    const wait = lastTrim + MIN_TRIM_INTERVAL_MS - Date.now();
    if (wait <= 0) return run(reason);
    deferred = setTimeout(() => {
      deferred = undefined;
      run(reason);
    }, wait);
    deferred.unref();
  };

  const observer = new PerformanceObserver((list) => {
    const major = list
      .getEntries()
      .some(
        (e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      );
    if (major) request('gc');
  });
  observer.observe({ entryTypes: ['gc'] });
  const check = setInterval(() => {
    if (process.memoryUsage.rss() - rssAfterLast < growth || deferred !== undefined) return;
    collect();
    request('growth');
  }, o.checkIntervalMs ?? CHECK_INTERVAL_MS);
  check.unref();

  return () => {
    observer.disconnect();
    clearInterval(check);
    if (deferred !== undefined) clearTimeout(deferred);
  };
}
