/**
 * The GOST v3 configuration schema (go-gost/x `config/config.go`), restricted to what gost-ts
 * implements. Config files (YAML/JSON, `src/config/load.ts`) and command-line URLs
 * (`src/config/from-url.ts`) both produce these types; the builder turns them into objects.
 *
 * Every value is already validated and defaulted: type names are filled in (handler `auto`,
 * listener `tcp`, connector `http`, dialer `tcp`), names are unique, chain/auther/hop references
 * resolve. Loaded configs are deep-frozen. Durations are milliseconds.
 */
import { STRATEGY_NAMES } from '../chain/selector.js';
import type { WorkersSetting } from './workers.js';

/**
 * A plugin's untyped metadata bag (`metadata:` in a file, `?k=v` on the command line). Keys are
 * kept verbatim (dotted keys such as `mux.version` are literal keys, not nested maps); values are
 * whatever the source gave: strings from the command line, native YAML/JSON values from files.
 * Read it through `core/metadata.ts` `Metadata`, which looks keys up case-insensitively.
 */
export type MetadataRecord = Readonly<Record<string, unknown>>;

/** `auth: {username, password}` and CLI `user:pass@`. An empty username means "no auth" (GOST). */
export interface AuthConfig {
  readonly username: string;
  /** `''` when not given. */
  readonly password: string;
}

/**
 * TLS material and policy (facts §8). On a listener: `certFile`+`keyFile` (else the global default
 * certificate), `caFile` = require and verify client certificates. On a dialer: `secure` turns on
 * certificate verification (off by default, as in GOST), `serverName` sets SNI, `caFile` the trust
 * root, `certFile`/`keyFile` a client certificate. File paths are kept verbatim (relative to the
 * working directory, as GOST).
 */
export interface TLSConfig {
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly caFile?: string;
  readonly secure?: boolean;
  readonly serverName?: string;
  /** Top-level `tls:` only: validity of the generated default certificate, in milliseconds. */
  readonly validity?: number;
  /** Top-level `tls:` only: CN of the generated default certificate (GOST default `gost.run`). */
  readonly commonName?: string;
  /** Top-level `tls:` only: O of the generated default certificate (GOST default `GOST`). */
  readonly organization?: string;
}

/** Selector strategy names gost-ts implements (GOST's aliases included). */
export const SELECTOR_STRATEGIES: readonly string[] = Object.keys(STRATEGY_NAMES);

/** Node selection policy of a hop or a forwarder (`selector:`; CLI `strategy`/`maxFails`/`failTimeout`). */
export interface SelectorConfig {
  /** `round`/`rr` (default), `random`/`rand`, `fifo`/`ha`, `hash` (`chain/selector.ts`). */
  readonly strategy: string;
  /** Failures before a node is skipped; default 1. */
  readonly maxFails: number;
  /** How long a failed node is skipped, in milliseconds; default 10 s (30 s when set on the command line). */
  readonly failTimeout: number;
}

export interface HandlerConfig {
  /** `auto`, `http`, `socks5`, `tcp`, `forward`, ... Default `auto`. */
  readonly type: string;
  /** Name of a chain in `Config.chains`. */
  readonly chain?: string;
  /** Extra route attempts (GOST `retries`). */
  readonly retries?: number;
  readonly auth?: AuthConfig;
  /** Name of an auther in `Config.authers`. */
  readonly auther?: string;
  readonly metadata?: MetadataRecord;
}

export interface ListenerConfig {
  /** `tcp`, `tls`, `ws`, `wss`, `mws`, `mwss`, `rtcp`, ... Default `tcp`. */
  readonly type: string;
  /** Name of a chain in `Config.chains` (reverse listeners such as `rtcp`). */
  readonly chain?: string;
  readonly auth?: AuthConfig;
  readonly tls?: TLSConfig;
  readonly metadata?: MetadataRecord;
}

/** A port-forward target (`-L tcp://:8080/10.0.0.5:80` → `{name: 'target-0', addr: '10.0.0.5:80'}`). */
export interface ForwardNodeConfig {
  readonly name: string;
  readonly addr: string;
}

export interface ForwarderConfig {
  readonly nodes: readonly ForwardNodeConfig[];
  readonly selector?: SelectorConfig;
}

export interface ServiceConfig {
  /** Unique among services; default `service-N`. */
  readonly name: string;
  /** Listen address, `host:port` (`:8080`, `[::1]:8080`). */
  readonly addr: string;
  readonly handler: HandlerConfig;
  readonly listener: ListenerConfig;
  readonly forwarder?: ForwarderConfig;
  readonly metadata?: MetadataRecord;
}

export interface ConnectorConfig {
  /** `http`, `socks5`, `socks4`, `relay`, `forward`, ... Default `http`. */
  readonly type: string;
  readonly auth?: AuthConfig;
  readonly metadata?: MetadataRecord;
}

export interface DialerConfig {
  /** `tcp`, `tls`, `ws`, `wss`, `mws`, `mwss`, ... Default `tcp`. */
  readonly type: string;
  readonly auth?: AuthConfig;
  readonly tls?: TLSConfig;
  readonly metadata?: MetadataRecord;
}

export interface NodeConfig {
  /** Unique within its hop; default `node-N`. */
  readonly name: string;
  /** The node's address, `host:port`, kept verbatim (`:8443` is valid and sent as the mws Host). */
  readonly addr: string;
  readonly connector: ConnectorConfig;
  readonly dialer: DialerConfig;
  readonly metadata?: MetadataRecord;
}

export interface HopConfig {
  /** Default `hop-N`. A chain hop without nodes refers to the top-level hop of that name. */
  readonly name: string;
  readonly selector?: SelectorConfig;
  readonly nodes: readonly NodeConfig[];
  readonly metadata?: MetadataRecord;
}

export interface ChainConfig {
  /** Unique among chains; default `chain-N`. */
  readonly name: string;
  readonly hops: readonly HopConfig[];
  readonly metadata?: MetadataRecord;
}

/** A named credential list (`authers:`), referenced by `handler.auther`. */
export interface AutherConfig {
  readonly name: string;
  readonly auths: readonly AuthConfig[];
}

export interface LogConfig {
  /** `trace`, `debug`, `info`, `warn`, `error`, `fatal`. */
  readonly level?: string;
  /** `text` or `json`. */
  readonly format?: string;
  /** `stderr` (default), `stdout`, `none` or a file path. */
  readonly output?: string;
}

export interface MetricsConfig {
  readonly addr: string;
  /** Default `/metrics`. */
  readonly path?: string;
}

export interface ApiConfig {
  readonly addr: string;
  readonly pathPrefix?: string;
  /** GOST key `accesslog`. */
  readonly accessLog?: boolean;
  readonly auth?: AuthConfig;
}

export interface Config {
  readonly services: readonly ServiceConfig[];
  readonly chains: readonly ChainConfig[];
  /** Named hops that chain hops may refer to by name. */
  readonly hops?: readonly HopConfig[];
  readonly authers?: readonly AutherConfig[];
  /** Default server certificate settings. */
  readonly tls?: TLSConfig;
  readonly log?: LogConfig;
  readonly metrics?: MetricsConfig;
  readonly api?: ApiConfig;
  /** Service processes sharing the listening ports (gost-ts only; `auto` = one per core; default 1). */
  readonly workers?: WorkersSetting;
}
