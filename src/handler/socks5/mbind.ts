import { isIP } from 'node:net';
import type { Conn, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import type { BindRule } from '../../bind/policy.js';
import { serveMuxBindRequest } from '../../bind/request.js';
import { unmapIPv4 } from '../../bind/server.js';
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
  // GOST reports the host of the client connection's local address, not the listener's.
  const local = conn.localAddress ? unmapIPv4(conn.localAddress) : '';
  await serveMuxBindRequest(conn, address, ctx, log.child({ cmd: 'mbind', bind: address }), opts, {
    name: 'socks5',
    forbidden: () => encodeReply(REP_NOT_ALLOWED),
    listenFailed: () => encodeReply(REP_GENERAL_FAILURE),
    ok: (host, port) => encodeReply(REP_SUCCEEDED, host, port),
    replyHost: (boundHost) => (isIP(local) ? local : boundHost),
    peerHeader: (h, p) => (opts.compat ? null : encodeReply(REP_SUCCEEDED, h, p)),
  });
}
