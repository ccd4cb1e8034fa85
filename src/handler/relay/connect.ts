import type { Conn, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { relay } from '../../common/relay.js';
import { encodeRelayResponse } from '../../proto/relay/codec.js';
import { STATUS_BAD_REQUEST, STATUS_OK } from '../../proto/relay/constants.js';

/**
 * Dials `target` and relays; the OK response goes out as soon as the dial succeeded (GOST holds it
 * back until the target's first bytes unless `nodelay`; the bytes are the same). A failed dial is
 * answered `failStatus` (GOST: `07` for CONNECT, `06` for a fixed target).
 */
export async function connectAndRelay(
  conn: Conn,
  target: string,
  ctx: HandlerContext,
  log: Logger,
  opts: { failStatus: number; lingerMs?: number | undefined },
): Promise<boolean> {
  if (target === '') {
    log.info('relay: CONNECT without a target address');
    ctx.fail?.('relay: CONNECT without a target address');
    await endGracefully(conn, encodeRelayResponse(STATUS_BAD_REQUEST));
    return true;
  }
  let upstream: Conn;
  try {
    upstream = await ctx.router.dial('tcp', target, { signal: ctx.signal, log });
  } catch (err) {
    log.info({ err: toError(err).message, dst: target }, 'relay: dial failed');
    ctx.fail?.('relay: dial failed');
    await endGracefully(conn, encodeRelayResponse(opts.failStatus));
    return false;
  }
  upstream.on('error', (err: Error) => log.debug({ err: err.message, dst: target }, 'relay: upstream error'));
  try {
    await writeAsync(conn, encodeRelayResponse(STATUS_OK));
  } catch {
    upstream.destroy();
    return true;
  }
  const res = await relay(conn, upstream, { signal: ctx.signal, lingerMs: opts.lingerMs });
  log.debug({ dst: target, up: res.aToB, down: res.bToA }, 'relay: closed');
  return true;
}
