import { isIP } from 'node:net';
import type { Conn, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { splitHostPort } from '../../common/addr.js';
import { checkBindAllowed, type BindRule } from '../../bind/policy.js';
import {
  describeListenError,
  listenForBind,
  serveMuxBind,
  unmapIPv4,
  bindServerAddress,
} from '../../bind/server.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import { encodeReply } from '../../proto/socks5/codec.js';
import { REP_GENERAL_FAILURE, REP_NOT_ALLOWED, REP_SUCCEEDED } from '../../proto/socks5/constants.js';

export interface MuxBindOptions {
  /** `bind`: off by default, as GOST (refused `05 02`). */
  enabled: boolean;
  /** `bind.allow` rules (beyond GOST). */
  rules: readonly BindRule[];
  /** `publicAddr`: the host reported in the bind reply instead of this server's address. */
  publicAddr?: string | undefined;
  /** `comp`: no peer reply on inner streams (GOST v2 clients). */
  compat: boolean;
  mux: Partial<SmuxConfig>;
  lingerMs?: number | undefined;
}

/**
 * GOST's MUX BIND (command 0xF2, x/handler/socks/v5/mbind.go): listen on the requested address
 * (strictly: a port in use fails), reply `05 00 00` + this server's address (the host of the
 * client connection's local address, or `publicAddr`) with the bound port, then run an smux session
 * on this stream as its CLIENT, one stream per accepted peer, each starting `05 00 00` + the peer.
 * Refusals: bind disabled `05 02` (GOST's), address not allowed `05 02` (beyond GOST), listen failed
 * `05 01` (GOST's); each with a log line naming the cause.
 */
export async function handleMuxBind(
  conn: Conn,
  address: string,
  ctx: HandlerContext,
  log: Logger,
  opts: MuxBindOptions,
): Promise<void> {
  const blog = log.child({ cmd: 'mbind', bind: address });
  if (!opts.enabled) {
    blog.warn('socks5: BIND is disabled (set bind=true to allow it)');
    ctx.fail?.('socks5: BIND is disabled');
    await endGracefully(conn, encodeReply(REP_NOT_ALLOWED));
    return;
  }
  const { host, port } = splitHostPort(address);
  const refused = checkBindAllowed(opts.rules, host, port);
  if (refused !== undefined) {
    blog.warn({ reason: refused }, 'socks5: BIND refused');
    ctx.fail?.('socks5: BIND refused');
    await endGracefully(conn, encodeReply(REP_NOT_ALLOWED));
    return;
  }
  let server;
  try {
    server = await listenForBind(address);
  } catch (err) {
    blog.warn({ reason: describeListenError(err as Error, address) }, 'socks5: BIND failed');
    ctx.fail?.('socks5: BIND failed');
    await endGracefully(conn, encodeReply(REP_GENERAL_FAILURE));
    return;
  }
  const bound = bindServerAddress(server);
  const local = conn.localAddress ? unmapIPv4(conn.localAddress) : '';
  const replyHost = opts.publicAddr || (isIP(local) ? local : bound.host);
  try {
    await writeAsync(conn, encodeReply(REP_SUCCEEDED, replyHost, bound.port));
  } catch {
    server.close();
    return;
  }
  blog.info({ port: bound.port, reply: `${replyHost}:${bound.port}` }, 'socks5: bind OK');
  await serveMuxBind(conn, {
    server,
    mux: opts.mux,
    log: blog,
    signal: ctx.signal,
    lingerMs: opts.lingerMs,
    peerHeader: (h, p) => (opts.compat ? null : encodeReply(REP_SUCCEEDED, h, p)),
  });
}
