import type { Conn, HandlerContext } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { endGracefully, writeAsync } from '../common/conn-io.js';
import { splitHostPort } from '../common/addr.js';
import type { SmuxConfig } from '../mux/smux/index.js';
import { checkBindAllowed, type BindRule } from './policy.js';
import { bindServerAddress, describeListenError, listenForBind, serveMuxBind } from './server.js';

/** What a multiplexed BIND request needs from the protocol that carries it (SOCKS5 0xF2, relay BIND). */
export interface MuxBindProtocol {
  /** Log and failure prefix: `socks5`, `relay`. */
  name: string;
  /** Reply when bind is off or the address is outside `bind.allow`. */
  forbidden: () => Buffer;
  /** Reply when the listen failed (port in use, privileged). */
  listenFailed: () => Buffer;
  /** Reply naming the bound address. */
  ok: (host: string, port: number) => Buffer;
  /** The host reported in the reply, given the bound listener's (before `publicAddr`). */
  replyHost: (boundHost: string) => string;
  /** Header of each inner stream naming the peer (null: none). */
  peerHeader: (host: string, port: number) => Buffer | null;
}

export interface MuxBindPolicy {
  enabled: boolean;
  rules: readonly BindRule[];
  publicAddr?: string | undefined;
  mux: Partial<SmuxConfig>;
  lingerMs?: number | undefined;
}

/**
 * Refuses a bind request: a warning naming the cause (`fields.reason`), a handler failure, then
 * the protocol's reply and FIN. `prefix` heads both, e.g. `relay: BIND`.
 */
export function bindRefuser(
  conn: Conn,
  ctx: HandlerContext,
  blog: Logger,
  prefix: string,
): (what: string, reply: Buffer, fields?: object) => Promise<void> {
  return async (what, reply, fields) => {
    if (fields === undefined) blog.warn(`${prefix} ${what}`);
    else blog.warn(fields, `${prefix} ${what}`);
    ctx.fail?.(`${prefix} ${what.split(' (')[0] ?? what}`);
    await endGracefully(conn, reply);
  };
}

/**
 * Serves one multiplexed BIND: checks `bind` and `bind.allow`, listens strictly on the address,
 * replies with the bound address (or `publicAddr`), then runs the inverted smux session on this
 * stream. Every refusal is a reply, a log line naming the cause and a handler failure.
 */
export async function serveMuxBindRequest(
  conn: Conn,
  address: string,
  ctx: HandlerContext,
  blog: Logger,
  policy: MuxBindPolicy,
  proto: MuxBindProtocol,
): Promise<void> {
  const refuse = bindRefuser(conn, ctx, blog, `${proto.name}: BIND`);
  if (!policy.enabled) return refuse('is disabled (set bind=true to allow it)', proto.forbidden());
  const { host, port } = splitHostPort(address);
  const refused = checkBindAllowed(policy.rules, host, port);
  if (refused !== undefined) return refuse('refused', proto.forbidden(), { reason: refused });
  let server;
  try {
    server = await listenForBind(address);
  } catch (err) {
    const reason = describeListenError(err as Error, address);
    return refuse('failed', proto.listenFailed(), { reason });
  }
  const bound = bindServerAddress(server);
  const replyHost = policy.publicAddr || proto.replyHost(bound.host);
  try {
    await writeAsync(conn, proto.ok(replyHost, bound.port));
  } catch {
    server.close();
    return;
  }
  blog.info({ port: bound.port, reply: `${replyHost}:${bound.port}` }, `${proto.name}: bind OK`);
  await serveMuxBind(conn, {
    server,
    mux: policy.mux,
    log: blog,
    signal: ctx.signal,
    lingerMs: policy.lingerMs,
    peerHeader: proto.peerHeader,
  });
}
