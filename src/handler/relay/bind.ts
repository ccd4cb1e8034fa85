import type { Conn, HandlerContext } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { endGracefully, writeAsync } from '../../common/conn-io.js';
import { splitHostPort } from '../../common/addr.js';
import { checkBindAllowed, type BindRule } from '../../bind/policy.js';
import { bindServerAddress, describeListenError, listenForBind, serveMuxBind } from '../../bind/server.js';
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
  const blog = log.child({ cmd: 'bind', bind: address });
  if (!opts.enabled) {
    blog.warn('relay: BIND is disabled (set bind=true to allow it)');
    ctx.fail?.('relay: BIND is disabled');
    await endGracefully(conn, encodeRelayResponse(STATUS_FORBIDDEN));
    return;
  }
  const { host, port } = splitHostPort(address);
  const refused = checkBindAllowed(opts.rules, host, port);
  if (refused !== undefined) {
    blog.warn({ reason: refused }, 'relay: BIND refused');
    ctx.fail?.('relay: BIND refused');
    await endGracefully(conn, encodeRelayResponse(STATUS_FORBIDDEN));
    return;
  }
  let server;
  try {
    server = await listenForBind(address);
  } catch (err) {
    blog.warn({ reason: describeListenError(err as Error, address) }, 'relay: BIND failed');
    ctx.fail?.('relay: BIND failed');
    await endGracefully(conn, encodeRelayResponse(STATUS_SERVICE_UNAVAILABLE));
    return;
  }
  const bound = bindServerAddress(server);
  const replyHost = opts.publicAddr || bound.host;
  try {
    await writeAsync(conn, encodeRelayResponse(STATUS_OK, [addrFeature(replyHost, bound.port)]));
  } catch {
    server.close();
    return;
  }
  blog.info({ port: bound.port, reply: `${replyHost}:${bound.port}` }, 'relay: bind OK');
  await serveMuxBind(conn, {
    server,
    mux: opts.mux,
    log: blog,
    signal: ctx.signal,
    lingerMs: opts.lingerMs,
    peerHeader: (h, p) => encodeRelayResponse(STATUS_OK, [addrFeature(h, p)]),
  });
}
