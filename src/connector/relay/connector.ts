import { parseHostPort, joinHostPort } from '../../common/addr.js';
import { ReadHeadError, readUntil } from '../../common/buffered-reader.js';
import { connectorHandshake } from '../../common/connector-handshake.js';
import { ProtocolError, TunnelError } from '../../core/errors.js';
import type { AuthInfo, BoundTunnel, Conn, ConnectContext, Connector, PacketConn } from '../../core/types.js';
import { RelayPacketConn } from '../../common/udp/relay-packet-conn.js';
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
 * smux session where every stream starts with a response naming the peer.
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
   * UDP to one fixed `target` (GOST's Connect with network udp): `01 81 FEALEN network(udp)
   * [user auth] addr`, then datagrams framed `LEN(2, BE) data` both ways; the response heads what
   * comes back (a GOST server sends it with the first datagram), so it is not awaited unless
   * `nodelay`. GOST's target-less form (a UDP association, BIND|UDP) is not offered: without a
   * target (a socks5 front end's UDP) this rejects, naming the problem.
   */
  async connectUdp(conn: Conn, ctx: ConnectContext, target?: string): Promise<PacketConn> {
    let packets: PacketConn | undefined;
    const dst = target ?? '';
    await connectorHandshake(
      // The carrier is a stream (network tcp); the UDP is inside it.
      {
        conn,
        network: 'tcp',
        target: dst,
        ctx,
        label: 'relay connector',
        mapError: (err) => mapError(err, dst),
      },
      async () => {
        const hp = target === undefined ? undefined : parseHostPort(target);
        if (!hp || hp.host === '')
          throw new TunnelError(
            'ERR_DIAL',
            target === undefined
              ? 'relay connector: UDP needs a fixed target (udp:// forwarding); use socks5 for UDP with per-datagram destinations'
              : `relay connector: invalid UDP target ${JSON.stringify(target)}`,
          );
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
            throw new TunnelError('ERR_RELAY_STATUS', `relay: ${dst}: ${status} ${statusText(status)}`);
        }
        packets = new RelayPacketConn(conn, { peer: dst, expectResponse: !this.opts.noDelay, log: ctx.log });
      },
    );
    if (packets === undefined) throw new TunnelError('ERR_DIAL', 'relay connector: no UDP channel');
    return packets;
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
