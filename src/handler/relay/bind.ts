import type { Conn, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import type { BindRule } from '../../bind/policy.js';
import { serveMuxBindRequest } from '../../bind/request.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import { addrFeature, encodeRelayResponse } from '../../proto/relay/codec.js';
import { STATUS_FORBIDDEN, STATUS_OK, STATUS_SERVICE_UNAVAILABLE } from '../../proto/relay/constants.js';

export interface RelayBindOptions {
  enabled: boolean;
  rules: readonly BindRule[];
  publicAddr?: string | undefined;
  mux: Partial<SmuxConfig>;
  lingerMs?: number | undefined;
}

/**
 * Relay BIND over TCP (x/handler/relay/bind.go): listen strictly on the address, answer OK with the
 * bound address (GOST: the listener's own address, e.g. `[::]:2222`; `publicAddr` replaces the host),
 * then run an smux session on this stream as its CLIENT, one stream per accepted peer, each starting
 * with a relay response whose address feature names the peer. Refusals: bind disabled `01 03`
 * (GOST's), address not allowed `01 03` (beyond GOST), listen failed `01 05` (GOST's).
 */
export async function handleRelayBind(
  conn: Conn,
  address: string,
  ctx: HandlerContext,
  log: Logger,
  opts: RelayBindOptions,
): Promise<void> {
  const ok = (host: string, port: number): Buffer =>
    encodeRelayResponse(STATUS_OK, [addrFeature(host, port)]);
  await serveMuxBindRequest(conn, address, ctx, log.child({ cmd: 'bind', bind: address }), opts, {
    name: 'relay',
    forbidden: () => encodeRelayResponse(STATUS_FORBIDDEN),
    listenFailed: () => encodeRelayResponse(STATUS_SERVICE_UNAVAILABLE),
    ok,
    replyHost: (boundHost) => boundHost,
    peerHeader: ok,
  });
}
