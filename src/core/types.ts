import type { Duplex } from 'node:stream';
import type { Logger } from './logger.js';
import type { Metadata } from './metadata.js';

/**
 * A byte connection: a TCP or TLS socket, a WebSocket byte stream, an smux stream. Like Go's
 * net.Conn in GOST, every layer speaks this one shape, so handlers and connectors never know what
 * carries them. Whoever holds a Conn owns it: it must end or destroy it, and attach an 'error' listener.
 */
export type Conn = Duplex & {
  /** Best-effort peer address text for logs, `host:port`. */
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
  localAddress?: string | undefined;
  localPort?: number | undefined;
};

export interface AbortOptions {
  signal?: AbortSignal | undefined;
}

/** Username/password pair as GOST's `auth:` or `user:pass@`. */
export interface AuthInfo {
  username: string;
  password: string;
}

/** Checks credentials for handlers (HTTP Basic, SOCKS5 user/pass, SOCKS4 user id). */
export interface Authenticator {
  authenticate(username: string, password: string): boolean;
}

/** Server-side TLS material and policy, resolved from `tls:` / certFile / keyFile / caFile. */
export interface ServerTlsOptions {
  cert: string | Buffer;
  key: string | Buffer;
  /** When set, client certificates are required and verified against it. */
  ca?: string | Buffer | undefined;
}

/** Client-side TLS policy (`secure`, `serverName`, `caFile`, client certificate). */
export interface ClientTlsOptions {
  /** Verify the server certificate and host name (GOST: off by default). */
  secure: boolean;
  serverName?: string | undefined;
  ca?: string | Buffer | undefined;
  cert?: string | Buffer | undefined;
  key?: string | Buffer | undefined;
}

/** What a route tells a dialer: how to reach the node's address, and the context of the dial. */
export interface DialContext extends AbortOptions {
  log: Logger;
  /**
   * Opens a plain byte connection to `addr`: a TCP connect for the first hop, or a tunnel through the
   * earlier hops of the chain for later ones. A dialer builds its transport on top of it.
   */
  connect(addr: string, opts: AbortOptions): Promise<Conn>;
}

/**
 * A dialer (`tcp`, `tls`, `ws`, `mws`, ...) turns a node address into a Conn to that node. A
 * multiplexing dialer (mws) keeps one session per address and returns a new stream for each call.
 * The returned Conn is owned by the caller.
 */
export interface Dialer {
  dial(addr: string, ctx: DialContext): Promise<Conn>;
  /** Closes pooled sessions. */
  close(): Promise<void>;
}

export interface ConnectContext extends AbortOptions {
  log: Logger;
  /** For bind(): the bound between peers and the service (the rtcp listener's `backlog`). */
  backlog?: TunnelBacklog | undefined;
}

/**
 * How many peer connections a bound tunnel holds while their header is read or until the service
 * takes them; one more is refused and reported to `onLimit` (limit `bind_backlog`).
 */
export interface TunnelBacklog {
  max: number;
  onLimit?: ((limit: string, max: number) => void) | undefined;
}

/**
 * A connector (`http`, `socks5`, ...) asks the node at the other end of `conn` to connect onwards to
 * `target` (`host:port`). It resolves with the Conn to use from then on (usually `conn` itself). On
 * failure it destroys `conn` and rejects.
 */
export interface Connector {
  connect(conn: Conn, network: 'tcp' | 'udp', target: string, ctx: ConnectContext): Promise<Conn>;
  /**
   * Asks the node at the other end of `conn` to listen on `address` (`host:port`, `:2222`) on our
   * behalf, GOST's multiplexed BIND (socks5 command 0xF2, relay BIND). Connectors that cannot bind
   * leave it out. On failure destroys `conn` and rejects.
   */
  bind?(conn: Conn, network: 'tcp' | 'udp', address: string, ctx: ConnectContext): Promise<BoundTunnel>;
  /**
   * UDP through the node at the other end of `conn` (SOCKS5 UDP-TUN, relay's UDP association):
   * resolves with a datagram channel whose datagrams each name their own destination. `target`,
   * when the caller has one fixed destination (udp:// forwarding), lets a connector use a channel
   * to that target alone (relay UDP CONNECT).
   * Connectors without UDP leave it out.
   */
  connectUdp?(conn: Conn, ctx: ConnectContext, target?: string): Promise<PacketConn>;
  /**
   * Asks the node to receive UDP on `addr` on our behalf (rudp): resolves with the address it bound
   * and a channel carrying every remote peer's datagrams (source = the peer).
   */
  bindUdp?(conn: Conn, addr: string, ctx: ConnectContext): Promise<{ bound: string; packets: PacketConn }>;
}

/**
 * A port a remote server listens on for us: every connection a peer makes there arrives here as a
 * Conn whose `remoteAddress`/`remotePort` are the peer's. One tunnel = one bind stream = one inner
 * smux session (GOST's "one-to-one tunnel").
 */
export interface BoundTunnel {
  /** The address the server reported: its bound address, or its `publicAddr`. */
  readonly addr: string;
  /** Starts delivering connections (those that arrived earlier were queued, up to a bound). */
  accept(onConn: (conn: Conn) => void): void;
  /** Settles once the tunnel is gone (carrier or session died, or close()), with the reason if any. */
  readonly closed: Promise<Error | undefined>;
  close(): void;
}

/** Opens bound tunnels through a chain (the `rtcp` listener's chain). */
export interface Binder {
  bind(
    network: 'tcp' | 'udp',
    address: string,
    opts: AbortOptions & { log?: Logger; backlog?: TunnelBacklog | undefined },
  ): Promise<BoundTunnel>;
  /** The UDP form (the `rudp` listener): see Connector.bindUdp. */
  bindUdp?(
    addr: string,
    opts: AbortOptions & { log?: Logger },
  ): Promise<{ bound: string; packets: PacketConn }>;
}

/** Why a datagram was not delivered (the `reason` label of `gost_udp_datagrams_dropped_total`). */
export type UdpDropReason =
  'too_large' | 'queue_full' | 'tunnel_busy' | 'session_limit' | 'bad_datagram' | 'send_failed';

/**
 * A datagram channel: a UDP socket, or a UDP tunnel through a chain. Every datagram carries its
 * address (`host:port`): the destination when sending, the source when receiving. Nothing in it
 * queues without bound: a datagram that cannot be taken now is dropped and `send` says so.
 */
export interface PacketConn {
  /** Sends one datagram; false when it was dropped (`reason` tells why). */
  send(data: Buffer, addr: string): true | UdpDropReason;
  /** Sets the receiver of incoming datagrams (one receiver; a later call replaces it). */
  onMessage(receiver: (data: Buffer, from: string) => void): void;
  /** Closes the channel (its socket or tunnel stream); idempotent. */
  close(): void;
  /** Resolves once closed, by close() or because the socket or tunnel ended (never rejects). */
  readonly done: Promise<void>;
  /** Local `host:port` when it is a socket (replies name it), else undefined. */
  localAddress(): string | undefined;
}

/** What UDP services report (metrics implement it), already bound to one service. */
export interface UdpObserver {
  sessionOpened(): void;
  sessionClosed(): void;
  dropped(reason: UdpDropReason): void;
}

/** Opens connections to targets: through a chain, or directly when there is none. */
export interface Router {
  dial(network: 'tcp' | 'udp', target: string, opts: AbortOptions & { log?: Logger }): Promise<Conn>;
  /**
   * A UDP channel through the chain (one UDP-TUN stream whose datagrams name their destinations),
   * or a local UDP socket when there is none. Routers that cannot do UDP leave it out.
   */
  dialUdp?(opts: AbortOptions & { log?: Logger; target?: string }): Promise<PacketConn>;
  /** Has the chain's last node receive UDP on `addr` for us (rudp); see Connector.bindUdp. */
  bindUdp?(
    addr: string,
    opts: AbortOptions & { log?: Logger },
  ): Promise<{ bound: string; packets: PacketConn }>;
  close(): Promise<void>;
}

/** A count of things in use with a bound (`Limit`, src/common/limits.ts), for layers that may not import it. */
export interface CountedLimit {
  readonly name: string;
  readonly max: number;
  /** Takes one, or reports the hit and returns false. */
  tryAcquire(): boolean;
  release(): void;
}

export interface HandlerContext {
  router: Router;
  log: Logger;
  signal: AbortSignal;
  /** `host:port` of the client, for logs and auth decisions. */
  clientAddr: string;
  /**
   * Marks the connection as one the handler could not serve (GOST: its Handle returned an error): a
   * malformed or refused request, failed authentication, a failed dial. The service counts it in
   * `gost_service_handler_errors_total` and names `reason` in its log. Absent when a handler runs
   * without a service.
   */
  fail?: (reason: string) => void;
  /**
   * The UDP associations of the multiplexed session that carries this connection (an mws session,
   * listener `udp.maxPerSession`); absent where the connection is its own carrier.
   */
  sessionUdp?: CountedLimit | undefined;
}

/**
 * A handler (`http`, `socks5`, `auto`, `tcp` forward, ...) serves one accepted connection. It owns
 * `conn`: when the returned promise settles the connection is finished (ended or destroyed).
 * It must never reject for a client's bad input; errors are answered on the wire and logged.
 */
export interface Handler {
  handle(conn: Conn, ctx: HandlerContext): Promise<void>;
}

/** A listener (`tcp`, `tls`, `ws`, `mws`, ...) accepts Conns and hands each to `onConn`. */
export interface Listener {
  /** Starts accepting. Resolves when bound; rejects when the address cannot be used. */
  listen(onConn: (conn: Conn) => void): Promise<void>;
  /** The bound address, `host:port` (resolves port 0). */
  address(): string;
  /**
   * Optional, for a graceful stop: no new connections (or streams), while those already handed
   * over go on until close().
   */
  stopAccepting?(): void;
  /** Stops accepting and closes every session it owns. */
  close(): Promise<void>;
}

export interface PluginContext {
  metadata: Metadata;
  log: Logger;
}

/** What a service reports about its connections (metrics implement it). */
export interface ConnectionObserver {
  connectionOpened(service: string): void;
  /** `bytesIn`: read from the client; `bytesOut`: written to it. `failed`: the handler could not serve it. */
  connectionClosed(service: string, stats: { bytesIn: number; bytesOut: number; failed: boolean }): void;
  /** UDP sessions and dropped datagrams of a service (`gost_udp_*`). */
  udp?(service: string): UdpObserver;
}
