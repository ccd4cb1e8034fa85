/**
 * Every UDP association or bind a handler serves for a client (SOCKS5 UDP ASSOCIATE and UDP-TUN,
 * relay UDP CONNECT and UDP BIND) holds a UDP socket or a tunnel, so each is counted twice: against
 * the session that carries the request (one mws session must not take the whole process's share)
 * and against the process. A refusal is answered with the protocol's failure reply; the session and
 * its other streams carry on.
 */
import type { Conn, CountedLimit, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { endGracefully } from '../conn-io.js';
import { DEFAULT_LIMITS, limitWarner } from '../limits.js';

/** The `limit` label of a session's UDP associations (listener `udp.maxPerSession`). */
export const UDP_PER_SESSION = 'udp_associations_per_session';
/** The `limit` label of the process's UDP associations (`GOST_TS_MAX_UDP_ASSOCIATIONS`). */
export const UDP_PER_PROCESS = 'udp_associations_per_process';

// The process-wide count: one per process (each worker of `-workers n` has its own).
const warnProcess = limitWarner();
let processMax: number = DEFAULT_LIMITS.udpPerProcess;
let processInUse = 0;

/** Sets the process-wide bound (0: none); associations already open keep counting. */
export function setProcessUdpLimit(max: number): void {
  processMax = Math.max(0, max);
}

const carriers = new WeakMap<Conn, CountedLimit>();

/** Marks `stream` as carried by the session whose UDP associations `limit` counts. */
export function attachSessionUdpLimit(stream: Conn, limit: CountedLimit): void {
  carriers.set(stream, limit);
}

/** The session count `conn` was marked with (HandlerContext.sessionUdp), if any. */
export function sessionUdpLimitOf(conn: Conn): CountedLimit | undefined {
  return carriers.get(conn);
}

/**
 * Runs `serve` as one UDP association of the connection `ctx` serves, counted against its session
 * and the process until `serve` settles. Over either bound, `serve` does not run: the client gets
 * `reply()` (its protocol's failure) and FIN, the log a warning naming the limit (rate-limited, as
 * every limit's), and the service a handler failure.
 */
export async function asUdpAssociation(
  conn: Conn,
  ctx: HandlerContext,
  log: Logger,
  what: string,
  reply: () => Buffer,
  serve: () => Promise<void>,
): Promise<void> {
  const session = ctx.sessionUdp;
  let refused: { name: string; max: number } | undefined;
  if (session !== undefined && !session.tryAcquire()) refused = session;
  else if (processMax > 0 && processInUse >= processMax) {
    session?.release();
    refused = { name: UDP_PER_PROCESS, max: processMax };
    warnProcess(log, UDP_PER_PROCESS, processMax);
  }
  if (refused !== undefined) {
    log.debug({ limit: refused.name, max: refused.max }, `${what} refused: ${refused.name} reached`);
    ctx.fail?.(`${what} refused: ${refused.name}`);
    await endGracefully(conn, reply());
    return;
  }
  processInUse += 1;
  try {
    await serve();
  } finally {
    processInUse -= 1;
    session?.release();
  }
}
