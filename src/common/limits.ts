import type { Logger } from '../core/logger.js';

/**
 * The built-in bounds on what one peer can make a process hold. Each has an option (named where it
 * is parsed), the metric `gost_ts_limit_hits_total{limit}` and a warning in the log when it is hit.
 */
export const DEFAULT_LIMITS = Object.freeze({
  /** Streams open at once in one smux session (listener `mux.maxStreams`). */
  streamsPerSession: 16_384,
  /** Streams of one session that have not sent a byte yet (listener `mux.maxPendingStreams`). */
  pendingStreamsPerSession: 1_024,
  /** WebSocket handshakes in progress on one listener (`ws.maxHandshakes`). */
  handshakesPerListener: 1_024,
  /** smux sessions on one listener (`maxSessions`). */
  sessionsPerListener: 4_096,
  /** Peer connections a reverse tunnel holds before the service takes them (rtcp `backlog`). */
  bindBacklog: 1_024,
  /** UDP sessions of one service, for UDP handlers to use with `Limit`. */
  udpSessions: 4_096,
  /**
   * UDP associations and binds (SOCKS5 UDP ASSOCIATE / UDP-TUN, relay UDP CONNECT / UDP BIND)
   * open at once over one mws session (listener `udp.maxPerSession`). Each holds a UDP socket on
   * this server; a client's normal use is one per application association or per peer of its
   * `udp`/`rudp` listener, which is a handful to a few dozen at once, so 256 leaves ample room while
   * one session can take at most a sixteenth of the process's budget below.
   */
  udpPerSession: 256,
  /**
   * The same, over every session and connection of the process (`GOST_TS_MAX_UDP_ASSOCIATIONS`).
   * An association holds one or two sockets (file descriptors, ports from the ephemeral range of
   * 28,232 on Linux), so 4096 keeps them well inside both.
   */
  udpPerProcess: 4_096,
});

/** Called each time a limit refuses something. */
export type LimitReporter = (limit: string, max: number) => void;

const hits = new Map<string, number>();

/** How often each limit was hit in this process, by limit name (read by the metrics exporter). */
export function limitHitCounts(): ReadonlyMap<string, number> {
  return hits;
}

/** Counts one hit of `limit` for the metric. */
export function countLimitHit(limit: string): void {
  hits.set(limit, (hits.get(limit) ?? 0) + 1);
}

/**
 * A reporter that counts every hit for the metric and logs a warning for the first hit of each
 * limit, then at most once per `intervalMs` with the number refused meanwhile: a flood must not
 * turn into a flood of log lines.
 */
export function limitReporter(log: Logger, intervalMs = 10_000): LimitReporter {
  const warn = limitWarner(intervalMs);
  return (limit, max) => warn(log, limit, max);
}

/**
 * limitReporter for a limit shared by many callers with loggers of their own (a process-wide one):
 * the log is given at each hit, the rate of warnings is kept across them.
 */
export function limitWarner(intervalMs = 10_000): (log: Logger, limit: string, max: number) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (log, limit, max) => {
    countLimitHit(limit);
    const now = Date.now();
    const seen = last.get(limit);
    if (seen !== undefined && now - seen.at < intervalMs) {
      seen.suppressed += 1;
      return;
    }
    const refused = (seen?.suppressed ?? 0) + 1;
    last.set(limit, { at: now, suppressed: 0 });
    log.warn({ limit, max, refused }, `limit reached: ${limit} (${max}); refusing`);
  };
}

/**
 * A count of things in use, bounded by `max` (0 or less: unbounded). `tryAcquire()` takes one or
 * reports the hit and returns false; every successful acquire is paired with one `release()`.
 */
export class Limit {
  private used = 0;

  constructor(
    readonly name: string,
    readonly max: number,
    private readonly onHit?: LimitReporter,
  ) {}

  get inUse(): number {
    return this.used;
  }

  tryAcquire(): boolean {
    if (this.max > 0 && this.used >= this.max) {
      if (this.onHit !== undefined) this.onHit(this.name, this.max);
      else countLimitHit(this.name);
      return false;
    }
    this.used += 1;
    return true;
  }

  release(): void {
    if (this.used > 0) this.used -= 1;
  }
}
