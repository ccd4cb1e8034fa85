import type { Conn, HandlerContext, UdpObserver } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import type { BindRule } from '../../bind/policy.js';
import { serveMuxBindRequest } from '../../bind/request.js';
import { serveUdpBindRequest } from '../../bind/udp-request.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import { addrFeature, encodeRelayResponse } from '../../proto/relay/codec.js';
import { STATUS_FORBIDDEN, STATUS_OK, STATUS_SERVICE_UNAVAILABLE } from '../../proto/relay/constants.js';

export interface RelayBindOptions {
  enabled: boolean;
  rules: readonly BindRule[];
  publicAddr?: string | undefined;
  mux: Partial<SmuxConfig>;
  lingerMs?: number | undefined;
  /** UDP BIND: largest datagram relayed (`udp.bufferSize`), bytes. */
  udpBufferSize: number;
  observer?: UdpObserver | undefined;
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

/**
 * Relay BIND with the UDP flag (x/handler/relay/bind.go bindUDP): GOST's rudp server side and the
 * target-less UDP association of its relay connector. Binds a UDP socket at the address, answers OK
 * with the bound address, then the stream carries datagrams in the UDP-TUN framing (SOCKS5 UDP
 * header, RSV = data length, FRAG = 0xFF) both ways. Refusals: bind disabled `01 03` (GOST's),
 * address not allowed `01 03` (beyond GOST), bind failed `01 05` (GOST closes without a response).
 */
export async function handleRelayUdpBind(
  conn: Conn,
  address: string,
  ctx: HandlerContext,
  log: Logger,
  opts: RelayBindOptions,
): Promise<void> {
  await serveUdpBindRequest(
    conn,
    address,
    ctx,
    log.child({ cmd: 'bind', network: 'udp', bind: address }),
    {
      enabled: opts.enabled,
      rules: opts.rules,
      publicAddr: opts.publicAddr,
      udpBufferSize: opts.udpBufferSize,
      observer: opts.observer,
    },
    {
      name: 'relay: UDP BIND',
      forbidden: () => encodeRelayResponse(STATUS_FORBIDDEN),
      listenFailed: () => encodeRelayResponse(STATUS_SERVICE_UNAVAILABLE),
      ok: (host, port) => encodeRelayResponse(STATUS_OK, [addrFeature(host, port)]),
    },
  );
}
