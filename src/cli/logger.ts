import { openSync } from 'node:fs';
import { pino } from 'pino';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { LogConfig } from '../config/types.js';

function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  return { type: err.name, ...(typeof code === 'string' ? { code } : {}), message: err.message };
}

const LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);

/** A warning about the log settings themselves, written once the logger exists. */
export type LogSetupWarning = [message: string, fields: Record<string, unknown>];

/** Where `log.output` sends lines: a file descriptor, or nowhere. */
function outputFd(output: string | undefined): number | 'none' {
  const o = output ?? 'stderr';
  if (o === 'stderr' || o === '') return 2;
  if (o === 'stdout') return 1;
  if (o === 'none') return 'none';
  try {
    return openSync(o, 'a');
  } catch (err) {
    throw new ConfigError(
      'log.output',
      `cannot open ${o}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/**
 * The process logger: one JSON line per event, as pino writes them, on stderr by default (stdout
 * stays free for `-O` output). Level from `-D`/`-DD`, the config's `log.level`, or
 * GOST_LOGGER_LEVEL; default info. `log.output` is `stderr`, `stdout`, `none` or a file (appended).
 * `log.format` other than `json` (GOST's `text`) is not supported: a warning says so. `base` adds
 * fields to every line (the worker's number when there are several).
 */
export function createLogger(
  cfg: LogConfig | undefined,
  base?: Record<string, unknown>,
): { log: Logger; warnings: LogSetupWarning[] } {
  const warnings: LogSetupWarning[] = [];
  const chosen = (cfg?.level ?? process.env['GOST_LOGGER_LEVEL'] ?? 'info').toLowerCase();
  if (!LEVELS.has(chosen)) warnings.push([`unknown log level "${chosen}"; using info`, { level: chosen }]);
  const format = cfg?.format;
  if (format !== undefined && format !== '' && format !== 'json') {
    warnings.push([`log.format "${format}" is not supported; writing JSON lines`, { format }]);
  }
  const fd = outputFd(cfg?.output);
  const log = pino(
    {
      level: fd === 'none' ? 'silent' : LEVELS.has(chosen) ? chosen : 'info',
      base: { pid: process.pid, ...base },
      // Our messages already carry their causes; pino's default would append each cause again.
      serializers: { err: serializeError },
    },
    pino.destination({ fd: fd === 'none' ? 2 : fd, sync: false }),
  );
  return { log, warnings };
}
