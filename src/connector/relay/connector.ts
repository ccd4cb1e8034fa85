import { parseHostPort, joinHostPort } from '../../common/addr.js';
import { ReadHeadError, readUntil } from '../../common/buffered-reader.js';
import { connectorHandshake } from '../../common/connector-handshake.js';
import { ProtocolError, TunnelError } from '../../core/errors.js';
import type { AuthInfo, BoundTunnel, Conn, ConnectContext, Connector, PacketConn } from '../../core/types.js';
import { RelayPacketConn } from '../../common/udp/relay-packet-conn.js';
import { UdpTunPacketConn } from '../../common/udp/tun-packet-conn.js';
import { MuxBindTunnel } from '../../bind/tunnel.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import {
  addrFeature,
  encodeRelayRequest,
  featureFacts,
  networkFeature,
  parseRelayResponse,
  userAuthFeature,
  type RelayFeature,
} from '../../proto/relay/codec.js';
import { CMD_BIND, CMD_CONNECT, MAX_HEAD_BYTES, STATUS_OK, statusText } from '../../proto/relay/constants.js';
import { RelayResponseConn } from './response-conn.js';

export interface RelayConnectorOptions {
  auth?: AuthInfo | undefined;
  /** Bound on handshakes that wait for a response, ms. */
  timeoutMs?: number | undefined;
  /** Wait for the CONNECT response before resolving (GOST `nodelay`). */
  noDelay?: boolean | undefined;
  mux?: Partial<SmuxConfig> | undefined;
}

const PEER_HEADER_TIMEOUT_MS = 15_000;

/**
 * GOST's `relay` connector (x/connector/relay). CONNECT: `01 01 FEALEN [user auth] addr`, written at
 * once; the response is read off the first bytes that come back (RelayResponseConn) unless
 * `nodelay`, because a GOST server sends it only with the target's first bytes. BIND (for rtcp):
 * `01 02 FEALEN [user auth] network(tcp) addr`, the response with the bound address, then the inner
 * smux session where every stream starts with a response naming the peer. UDP: connectUdp (to a
 * fixed target, or GOST's target-less association) and bindUdp (rudp).
 */
export class RelayConnector implements Connector {
  private readonly opts: RelayConnectorOptions;

  constructor(opts: RelayConnectorOptions = {}) {
    this.opts = opts;
  }

  private authFeatures(): RelayFeature[] {
    const { auth } = this.opts;
    return auth ? [userAuthFeature(auth.username, auth.password)] : [];
  }

  private readResponse(conn: Conn, ctx: ConnectContext) {
    return readUntil(conn, parseRelayResponse, {
      maxBytes: MAX_HEAD_BYTES,
      errorCode: 'ERR_RELAY_PROTOCOL',
      signal: ctx.signal,
      timeoutMs: this.opts.timeoutMs,
    });
  }

  connect(conn: Conn, network: 'tcp' | 'udp', target: string, ctx: ConnectContext): Promise<Conn> {
    return connectorHandshake(
      { conn, network, target, ctx, label: 'relay connector', mapError: (err) => mapError(err, target) },
      async () => {
        const hp = parseHostPort(target);
        if (!hp)
          throw new TunnelError('ERR_DIAL', `relay connector: invalid target ${JSON.stringify(target)}`);
        conn.write(
          encodeRelayRequest({
            cmd: CMD_CONNECT,
            udp: false,
            features: [...this.authFeatures(), addrFeature(hp.host, hp.port)],
          }),
        );
        if (!this.opts.noDelay) return new RelayResponseConn(conn, target);
        const { status } = (await this.readResponse(conn, ctx)).value;
        if (status !== STATUS_OK)
          throw new TunnelError('ERR_RELAY_STATUS', `relay: ${target}: ${status} ${statusText(status)}`);
        return conn;
      },
    );
  }

  /**
   * UDP through the relay node (GOST's Connect with network udp). With a fixed `target` (udp://
   * forwarding): `01 81 FEALEN network(udp) [user auth] addr`, then datagrams framed `LEN(2, BE)
   * data` both ways; the response heads what comes back (a GOST server sends it with the first
   * datagram), so it is not awaited unless `nodelay`. Without a target (a socks5 front end's UDP
   * ASSOCIATE or UDP-TUN): GOST's UDP association, a BIND|UDP on an empty address (see bindUdp),
   * after which every datagram names its own destination.
   */
  async connectUdp(conn: Conn, ctx: ConnectContext, target?: string): Promise<PacketConn> {
    if (target === undefined) return (await this.udpBind(conn, '', ctx, 'relay udp association')).packets;
    let packets: PacketConn | undefined;
    await connectorHandshake(
      // The carrier is a stream (network tcp); the UDP is inside it.
      {
        conn,
        network: 'tcp',
        target,
        ctx,
        label: 'relay connector',
        mapError: (err) => mapError(err, target),
      },
      async () => {
        const hp = parseHostPort(target);
        if (!hp || hp.host === '')
          throw new TunnelError('ERR_DIAL', `relay connector: invalid UDP target ${JSON.stringify(target)}`);
        conn.write(
          encodeRelayRequest({
            cmd: CMD_CONNECT,
            udp: true,
            features: [networkFeature('udp'), ...this.authFeatures(), addrFeature(hp.host, hp.port)],
          }),
        );
        if (this.opts.noDelay) {
          const { status } = (await this.readResponse(conn, ctx)).value;
          if (status !== STATUS_OK)
            throw new TunnelError('ERR_RELAY_STATUS', `relay: ${target}: ${status} ${statusText(status)}`);
        }
        packets = new RelayPacketConn(conn, {
          peer: target,
          expectResponse: !this.opts.noDelay,
          log: ctx.log,
        });
      },
    );
    if (packets === undefined) throw new TunnelError('ERR_DIAL', 'relay connector: no UDP channel');
    return packets;
  }

  /**
   * rudp over relay (GOST's bindUDP): asks the node to receive UDP on `addr` for us. The stream
   * then carries every remote peer's datagrams, each naming the peer, and our answers, each naming
   * its peer (UDP-TUN framing, as SOCKS5 0xF3).
   */
  bindUdp(conn: Conn, addr: string, ctx: ConnectContext): Promise<{ bound: string; packets: PacketConn }> {
    return this.udpBind(conn, addr, ctx, 'relay udp bind');
  }

  /**
   * `01 82 FEALEN [user auth] network(udp) addr` (the empty address of an association is sent, as
   * GOST does, as an empty domain with port 0), then the response naming the bound address.
   */
  private async udpBind(
    conn: Conn,
    address: string,
    ctx: ConnectContext,
    label: string,
  ): Promise<{ bound: string; packets: PacketConn }> {
    const hp = address === '' ? { host: '', port: 0 } : parseHostPort(address);
    if (!hp) {
      conn.destroy();
      throw new TunnelError('ERR_BIND', `${label}: invalid address ${JSON.stringify(address)}`);
    }
    let bound = '';
    const carrier = await connectorHandshake(
      { conn, network: 'tcp', target: address, ctx, label, mapError: (err) => mapError(err, address) },
      async () => {
        conn.write(
          encodeRelayRequest({
            cmd: CMD_BIND,
            udp: true,
            features: [...this.authFeatures(), networkFeature('udp'), addrFeature(hp.host, hp.port)],
          }),
        );
        const res = (await this.readResponse(conn, ctx)).value;
        if (res.status !== STATUS_OK)
          throw new TunnelError(
            'ERR_BIND',
            `${label} on ${address || ':0'} refused: ${res.status} ${statusText(res.status)}`,
          );
        const a = featureFacts(res.features).addresses[0];
        bound = a ? joinHostPort(a.host, a.port) : address;
        return conn;
      },
    );
    ctx.log.debug({ bound }, `${label} OK`);
    return { bound, packets: new UdpTunPacketConn(carrier, ctx.log) };
  }

  async bind(conn: Conn, network: 'tcp' | 'udp', address: string, ctx: ConnectContext): Promise<BoundTunnel> {
    let tunnel: BoundTunnel | undefined;
    await connectorHandshake(
      { conn, network, target: address, ctx, label: 'relay bind', mapError: (err) => mapError(err, address) },
      async () => {
        const hp = parseHostPort(address);
        if (!hp) throw new TunnelError('ERR_BIND', `relay bind: invalid address ${JSON.stringify(address)}`);
        conn.write(
          encodeRelayRequest({
            cmd: CMD_BIND,
            udp: false,
            features: [...this.authFeatures(), networkFeature('tcp'), addrFeature(hp.host, hp.port)],
          }),
        );
        const res = (await this.readResponse(conn, ctx)).value;
        if (res.status !== STATUS_OK)
          throw new TunnelError(
            'ERR_BIND',
            `relay bind on ${address} refused: ${res.status} ${statusText(res.status)}`,
          );
        const bound = featureFacts(res.features).addresses[0];
        tunnel = new MuxBindTunnel(conn, {
          addr: bound ? joinHostPort(bound.host, bound.port) : address,
          mux: this.opts.mux ?? {},
          log: ctx.log,
          backlog: ctx.backlog,
          readPeer: async (stream) => {
            const peer = (
              await readUntil(stream, parseRelayResponse, {
                maxBytes: MAX_HEAD_BYTES,
                errorCode: 'ERR_RELAY_PROTOCOL',
                timeoutMs: PEER_HEADER_TIMEOUT_MS,
              })
            ).value;
            if (peer.status !== STATUS_OK)
              throw new TunnelError('ERR_BIND', `peer response ${statusText(peer.status)}`);
            const a = featureFacts(peer.features).addresses[0];
            return { host: a?.host ?? '', port: a?.port ?? 0 };
          },
        });
      },
    );
    if (tunnel === undefined) throw new TunnelError('ERR_BIND', 'relay bind: no tunnel');
    return tunnel;
  }
}

function mapError(err: unknown, target: string): Error {
  if (err instanceof ReadHeadError) {
    if (err.reason === 'timeout')
      return new TunnelError('ERR_DIAL_TIMEOUT', `relay connector: handshake for ${target} timed out`, {
        cause: err,
      });
    if (err.reason === 'aborted') return err;
    return new ProtocolError('ERR_RELAY_PROTOCOL', `relay connector: ${err.message}`, { cause: err });
  }
  return err instanceof Error ? err : new TunnelError('ERR_DIAL', String(err));
}
