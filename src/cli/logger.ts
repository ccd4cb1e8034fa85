import { pino } from 'pino';
import type { Logger } from '../core/logger.js';

function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  return { type: err.name, ...(typeof code === 'string' ? { code } : {}), message: err.message };
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/**
 * The process logger: one JSON line per event on stderr (stdout stays free for `-O` output), as pino
 * writes them. Level from `-D`/`-DD`, the config's `log.level`, or GOST_LOGGER_LEVEL; default info.
 * `base` adds fields to every line (the worker's number when there are several).
 */
export function createLogger(level: string | undefined, base?: Record<string, unknown>): Logger {
  const chosen = (level ?? process.env['GOST_LOGGER_LEVEL'] ?? 'info').toLowerCase();
  return pino(
    {
      level: LEVELS.has(chosen) ? chosen : 'info',
      base: { pid: process.pid, ...base },
      // Our messages already carry their causes; pino's default would append each cause again.
      serializers: { err: serializeError },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}
