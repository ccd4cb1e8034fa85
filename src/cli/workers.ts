/**
 * `workers` > 1: the services run in that many worker processes (node:cluster) sharing the
 * listening ports, and this process (the primary) only supervises them. The primary accepts each
 * TCP connection and hands it to the workers in turn (cluster's round-robin on Linux), so a
 * connection, and with it a whole WebSocket session and its smux streams, lives in one worker.
 *
 * The primary: forks the workers, logs `gost-ts started` once every one of them listens, forwards
 * SIGTERM/SIGINT to all of them and exits when they are gone, restarts a worker that dies on its own
 * (waiting longer after each quick crash), and serves the metrics of all workers added together.
 * A worker that exits before it ever listened means the config cannot run (a port in use, a bad
 * certificate): the primary then stops the others and exits with status 1.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import type { Logger } from '../core/logger.js';
import type { MetricsConfig } from '../config/types.js';

/** Environment variable that tells a worker its slot (1..N), for its log lines. */
export const WORKER_ENV = 'GOST_TS_WORKER';
/** Worker → primary: the worker's services listen. */
const READY = 'gost-ts:ready';
/** How long workers get beyond their own grace period after SIGTERM before they are killed (ms). */
const STOP_MARGIN_MS = 7000;
/** A worker that ran less than this before dying counts as a quick crash (ms). */
const QUICK_CRASH_MS = 10_000;
/** Restart delay after consecutive quick crashes: doubles from the first, up to the last (ms). */
const RESTART_DELAY_MS = { first: 250, max: 10_000 };

interface ReadyMessage {
  type: typeof READY;
  services: string[];
}

function isReady(msg: unknown): msg is ReadyMessage {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === READY;
}

/** The worker slot this process runs in, or undefined in a single-process run or the primary. */
export function workerSlot(): number | undefined {
  if (!cluster.isWorker) return undefined;
  const n = Number(process.env[WORKER_ENV]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** In a worker: tell the primary that this worker's services listen. */
export function reportReady(services: string[]): void {
  const msg: ReadyMessage = { type: READY, services };
  process.send?.(msg);
}

interface Slot {
  n: number;
  worker: Worker | undefined;
  ready: boolean;
  startedAt: number;
  quickCrashes: number;
}

export interface PrimaryOptions {
  count: number;
  log: Logger;
  metrics: MetricsConfig | undefined;
  /** Version string for the start line. */
  version: string;
  /** The workers' graceful-stop period (GOST_TS_STOP_GRACE), ms. */
  stopGraceMs?: number | undefined;
}

/**
 * Runs the primary until every worker has stopped; resolves with the process's exit status.
 * Call only when `cluster.isPrimary`.
 */
export function runPrimary(opts: PrimaryOptions): Promise<number> {
  const { log } = opts;
  const slots: Slot[] = Array.from({ length: opts.count }, (_, i) => ({
    n: i + 1,
    worker: undefined,
    ready: false,
    startedAt: 0,
    quickCrashes: 0,
  }));
  let stopping = false;
  let started = false;
  let exitStatus = 0;
  let metricsServer: { close(): Promise<void> } | undefined;
  let finish: (status: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));

  const fork = (slot: Slot): void => {
    const worker = cluster.fork({ [WORKER_ENV]: String(slot.n) });
    slot.worker = worker;
    slot.ready = false;
    slot.startedAt = Date.now();
    worker.on('message', (msg: unknown) => {
      if (!isReady(msg) || slot.worker !== worker) return;
      slot.ready = true;
      log.info({ slot: slot.n, workerPid: worker.process.pid }, 'worker listening');
      if (!started && slots.every((s) => s.ready)) {
        started = true;
        void onAllReady(msg.services);
      }
    });
    worker.on('exit', (code, signal) => {
      if (slot.worker !== worker) return;
      slot.worker = undefined;
      const wasReady = slot.ready;
      slot.ready = false;
      if (stopping) {
        if (slots.every((s) => s.worker === undefined)) void finishStop();
        return;
      }
      if (!wasReady) {
        log.error(
          { slot: slot.n, code, signal },
          'worker exited before its services listened: the config cannot run, stopping',
        );
        exitStatus = 1;
        stop('worker failed');
        return;
      }
      const lived = Date.now() - slot.startedAt;
      slot.quickCrashes = lived < QUICK_CRASH_MS ? slot.quickCrashes + 1 : 0;
      const delay =
        slot.quickCrashes === 0
          ? 0
          : Math.min(RESTART_DELAY_MS.max, RESTART_DELAY_MS.first * 2 ** (slot.quickCrashes - 1));
      log.warn({ slot: slot.n, code, signal, restartInMs: delay }, 'worker died, restarting it');
      const timer = setTimeout(() => {
        if (!stopping) fork(slot);
      }, delay);
      timer.unref();
    });
  };

  const onAllReady = async (services: string[]): Promise<void> => {
    if (opts.metrics !== undefined) {
      const { ClusterMetrics } = await import('../metrics/prometheus.js');
      const m = new ClusterMetrics();
      try {
        await m.serve(opts.metrics.addr, opts.metrics.path ?? '/metrics', log);
        metricsServer = m;
      } catch (err) {
        log.error({ addr: opts.metrics.addr, err: (err as Error).message }, 'metrics: cannot listen');
        exitStatus = 1;
        stop('metrics failed');
        return;
      }
    }
    log.info({ version: opts.version, workers: opts.count, services }, 'gost-ts started');
  };

  const finishStop = async (): Promise<void> => {
    await metricsServer?.close();
    finish(exitStatus);
  };

  const stop = (reason: string): void => {
    if (stopping) {
      // A second signal: the workers end at once too (theirs reset what is open and exit).
      for (const s of slots) s.worker?.process.kill('SIGTERM');
      return;
    }
    stopping = true;
    log.info({ reason, workers: slots.filter((s) => s.worker !== undefined).length }, 'shutting down');
    const live = slots.flatMap((s) => (s.worker === undefined ? [] : [s.worker]));
    if (live.length === 0) {
      void finishStop();
      return;
    }
    for (const w of live) w.process.kill('SIGTERM');
    const force = setTimeout(
      () => {
        for (const s of slots) s.worker?.process.kill('SIGKILL');
      },
      (opts.stopGraceMs ?? 0) + STOP_MARGIN_MS,
    );
    force.unref();
  };

  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  log.info({ workers: opts.count }, 'starting workers');
  for (const slot of slots) fork(slot);
  return done;
}
