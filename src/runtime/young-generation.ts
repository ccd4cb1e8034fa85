/**
 * Stops V8's young generation from growing past a cap, set while the process runs.
 *
 * Why: V8 doubles the young generation after collections in which many objects survived, up to
 * 2 × 16 MiB, and keeps it committed once grown. A tunnel's burst of new connections grows it, and
 * RSS stays ~30 MB higher from then on (fault runs: V8's committed heap 15.7 → 45.5 MB for the
 * same 10 MB in use). Its short-lived objects (a few per relayed chunk) fit in far less. The heap
 * size flags only take effect at start-up, but the growth factor is read at each growth, so the
 * cap is enforced by setting it to 1 once the young generation has reached the cap.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const MiB = 1024 * 1024;

/** Default cap on the young generation's new space (both semi-spaces), in bytes. */
export const DEFAULT_YOUNG_GENERATION = 4 * MiB;

/** Bytes V8 has committed to the young generation's new space now. */
export function newSpaceBytes(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/** Stops watching and hands the growth factor back to V8. */
export type YoungGenerationHandle = () => void;

/**
 * Lets the young generation grow as V8 decides until its new space holds `capBytes`, then stops
 * its growth. 0 leaves V8's own limit.
 */
export function capYoungGeneration(capBytes: number = DEFAULT_YOUNG_GENERATION): YoungGenerationHandle {
  if (capBytes <= 0) return () => {};
  let capped = false;
  const enforce = (): void => {
    if (capped || newSpaceBytes() < capBytes) return;
    capped = true;
    observer.disconnect();
    v8.setFlagsFromString('--semi-space-growth-factor=1');
  };
  const observer = new PerformanceObserver(enforce);
  observer.observe({ entryTypes: ['gc'] });
  enforce();
  return () => {
    observer.disconnect();
    if (capped) v8.setFlagsFromString('--semi-space-growth-factor=2');
  };
}
