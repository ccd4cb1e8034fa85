/**
 * Keeps V8's full-GC trigger well above the live heap of a process that moves its data in Buffers.
 *
 * Why: V8 counts Buffer backing stores allocated since the last mark-compact against the
 * old-generation limit, yet frees short-lived ones only in a scavenge, which it starts once about
 * 32 MiB of young backing stores have piled up. After a mark-compact the limit is set to the live
 * heap times a growing factor (about 2.4 here); a tunnel's live heap is ~11 MiB, so the limit sits
 * only ~15 MiB above it and every 32 MiB of relayed data crosses it: back-to-back mark-compacts,
 * measured at 80 per 2 GiB relayed, doubling the CPU per byte and adding 3–7 ms pauses. Sizing the
 * growing factor so the limit stays a fixed headroom above the live heap ends that cycle, at no
 * memory cost for idle processes (the limit is only a trigger; nothing is allocated up front).
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';

const MiB = 1024 * 1024;

/** Twice V8's young backing-store trigger: room for one scavenge period plus promoted buffers. */
export const DEFAULT_GC_HEADROOM = 64 * MiB;

/** Large heaps grow at least this much (V8's own factor ranges over 10–300 %). */
const MIN_PERCENT = 100;

/**
 * The `--heap-growing-percent` that puts the next mark-compact trigger at least `headroom` bytes
 * above a live heap of `heapUsed` bytes (never below a doubling); 0, V8's own heuristics, when
 * `headroom` is 0.
 */
export function growingPercentFor(heapUsed: number, headroom: number = DEFAULT_GC_HEADROOM): number {
  if (headroom <= 0) return 0;
  return Math.max(MIN_PERCENT, Math.ceil((headroom / Math.max(heapUsed, MiB)) * 100));
}

/** Stops the tuning and hands the growing factor back to V8. */
export type GcHeadroomHandle = () => void;

/**
 * Sets the growing factor for the current heap and re-sizes it after every mark-compact (the
 * observer runs after the collection, so a new value applies from the next one on).
 */
export function installGcHeadroom(headroom: number = DEFAULT_GC_HEADROOM): GcHeadroomHandle {
  let current = -1;
  const apply = (): void => {
    const percent = growingPercentFor(v8.getHeapStatistics().used_heap_size, headroom);
    if (percent === current) return;
    current = percent;
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  };
  apply();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        apply();
        return;
      }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    v8.setFlagsFromString('--heap-growing-percent=0');
  };
}
