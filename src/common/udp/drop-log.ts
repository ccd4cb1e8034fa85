import type { UdpDropReason, UdpObserver } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';

/** At most one drop summary line per this many ms per service. */
const DROP_LOG_INTERVAL_MS = 5000;

/**
 * The UdpObserver a service's UDP parts get: reports to the metrics (when enabled) and logs
 * dropped datagrams as one warning per interval with the counts by reason, so an overloaded
 * tunnel is visible in the log without a line per datagram.
 */
export function udpObserverWithLog(metrics: UdpObserver | undefined, log: Logger): UdpObserver {
  let pending: Partial<Record<UdpDropReason, number>> = {};
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    log.warn({ dropped: pending }, 'udp: datagrams dropped');
    pending = {};
  };
  return {
    sessionOpened: () => metrics?.sessionOpened(),
    sessionClosed: () => metrics?.sessionClosed(),
    dropped: (reason) => {
      metrics?.dropped(reason);
      pending[reason] = (pending[reason] ?? 0) + 1;
      if (timer === undefined) {
        timer = setTimeout(flush, DROP_LOG_INTERVAL_MS);
        timer.unref();
      }
    },
  };
}
