import { ConfigError } from '../core/errors.js';
import { Metadata } from '../core/metadata.js';
import type { Logger } from '../core/logger.js';
import type { AuthInfo, Authenticator, ConnectionObserver, Router } from '../core/types.js';
import { resolveSmuxConfig, type SmuxConfig } from '../mux/smux/config.js';
import { parseMwsListenerMetadata } from '../listener/mws/metadata.js';
import type { WebSocketAcceptOptions } from '../transport/websocket/server.js';

/** The proxy protocol spoken inside each stream: a handler type, or one with its options and users. */
export type MwsEndpointHandler =
  | string
  | {
      /** `http`, `socks5`, `socks4`, `auto`, ... (any handler type of the registry). */
      type: string;
      /** The handler's GOST metadata (`proxyAgent`, `readTimeout`, `header`, ...). */
      metadata?: Readonly<Record<string, unknown>> | undefined;
      /** Users allowed in (none: everyone), or an authenticator of your own. */
      auth?: AuthInfo | readonly AuthInfo[] | Authenticator | undefined;
      /** `tcp`/`forward`: where every stream goes (`host:port`, round robin over several). */
      targets?: readonly string[] | undefined;
    };

export interface MwsEndpointOptions {
  /** The upgrade path (Go ServeMux pattern: a trailing `/` takes the subtree). Default `/ws`, as GOST. */
  path?: string | undefined;
  /** Extra headers on the 101 response. */
  header?: Readonly<Record<string, string>> | undefined;
  /** permessage-deflate (GOST `enableCompression`). Default off. */
  compression?: boolean | undefined;
  /** smux settings (version, keepalive, frame size, buffers); unset fields keep smux's defaults. */
  mux?: Partial<SmuxConfig> | undefined;
  /** Largest WebSocket message accepted, bytes. Default 1 MiB. */
  maxPayload?: number | undefined;
  /**
   * Any other key of GOST's mws listener, as in a config file (`mux.version`, `readBufferSize`,
   * `mux.keepaliveInterval: 5s`, ...). The typed options above win over these.
   */
  metadata?: Readonly<Record<string, unknown>> | undefined;
  /** Default `http`. */
  handler?: MwsEndpointHandler | undefined;
  /**
   * Where streams go onwards: GOST `-F` node URLs, one per hop in order
   * (`['http+mwss://next.example:443?path=/ws']`), or a Router of your own. Default: direct.
   */
  chain?: string | readonly string[] | Router | undefined;
  /** A pino logger (or anything with its methods). Default: silent. */
  log?: Logger | undefined;
  /** Told about every stream (prom-client metrics, say). */
  observer?: ConnectionObserver | undefined;
  /** Name in logs and metrics. Default `mws-endpoint`. */
  name?: string | undefined;
}

/** The listener half of the options, resolved: what the upgrade acceptor and the sessions need. */
export interface ResolvedListenerOptions {
  ws: WebSocketAcceptOptions;
  mux: SmuxConfig;
  /** TCP keepalive on upgraded connections (GOST `keepalive`, `keepalive.idle` in ms). */
  keepAlive: boolean;
  keepAliveIdle: number;
  /** Per-session bounds (`mux.maxStreams`, `mux.maxPendingStreams`, `udp.maxPerSession`). */
  sessionLimits: { maxStreams: number; maxPendingStreams: number; maxUdpPerSession: number };
}

/**
 * mws listener keys that are about the listener's own HTTP server, which a mounted endpoint does
 * not have: refused with where the setting lives instead, rather than silently ignored.
 */
const HOST_SERVER_KEYS: readonly [keys: string[], instead: string][] = [
  [
    ['ws.handshakeTimeout', 'handshakeTimeout'],
    "set your server's requestTimeout (the upgrade itself is immediate)",
  ],
  [['ws.readHeaderTimeout', 'readHeaderTimeout'], "set your server's headersTimeout"],
  [['ws.backlog', 'backlog'], 'streams go to the handler as they arrive; there is no queue to size'],
];

/** Rejects keys that nothing read, naming them (a typo must not pass silently). */
export function rejectUnusedKeys(md: Metadata, what: string): void {
  const [key] = md.unusedKeys();
  if (key !== undefined) throw new ConfigError(`${md.path}.${key}`, `unknown option for ${what}`);
}

/** The mws listener options of an endpoint, through GOST's own metadata parser, then the typed overrides. */
export function resolveListenerOptions(opts: MwsEndpointOptions): ResolvedListenerOptions {
  const record: Record<string, unknown> = { ...opts.metadata };
  if (opts.path !== undefined) record['path'] = opts.path;
  if (opts.header !== undefined) record['header'] = opts.header;
  if (opts.compression !== undefined) record['enableCompression'] = opts.compression;
  const md = new Metadata(record, 'endpoint');
  for (const [keys, instead] of HOST_SERVER_KEYS) {
    const key = md.presentKey(...keys);
    if (key !== undefined)
      throw new ConfigError(`endpoint.${key}`, `not an option of a mounted endpoint: ${instead}`);
  }
  const parsed = parseMwsListenerMetadata(md);
  rejectUnusedKeys(md, 'an mws endpoint');
  let mux: SmuxConfig;
  try {
    mux = resolveSmuxConfig({ ...parsed.mux, ...opts.mux });
  } catch (err) {
    throw new ConfigError('endpoint.mux', (err as Error).message);
  }
  if (opts.maxPayload !== undefined && !(Number.isInteger(opts.maxPayload) && opts.maxPayload > 0))
    throw new ConfigError(
      'endpoint.maxPayload',
      `must be a positive integer, got ${String(opts.maxPayload)}`,
    );
  return {
    ws: { ...parsed.ws, maxPayload: opts.maxPayload },
    mux,
    keepAlive: parsed.keepAlive,
    keepAliveIdle: parsed.keepAliveIdle,
    sessionLimits: {
      maxStreams: parsed.limits.maxStreams,
      maxPendingStreams: parsed.limits.maxPendingStreams,
      maxUdpPerSession: parsed.limits.maxUdpPerSession,
    },
  };
}
