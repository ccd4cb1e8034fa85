import { joinHostPort, parseHostPort } from '../../common/addr.js';
import { UdpTunPacketConn } from '../../common/udp/tun-packet-conn.js';
import { ReadHeadError, readUntil, type HeadParser, type Parsed } from '../../common/buffered-reader.js';
import { ProtocolError, TunnelError } from '../../core/errors.js';
import type {
  AuthInfo,
  BoundTunnel,
  ClientTlsOptions,
  Conn,
  ConnectContext,
  Connector,
  PacketConn,
} from '../../core/types.js';
import { connectorHandshake } from '../../common/connector-handshake.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import { encodeRequest, parseReply } from '../../proto/socks5/codec.js';
import {
  CMD_CONNECT,
  CMD_GOST_UDP_TUN,
  MAX_REQUEST_BYTES,
  REP_SUCCEEDED,
  replyText,
} from '../../proto/socks5/constants.js';
import { negotiateMethod } from './negotiate.js';
import { socks5MuxBind } from './bind.js';

export interface Socks5ConnectorOptions {
  /** Username/password (RFC 1929, or inside TLS with method 0x82). */
  auth?: AuthInfo | undefined;
  /** Bound on the whole handshake, ms (metadata `timeout`). Default none. */
  timeoutMs?: number | undefined;
  /** `notls`: do not offer GOST's TLS methods 0x80/0x82 (GOST offers them by default). */
  noTLS?: boolean | undefined;
  /** TLS policy for methods 0x80/0x82 (not verified unless `secure`, as GOST). */
  tls?: ClientTlsOptions | undefined;
  /** The node address, for SNI and TLS verification. */
  nodeAddr?: string | undefined;
  /** The inner smux session of a multiplexed bind (`mux.*` keys). */
  mux?: Partial<SmuxConfig> | undefined;
}

/**
 * GOST's `socks5` connector. Greeting `05 N 00 [02] 80 [82]` as GOST's (without the TLS methods
 * when `notls`); when the server picks 0x80/0x82 the rest of the stream runs inside TLS. Host names
 * are sent as ATYP 3, never resolved locally. Each step waits for the server's answer before the
 * next write. `bind()` is GOST's MUX BIND (0xF2) for `rtcp`. Resolves with the Conn positioned
 * after the reply; on failure destroys `conn` and rejects (ERR_SOCKS_AUTH, ERR_SOCKS_REPLY,
 * ERR_SOCKS_PROTOCOL, ERR_TLS, ERR_BIND, ERR_DIAL_TIMEOUT, ERR_ABORTED).
 */
export class Socks5Connector implements Connector {
  private readonly opts: Socks5ConnectorOptions;

  constructor(opts: Socks5ConnectorOptions = {}) {
    this.opts = opts;
  }

  private reader(ctx: ConnectContext): <T>(c: Conn, parse: HeadParser<T>) => Promise<Parsed<T>> {
    const deadline =
      this.opts.timeoutMs !== undefined && this.opts.timeoutMs > 0
        ? Date.now() + this.opts.timeoutMs
        : undefined;
    return (c, parse) =>
      readUntil(c, parse, {
        maxBytes: MAX_REQUEST_BYTES,
        errorCode: 'ERR_SOCKS_PROTOCOL',
        signal: ctx.signal,
        timeoutMs: deadline === undefined ? undefined : Math.max(1, deadline - Date.now()),
      });
  }

  private negotiate(
    conn: Conn,
    ctx: ConnectContext,
    read: ReturnType<Socks5Connector['reader']>,
  ): Promise<Conn> {
    return negotiateMethod(
      conn,
      {
        auth: this.opts.auth,
        noTLS: this.opts.noTLS ?? false,
        tls: this.opts.tls,
        nodeAddr: this.opts.nodeAddr ?? '',
        signal: ctx.signal,
      },
      read,
    );
  }

  connect(conn: Conn, network: 'tcp' | 'udp', target: string, ctx: ConnectContext): Promise<Conn> {
    const read = this.reader(ctx);
    return connectorHandshake(
      { conn, network, target, ctx, label: 'socks5 connector', mapError: (err) => mapError(err, target) },
      async () => {
        const hp = parseHostPort(target);
        if (!hp)
          throw new TunnelError('ERR_DIAL', `socks5 connector: invalid target ${JSON.stringify(target)}`);
        const request = encodeRequest(CMD_CONNECT, hp.host, hp.port);
        const c = await this.negotiate(conn, ctx, read);
        c.write(request);
        const reply = (await read(c, parseReply)).value;
        if (reply.rep !== REP_SUCCEEDED) {
          throw new TunnelError(
            'ERR_SOCKS_REPLY',
            `socks5: ${replyText(reply.rep)} (0x${reply.rep.toString(16).padStart(2, '0')})`,
          );
        }
        return c;
      },
    );
  }

  async bind(conn: Conn, network: 'tcp' | 'udp', address: string, ctx: ConnectContext): Promise<BoundTunnel> {
    const read = this.reader(ctx);
    let tunnel: BoundTunnel | undefined;
    await connectorHandshake(
      {
        conn,
        network,
        target: address,
        ctx,
        label: 'socks5 bind',
        mapError: (err) => mapError(err, address),
      },
      async () => {
        const c = await this.negotiate(conn, ctx, read);
        const deadlineMs = this.opts.timeoutMs;
        tunnel = await socks5MuxBind(c, address, {
          mux: this.opts.mux ?? {},
          log: ctx.log,
          read: readUntil,
          timeoutMs: deadlineMs,
          signal: ctx.signal,
          backlog: ctx.backlog,
        });
      },
    );
    if (tunnel === undefined) throw new TunnelError('ERR_BIND', 'socks5 bind: no tunnel');
    return tunnel;
  }
  /**
   * GOST's UDP-TUN (command 0xF3, `05 F3 00 01 0.0.0.0:0`): after a success reply the stream carries
   * datagrams, each naming its destination (connector/socks/v5 connectUDP without `relay=udp`).
   */
  async connectUdp(conn: Conn, ctx: ConnectContext): Promise<PacketConn> {
    const r = await this.udpTun(conn, ctx, '0.0.0.0', 0, 'udp');
    return new UdpTunPacketConn(r.conn, ctx.log);
  }

  /**
   * rudp: UDP-TUN with the address to listen on (`:5353` is sent as 0.0.0.0:5353); GOST's server
   * serves it as a UDP bind (needs `bind=true`) and sends every peer's datagrams down the stream.
   */
  async bindUdp(
    conn: Conn,
    addr: string,
    ctx: ConnectContext,
  ): Promise<{ bound: string; packets: PacketConn }> {
    const hp = parseHostPort(addr);
    if (!hp) {
      conn.destroy();
      throw new TunnelError('ERR_DIAL', `socks5 connector: invalid bind address ${JSON.stringify(addr)}`);
    }
    const r = await this.udpTun(conn, ctx, hp.host === '' ? '0.0.0.0' : hp.host, hp.port, addr);
    return { bound: joinHostPort(r.host, r.port), packets: new UdpTunPacketConn(r.conn, ctx.log) };
  }

  /** Negotiation, then a UDP-TUN request; resolves with the carrier and the bound address replied. */
  private async udpTun(
    conn: Conn,
    ctx: ConnectContext,
    host: string,
    port: number,
    target: string,
  ): Promise<{ conn: Conn; host: string; port: number }> {
    const read = this.reader(ctx);
    const bound = { host: '', port: 0 };
    const carrier = await connectorHandshake(
      { conn, network: 'tcp', target, ctx, label: 'socks5 udp', mapError: (err) => mapError(err, target) },
      async () => {
        const c = await this.negotiate(conn, ctx, read);
        c.write(encodeRequest(CMD_GOST_UDP_TUN, host, port));
        const reply = (await read(c, parseReply)).value;
        if (reply.rep !== REP_SUCCEEDED) {
          throw new TunnelError(
            'ERR_SOCKS_REPLY',
            `socks5: ${replyText(reply.rep)} (0x${reply.rep.toString(16).padStart(2, '0')})`,
          );
        }
        bound.host = reply.bind.host;
        bound.port = reply.bind.port;
        return c;
      },
    );
    return { conn: carrier, ...bound };
  }
}

function mapError(err: unknown, target: string): Error {
  if (err instanceof ReadHeadError) {
    if (err.reason === 'timeout') {
      return new TunnelError('ERR_DIAL_TIMEOUT', `socks5 connector: handshake for ${target} timed out`, {
        cause: err,
      });
    }
    if (err.reason === 'aborted') return err;
    return new ProtocolError('ERR_SOCKS_PROTOCOL', `socks5 connector: ${err.message}`, { cause: err });
  }
  return err instanceof Error ? err : new TunnelError('ERR_DIAL', String(err));
}
