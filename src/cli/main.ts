#!/usr/bin/env node
/**
 * gost-ts command line: argv → config → runtime. The only code that reads argv and the environment,
 * installs signal handlers or exits the process.
 */
import { createRequire } from 'node:module';
import { ConfigError, TunnelError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { buildConfigFromArgs, helpText, parseArgs } from './args.js';
import { toJson, toYaml } from '../config/print.js';
import type { LoadOptions } from '../config/decode.js';
import { silentLogger } from '../core/logger.js';
import { buildRuntime } from '../config/build.js';
import { createLogger } from './logger.js';
import { runDemo } from './demo.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Config } from '../config/types.js';
import { nativeXor } from '../transport/websocket/native-xor.js';
import { installGcHeadroom } from '../runtime/gc-headroom.js';
import { capYoungGeneration } from '../runtime/young-generation.js';
import { installAllocatorTrim } from '../runtime/allocator-trim.js';
import { readEnvironment, type Environment } from './environment.js';
import cluster from 'node:cluster';
import { resolveWorkers } from '../config/workers.js';
import { reportReady, runPrimary, workerSlot } from './workers.js';
import { setProcessUdpLimit } from '../common/udp/association-limits.js';

const require = createRequire(import.meta.url);
const VERSION = (require('../../package.json') as { version: string }).version;

function fail(message: string): never {
  process.stderr.write(`gost-ts: ${message}\n`);
  process.exit(1);
}

/** ws masks client frames in JavaScript unless the native bufferutil loads; it doubles upload speed. */
function checkBufferutil(log: Logger): void {
  if (nativeXor !== undefined) log.debug('bufferutil loaded: native WebSocket masking');
  else log.warn('bufferutil not available: WebSocket masking runs in JavaScript (slower uploads)');
}

/**
 * SIGTERM/SIGINT: stop accepting, let open connections finish for the grace period, reset what is
 * left, exit 0. A second signal resets everything and exits at once.
 */
function installShutdown(runtime: Runtime, log: Logger, graceMs: number): (signal: string) => void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.info({ signal }, 'second signal: resetting open connections and exiting now');
      void runtime.close(0);
      setImmediate(() => process.exit(0));
      return;
    }
    stopping = true;
    log.info({ signal, graceMs }, 'shutting down');
    const force = setTimeout(() => process.exit(0), graceMs + 5000);
    force.unref();
    void runtime.close(graceMs).then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return stop;
}

/**
 * `-O` prints only configs that would run: everything is built (nothing listens) and thrown away;
 * the builder's warnings join the config's.
 */
async function checkBuilds(
  config: Config,
  warnings: Array<[string, Record<string, unknown>]>,
): Promise<void> {
  const at =
    (level: string) =>
    (fields: unknown, message?: unknown): void => {
      if (level === 'warn' && typeof message === 'string')
        warnings.push([message, typeof fields === 'object' && fields !== null ? { ...fields } : {}]);
    };
  const log: Logger = { ...silentLogger, warn: at('warn'), child: () => log };
  await buildRuntime(config, { log });
}

async function main(argv: string[]): Promise<void> {
  let environment: Environment;
  try {
    environment = readEnvironment(process.env);
  } catch (err) {
    fail((err as Error).message);
  }
  const { gcHeadroom: headroom, stopGraceMs: graceMs, youngGeneration, mallocTrim } = environment;
  setProcessUdpLimit(environment.maxUdpAssociations);
  if (headroom > 0) installGcHeadroom(headroom);
  capYoungGeneration(youngGeneration);
  if (argv[0] === 'demo') {
    process.exitCode = await runDemo(argv.slice(1));
    return;
  }
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write(`${helpText()}\n`);
    return;
  }
  if (args.version) {
    process.stdout.write(`gost-ts ${VERSION} (node ${process.version})\n`);
    return;
  }
  if (args.services.length === 0 && args.configs.length === 0) {
    fail('nothing to run: give -L and/or -C (see --help)');
  }
  // Warnings found while reading the config wait until it is known to be valid and a logger exists.
  const warnings: Array<[string, Record<string, unknown>]> = [];
  const report: LoadOptions = {
    onWarning: (message, fields) => warnings.push([message, fields]),
    onIgnoredKey: (path) =>
      warnings.push(['GOST config key not supported by gost-ts; ignored', { key: path }]),
  };
  const config = await buildConfigFromArgs(args, report);
  if (args.output !== undefined) {
    await checkBuilds(config, warnings);
    for (const [message, fields] of warnings)
      process.stderr.write(`gost-ts: warning: ${message} ${JSON.stringify(fields)}\n`);
    process.stdout.write(args.output === 'json' ? toJson(config) : toYaml(config));
    return;
  }
  const workers = resolveWorkers(config.workers);
  const slot = workerSlot();
  // Several workers: every log line says which one wrote it (0 = the supervising primary).
  const { log, warnings: logWarnings } = createLogger(
    config.log,
    workers > 1 || slot !== undefined ? { worker: slot ?? 0 } : undefined,
  );
  warnings.unshift(...logWarnings);
  process.on('uncaughtException', (err) =>
    log.error({ err: err.message, stack: err.stack }, 'uncaught exception (kept running)'),
  );
  process.on('unhandledRejection', (err) =>
    log.error({ err: String(err) }, 'unhandled rejection (kept running)'),
  );
  if (workers > 1 && cluster.isPrimary) {
    // The config's warnings once, from the primary (each worker still logs what its build finds).
    for (const [message, fields] of warnings) log.warn(fields, message);
    const status = await runPrimary({
      count: workers,
      log,
      metrics: config.metrics,
      version: VERSION,
      stopGraceMs: graceMs,
    });
    process.exit(status);
  }
  checkBufferutil(log);
  const MB = 1024 * 1024;
  if (headroom > 0) log.debug({ mib: headroom / MB }, 'GC headroom above the live heap');
  else log.debug("GC headroom off: V8's own heap growing");
  if (youngGeneration > 0) log.debug({ mib: youngGeneration / MB }, 'young generation capped');
  else log.debug("young generation: V8's own limit");
  if (!mallocTrim) log.debug('allocator trim off: freed memory stays with the allocator');
  else {
    const trimming = installAllocatorTrim((r) =>
      log.debug(
        {
          reason: r.reason,
          rssBeforeMB: +(r.rssBefore / MB).toFixed(1),
          rssAfterMB: +(r.rssAfter / MB).toFixed(1),
        },
        'returned freed memory to the system',
      ),
    );
    if (trimming !== undefined)
      log.debug('allocator trim on: freed memory goes back to the system after full GCs');
    else
      log.debug('allocator trim unavailable (no glibc malloc_trim): freed memory stays with the allocator');
  }
  if (config.api !== undefined)
    log.warn({ addr: config.api.addr }, "GOST's web API is not implemented by gost-ts; -api/api: ignored");
  // prom-client is loaded only when metrics are on (it costs ~10 MB of memory).
  const metrics =
    config.metrics !== undefined
      ? new (await import('../metrics/prometheus.js')).PrometheusMetrics({
          sessionCounts: () => runtime.sessionCounts(),
        })
      : undefined;
  const runtime = await buildRuntime(config, { log, observer: metrics });
  if (slot === undefined) for (const [message, fields] of warnings) log.warn(fields, message);
  await runtime.start();
  if (slot !== undefined) {
    // A worker: the primary serves the metrics of all workers and logs the start.
    metrics?.shareWithPrimary();
    const stop = installShutdown(runtime, log, graceMs);
    process.on('disconnect', () => stop('primary gone'));
    const services = runtime.services.map((s) => `${s.name}@${s.address()}`);
    log.info({ version: VERSION, services }, 'worker started');
    reportReady(services);
    return;
  }
  if (metrics !== undefined && config.metrics !== undefined) {
    try {
      await metrics.serve(config.metrics.addr, config.metrics.path ?? '/metrics', log);
    } catch (err) {
      await runtime.close();
      fail(`metrics: cannot listen on ${config.metrics.addr}: ${(err as Error).message}`);
    }
  }
  installShutdown(runtime, log, graceMs);
  log.info(
    { version: VERSION, services: runtime.services.map((s) => `${s.name}@${s.address()}`) },
    'gost-ts started',
  );
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof TunnelError) fail(err.message);
  fail(err instanceof Error ? err.message : String(err));
});
