import type { Metadata } from '../core/metadata.js';
import type { Logger } from '../core/logger.js';
import type {
  AuthInfo,
  Authenticator,
  Binder,
  ClientTlsOptions,
  Connector,
  Dialer,
  Handler,
  Listener,
  ServerTlsOptions,
  UdpObserver,
} from '../core/types.js';

/** What building a listener gets: its address, metadata and, for TLS types, resolved certificates. */
export interface ListenerInput {
  addr: string;
  metadata: Metadata;
  tls?: ServerTlsOptions | undefined;
  log: Logger;
  /** The listener's own chain (`listener.chain`), for reverse listeners such as `rtcp`/`rudp`. */
  binder?: Binder | undefined;
  /** UDP sessions and drops of this service. */
  udp?: UdpObserver | undefined;
}

export interface HandlerInput {
  metadata: Metadata;
  authenticator?: Authenticator | undefined;
  /** Forward targets (`-L tcp://:2222/host:22`, `forwarder.nodes`). */
  targets: readonly string[];
  selector?: { maxFails: number; failTimeout: number } | undefined;
  log: Logger;
  /** The service's certificate, loaded on first call (socks5's TLS methods 0x80/0x82). */
  serverTls?: (() => Promise<ServerTlsOptions>) | undefined;
  /** UDP sessions and drops of this service. */
  udp?: UdpObserver | undefined;
}

export interface ConnectorInput {
  metadata: Metadata;
  auth?: AuthInfo | undefined;
  log: Logger;
}

export interface DialerInput {
  metadata: Metadata;
  tls?: ClientTlsOptions | undefined;
  log: Logger;
}

/** A registry entry: the factory and whether the type runs over TLS (its certificates get resolved). */
export interface PluginEntry<I, T> {
  create(input: I): T;
  tls?: boolean;
}

export type ListenerEntry = PluginEntry<ListenerInput, Listener>;
export type HandlerEntry = PluginEntry<HandlerInput, Handler>;
export type ConnectorEntry = PluginEntry<ConnectorInput, Connector>;
export type DialerEntry = PluginEntry<DialerInput, Dialer>;
