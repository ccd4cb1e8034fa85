import { availableParallelism } from 'node:os';
import { ConfigError } from '../core/errors.js';

/** The `workers` setting: a count of service processes, or `auto` for one per core. */
export type WorkersSetting = number | 'auto';

/** More processes than this is a typo, not a plan (each one holds its own sessions and heap). */
export const MAX_WORKERS = 256;

/**
 * Reads `workers` from a config value or the `-workers` flag: a whole number from 1 to
 * {@link MAX_WORKERS}, or `auto`. `path` names the key in the error.
 */
export function parseWorkers(value: unknown, path: string): WorkersSetting {
  if (typeof value === 'string' && value.trim().toLowerCase() === 'auto') return 'auto';
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value.trim())
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_WORKERS) {
    throw new ConfigError(
      path,
      `expected a number of worker processes from 1 to ${String(MAX_WORKERS)} or "auto", got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** The number of processes to run: `auto` is one per core the process may use; absent is 1. */
export function resolveWorkers(setting: WorkersSetting | undefined, cores = availableParallelism()): number {
  if (setting === undefined) return 1;
  return setting === 'auto' ? Math.max(1, cores) : setting;
}
