import { parseHostPort, joinHostPort } from '../../common/addr.js';
import { readUntil } from '../../common/buffered-reader.js';
import { TunnelError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Conn, TunnelBacklog } from '../../core/types.js';
import { MuxBindTunnel } from '../../bind/tunnel.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import { encodeRequest, parseReply } from '../../proto/socks5/codec.js';
import {
  CMD_GOST_MUX_BIND,
  MAX_REQUEST_BYTES,
  REP_SUCCEEDED,
  replyText,
} from '../../proto/socks5/constants.js';

/** How long an inner stream may take to deliver its peer reply. */
const PEER_HEADER_TIMEOUT_MS = 15_000;

/**
 * `05 F2 00 ATYP ADDR PORT` for `address` (GOST's gosocks5 Addr: an empty host is IPv4 0.0.0.0),
 * the bind reply, then the inner smux session (this end accepts). Each inner stream begins with
 * `05 00 00 ATYP peer`. `read` bounds the bind reply.
 */
export async function socks5MuxBind(
  conn: Conn,
  address: string,
  opts: {
    mux: Partial<SmuxConfig>;
    log: Logger;
    read: typeof readUntil;
    timeoutMs?: number | undefined;
    signal?: AbortSignal | undefined;
    backlog?: TunnelBacklog | undefined;
  },
): Promise<MuxBindTunnel> {
  const hp = parseHostPort(address);
  if (!hp) throw new TunnelError('ERR_BIND', `socks5 bind: invalid address ${JSON.stringify(address)}`);
  conn.write(encodeRequest(CMD_GOST_MUX_BIND, hp.host === '' ? '0.0.0.0' : hp.host, hp.port));
  const reply = (
    await opts.read(conn, parseReply, {
      maxBytes: MAX_REQUEST_BYTES,
      errorCode: 'ERR_SOCKS_PROTOCOL',
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
    })
  ).value;
  if (reply.rep !== REP_SUCCEEDED) {
    throw new TunnelError(
      'ERR_BIND',
      `socks5 bind on ${address} refused: ${replyText(reply.rep)} (0x${reply.rep.toString(16).padStart(2, '0')})`,
    );
  }
  const bound = joinHostPort(reply.bind.host, reply.bind.port);
  return new MuxBindTunnel(conn, {
    addr: bound,
    mux: opts.mux,
    log: opts.log,
    backlog: opts.backlog,
    readPeer: async (stream) => {
      const peer = (
        await readUntil(stream, parseReply, {
          maxBytes: MAX_REQUEST_BYTES,
          errorCode: 'ERR_SOCKS_PROTOCOL',
          timeoutMs: PEER_HEADER_TIMEOUT_MS,
        })
      ).value;
      if (peer.rep !== REP_SUCCEEDED) throw new TunnelError('ERR_BIND', `peer reply ${replyText(peer.rep)}`);
      return { host: peer.bind.host, port: peer.bind.port };
    },
  });
}
