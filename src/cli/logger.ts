import { pino } from 'pino';
import type { Logger } from '../core/logger.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/**
 * The process logger: one JSON line per event on stderr (stdout stays free for `-O` output), as pino
 * writes them. Level from `-D`/`-DD`, the config's `log.level`, or GOST_LOGGER_LEVEL; default info.
 */
export function createLogger(level: string | undefined): Logger {
  const chosen = (level ?? process.env['GOST_LOGGER_LEVEL'] ?? 'info').toLowerCase();
  return pino(
    { level: LEVELS.has(chosen) ? chosen : 'info', base: { pid: process.pid } },
    pino.destination({ fd: 2, sync: false }),
  );
}
