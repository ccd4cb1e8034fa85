/**
 * The one place that knows every built-in plugin. A new listener, handler, connector or dialer is
 * one folder and one line here.
 */
import { Registry } from './registry.js';
import { OPTIONS } from '../config/keys.js';
import type { ServerTlsOptions } from '../core/types.js';
import type { ConnectorEntry, DialerEntry, HandlerEntry, HandlerInput, ListenerEntry } from './plugins.js';
import { TcpListener } from '../listener/tcp/listener.js';
import { MwsListener } from '../listener/mws/listener.js';
import { parseMwsListenerMetadata } from '../listener/mws/metadata.js';
import { TlsListener } from '../listener/tls/listener.js';
import { parseTlsListenerMetadata } from '../listener/tls/metadata.js';
import { WsListener } from '../listener/ws/listener.js';
import { parseWsListenerMetadata } from '../listener/ws/metadata.js';
import { TcpDialer } from '../dialer/tcp/dialer.js';
import { TlsDialer } from '../dialer/tls/dialer.js';
import { parseTlsDialerMetadata } from '../dialer/tls/metadata.js';
import { WsDialer } from '../dialer/ws/dialer.js';
import { parseWsDialerMetadata } from '../dialer/ws/metadata.js';
import { MwsDialer } from '../dialer/mws/dialer.js';
import { parseMwsDialerMetadata } from '../dialer/mws/metadata.js';
import { HttpHandler } from '../handler/http/handler.js';
import { parseHttpHandlerMetadata } from '../handler/http/metadata.js';
import { Socks5Handler } from '../handler/socks5/handler.js';
import { parseSocks5HandlerMetadata } from '../handler/socks5/metadata.js';
import { Socks4Handler } from '../handler/socks4/handler.js';
import { parseSocks4HandlerMetadata } from '../handler/socks4/metadata.js';
import { AutoHandler } from '../handler/auto/handler.js';
import { parseAutoHandlerMetadata } from '../handler/auto/metadata.js';
import { ForwardHandler } from '../handler/forward/handler.js';
import { UdpListener } from '../listener/udp/listener.js';
import { RudpListener } from '../listener/rudp/listener.js';
import { parseRudpListenerMetadata, parseUdpListenerMetadata } from '../listener/udp/metadata.js';
import { ChainRouter } from '../chain/router.js';
import { HttpConnector } from '../connector/http/connector.js';
import { parseHttpConnectorMetadata } from '../connector/http/metadata.js';
import { Socks5Connector } from '../connector/socks5/connector.js';
import { parseSocks5ConnectorMetadata } from '../connector/socks5/metadata.js';
import { Socks4Connector } from '../connector/socks4/connector.js';
import { RtcpListener } from '../listener/rtcp/listener.js';
import { parseRtcpListenerMetadata } from '../listener/rtcp/metadata.js';
import { RelayHandler } from '../handler/relay/handler.js';
import { parseRelayHandlerMetadata } from '../handler/relay/metadata.js';
import { RelayConnector } from '../connector/relay/connector.js';
import { parseRelayConnectorMetadata } from '../connector/relay/metadata.js';
import { ConfigError } from '../core/errors.js';
import { parseSocks4ConnectorMetadata } from '../connector/socks4/metadata.js';

export interface Registries {
  listeners: Registry<ListenerEntry>;
  handlers: Registry<HandlerEntry>;
  connectors: Registry<ConnectorEntry>;
  dialers: Registry<DialerEntry>;
}

function httpHandler(input: HandlerInput): HttpHandler {
  return new HttpHandler({ ...parseHttpHandlerMetadata(input.metadata), authenticator: input.authenticator });
}
function socks5Handler(input: HandlerInput): Socks5Handler {
  return new Socks5Handler({
    ...parseSocks5HandlerMetadata(input.metadata),
    authenticator: input.authenticator,
    serverTls: input.serverTls,
    udpObserver: input.udp,
  });
}
function relayHandler(input: HandlerInput): RelayHandler {
  return new RelayHandler({
    ...parseRelayHandlerMetadata(input.metadata),
    authenticator: input.authenticator,
    targets: input.targets,
    udpObserver: input.udp,
  });
}
function socks4Handler(input: HandlerInput): Socks4Handler {
  return new Socks4Handler({
    ...parseSocks4HandlerMetadata(input.metadata),
    authenticator: input.authenticator,
  });
}
function forwardHandler(input: HandlerInput): ForwardHandler {
  return new ForwardHandler({
    targets: input.targets,
    maxFails: input.selector?.maxFails,
    failTimeout: input.selector?.failTimeout,
    udpObserver: input.udp,
  });
}

/** Fresh registries holding every built-in plugin. */
export function createBuiltinRegistries(): Registries {
  const listeners = new Registry<ListenerEntry>('listener')
    .register('tcp', {
      create: ({ addr, metadata }) =>
        new TcpListener({ addr, keepAlive: metadata.bool(OPTIONS['listener.keepalive'].keys, false) }),
    })
    .register('tls', {
      tls: true,
      create: ({ addr, metadata, log, tls }) =>
        new TlsListener({ ...parseTlsListenerMetadata(metadata), addr, log, tls: tls as ServerTlsOptions }),
    })
    .register('ws', {
      create: ({ addr, metadata, log }) =>
        new WsListener({ ...parseWsListenerMetadata(metadata), addr, log }),
    })
    .register('wss', {
      tls: true,
      create: ({ addr, metadata, log, tls }) =>
        new WsListener({ ...parseWsListenerMetadata(metadata), addr, log, tls }),
    })
    .register('mws', {
      create: ({ addr, metadata, log }) =>
        new MwsListener({ ...parseMwsListenerMetadata(metadata), addr, log }),
    })
    .register('mwss', {
      tls: true,
      create: ({ addr, metadata, log, tls }) =>
        new MwsListener({ ...parseMwsListenerMetadata(metadata), addr, log, tls }),
    })
    .register('rtcp', {
      create: ({ addr, metadata, log, binder }) => {
        if (binder === undefined) throw new ConfigError('listener.chain', 'listener "rtcp" needs a chain');
        return new RtcpListener({ ...parseRtcpListenerMetadata(metadata), addr, log, binder });
      },
    })
    .register('udp', {
      create: ({ addr, metadata, log, udp }) =>
        new UdpListener({ ...parseUdpListenerMetadata(metadata), addr, log, observer: udp }),
    })
    .register('rudp', {
      create: ({ addr, metadata, log, udp, binder }) =>
        new RudpListener({
          ...parseRudpListenerMetadata(metadata),
          addr,
          log,
          observer: udp,
          binder: binder ?? new ChainRouter({ hops: [], log }),
        }),
    });

  const handlers = new Registry<HandlerEntry>('handler')
    .register('http', { create: httpHandler })
    .register('socks5', { create: socks5Handler })
    .register('socks', { create: socks5Handler })
    .register('socks4', { create: socks4Handler })
    .register('socks4a', { create: socks4Handler })
    .register('auto', {
      create: (input) =>
        new AutoHandler({
          ...parseAutoHandlerMetadata(input.metadata),
          handlers: { http: httpHandler(input), socks5: socks5Handler(input), socks4: socks4Handler(input) },
        }),
    })
    .register('tcp', { create: forwardHandler })
    .register('rtcp', { create: forwardHandler })
    .register('forward', { create: forwardHandler })
    .register('relay', { create: relayHandler })
    .register('udp', { create: forwardHandler })
    .register('rudp', { create: forwardHandler });

  const connectors = new Registry<ConnectorEntry>('connector')
    .register('http', {
      create: ({ metadata, auth }) => new HttpConnector({ ...parseHttpConnectorMetadata(metadata), auth }),
    })
    .register('socks5', {
      create: ({ metadata, auth }) =>
        new Socks5Connector({ ...parseSocks5ConnectorMetadata(metadata), auth }),
    })
    .register('socks', {
      create: ({ metadata, auth }) =>
        new Socks5Connector({ ...parseSocks5ConnectorMetadata(metadata), auth }),
    })
    .register('relay', {
      create: ({ metadata, auth }) => new RelayConnector({ ...parseRelayConnectorMetadata(metadata), auth }),
    })
    .register('socks4', {
      create: ({ metadata, auth }) =>
        new Socks4Connector({ ...parseSocks4ConnectorMetadata(metadata), auth }),
    })
    .register('socks4a', {
      create: ({ metadata, auth }) =>
        new Socks4Connector({ ...parseSocks4ConnectorMetadata(metadata), auth }),
    });

  const dialers = new Registry<DialerEntry>('dialer')
    .register('tcp', { create: () => new TcpDialer() })
    .register('tls', {
      tls: true,
      create: ({ metadata, tls }) =>
        new TlsDialer({ ...parseTlsDialerMetadata(metadata), tls: tls ?? { secure: false } }),
    })
    .register('ws', { create: ({ metadata }) => new WsDialer(parseWsDialerMetadata(metadata)) })
    .register('wss', {
      tls: true,
      create: ({ metadata, tls }) =>
        new WsDialer({ ...parseWsDialerMetadata(metadata), tls: tls ?? { secure: false } }),
    })
    .register('mws', { create: ({ metadata }) => new MwsDialer(parseMwsDialerMetadata(metadata)) })
    .register('mwss', {
      tls: true,
      create: ({ metadata, tls }) =>
        new MwsDialer({ ...parseMwsDialerMetadata(metadata), tls: tls ?? { secure: false } }),
    });

  return { listeners, handlers, connectors, dialers };
}

/** The type names gost-ts implements, per kind, as the registries hold them (for --help and docs). */
export function implementedTypes(registries: Registries = createBuiltinRegistries()): {
  handlers: string[];
  listeners: string[];
  connectors: string[];
  dialers: string[];
} {
  return {
    handlers: registries.handlers.names(),
    listeners: registries.listeners.names(),
    connectors: registries.connectors.names(),
    dialers: registries.dialers.names(),
  };
}
