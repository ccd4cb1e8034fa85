import { isIP } from 'node:net';
import type { Conn, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { toError } from '../../core/errors.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { relay } from '../../common/relay.js';
import { encodeReply } from '../../proto/socks5/codec.js';
import { REP_NETWORK_UNREACHABLE, REP_SUCCEEDED } from '../../proto/socks5/constants.js';

/**
 * CONNECT: dial through the router; success `05 00 00` + BND = the local address of the outbound
 * Conn when it is an IP, else 0.0.0.0:0; dial failure `05 03 00 01 0…0`. Then relay.
 */
export async function handleConnect(
  conn: Conn,
  target: string,
  ctx: HandlerContext,
  log: Logger,
  lingerMs: number | undefined,
): Promise<void> {
  log.debug({ dst: target }, 'socks5: CONNECT');
  let upstream: Conn;
  try {
    upstream = await ctx.router.dial('tcp', target, { signal: ctx.signal, log });
  } catch (err) {
    log.info({ err: toError(err), dst: target }, 'socks5: dial failed');
    ctx.fail?.('socks5: dial failed');
    await endGracefully(conn, encodeReply(REP_NETWORK_UNREACHABLE));
    return;
  }
  upstream.on('error', (err: Error) => log.debug({ err, dst: target }, 'socks5: upstream error'));
  const bindHost = upstream.localAddress && isIP(upstream.localAddress) ? upstream.localAddress : '0.0.0.0';
  const bindPort = bindHost === '0.0.0.0' ? 0 : (upstream.localPort ?? 0);
  try {
    await writeAsync(conn, encodeReply(REP_SUCCEEDED, bindHost, bindPort));
  } catch (err) {
    log.debug({ err: toError(err) }, 'socks5: client went away before the reply');
    ctx.fail?.('socks5: client went away before the reply');
    upstream.destroy();
    return;
  }
  const res = await relay(conn, upstream, { signal: ctx.signal, lingerMs });
  log.debug({ dst: target, up: res.aToB, down: res.bToA, err: res.error }, 'socks5: tunnel closed');
}
