/**
 * Keeps V8's full-GC trigger well above the live heap of a process that moves its data in Buffers.
 *
 * Why: V8 counts Buffer backing stores allocated since the last mark-compact against the
 * old-generation limit, yet frees short-lived ones only in a scavenge, which it starts once about
 * 32 MiB of young backing stores have piled up. After a mark-compact the limit is set to the old
 * generation times a growing factor (about 2.4 here); a tunnel's old generation is ~11 MiB, so the
 * limit sits only ~15 MiB above it and every 32 MiB of relayed data crosses it: back-to-back
 * mark-compacts, measured at 80 per 2 GiB relayed, doubling the CPU per byte and adding 3–7 ms
 * pauses. Sizing the growing factor so the limit stays a fixed headroom above the old generation
 * ends that cycle, at no memory cost for idle processes (the limit is only a trigger; nothing is
 * allocated up front).
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const MiB = 1024 * 1024;

/** Twice V8's young backing-store trigger: room for one scavenge period plus promoted buffers. */
export const DEFAULT_GC_HEADROOM = 64 * MiB;

/** Large heaps grow at least this much (V8's own factor ranges over 10–300 %). */
const MIN_PERCENT = 100;

/** V8's flag is a 32-bit integer; 1 TiB above a 1 MiB heap is as far as it is taken. */
const MAX_PERCENT = 100_000_000;

/** Spaces outside V8's old generation (the limit is computed on the rest). */
const NOT_OLD = new Set(['new_space', 'new_large_object_space', 'read_only_space']);

/**
 * The `--heap-growing-percent` that puts the next mark-compact trigger at least `headroom` bytes
 * above an old generation of `oldBytes` (never below a doubling); 0, V8's own heuristics, when
 * `headroom` is 0.
 */
export function growingPercentFor(oldBytes: number, headroom: number = DEFAULT_GC_HEADROOM): number {
  if (headroom <= 0) return 0;
  const percent = Math.ceil((headroom / Math.max(oldBytes, MiB)) * 100);
  return Math.min(MAX_PERCENT, Math.max(MIN_PERCENT, percent));
}

/** Bytes in V8's old generation now (live objects plus garbage not yet collected). */
export function oldGenerationBytes(): number {
  let bytes = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (!NOT_OLD.has(space.space_name)) bytes += space.space_used_size;
  }
  return bytes;
}

/** Stops the tuning and hands the growing factor back to V8. */
export type GcHeadroomHandle = () => void;

/**
 * Sets the growing factor for the current old generation and re-sizes it after every collection.
 * V8 applies the factor to the old generation as it is at the end of the next mark-compact, and no
 * JavaScript runs in between, so the factor is sized ahead, after scavenges as well: were it only
 * sized after mark-compacts, an old generation that grew from 2 MB to 66 MB between two of them
 * would get the 2 MB factor (×33) and a trigger near 2 GB. The old generation in use is at least
 * what survives the next mark-compact, so that trigger lands no further above the survivors than
 * `headroom` or a doubling, whichever is more (and a full `headroom` above them when little of what
 * was in use was garbage).
 */
export function installGcHeadroom(headroom: number = DEFAULT_GC_HEADROOM): GcHeadroomHandle {
  let current = -1;
  const apply = (): void => {
    const percent = growingPercentFor(oldGenerationBytes(), headroom);
    if (percent === current) return;
    current = percent;
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  };
  apply();
  const observer = new PerformanceObserver(apply);
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    observer.disconnect();
    v8.setFlagsFromString('--heap-growing-percent=0');
  };
}
