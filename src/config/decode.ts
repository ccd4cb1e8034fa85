/**
 * YAML/JSON values → Config: each GOST struct decoded against its key list (`keys.ts`), defaults
 * filled in (types, names, selector), values type-checked. Cross-references are `validate.ts`'s job.
 */
import { ConfigError } from '../core/errors.js';
import { strategyProblem } from '../chain/selector.js';
import { Struct, compact, isPlainObject, type DecodeReport } from './struct.js';
import { validateConfig } from './validate.js';
import { parseWorkers } from './workers.js';
import type {
  ApiConfig,
  AuthConfig,
  AutherConfig,
  ChainConfig,
  Config,
  ConnectorConfig,
  DialerConfig,
  ForwardNodeConfig,
  ForwarderConfig,
  HandlerConfig,
  HopConfig,
  ListenerConfig,
  LogConfig,
  MetricsConfig,
  NodeConfig,
  SelectorConfig,
  ServiceConfig,
  TLSConfig,
} from './types.js';

/** GOST's selector defaults for config files (the command line uses 30 s, see from-url.ts). */
const DEFAULT_MAX_FAILS = 1;
const DEFAULT_FAIL_TIMEOUT_MS = 10_000;

/**
 * Default names (`service-0`, `chain-0`, ...) that stay unique across every source of one config:
 * each is the smallest `<kind>-N` no source has used. Share one between the `-C` sources and the
 * `-L`/`-F` flags of a command line so that they never collide.
 */
export class DefaultNames {
  private readonly taken = new Map<string, Set<string>>();

  private set(kind: string): Set<string> {
    let s = this.taken.get(kind);
    if (s === undefined) this.taken.set(kind, (s = new Set()));
    return s;
  }

  /** Marks names given explicitly as used. */
  reserve(kind: string, names: Iterable<string>): void {
    const s = this.set(kind);
    for (const n of names) s.add(n);
  }

  /** The next free `<kind>-N`, now taken. */
  next(kind: string): string {
    const s = this.set(kind);
    for (let i = 0; ; i++) {
      const name = `${kind}-${i}`;
      if (!s.has(name)) {
        s.add(name);
        return name;
      }
    }
  }
}

export interface LoadOptions extends DecodeReport {
  /** Default names shared with other sources of the same config (see `DefaultNames`). */
  names?: DefaultNames;
  /** One part of a larger config: skip the whole-config checks (`mergeConfigs` does them). */
  partial?: boolean;
}

function decodeAuth(s: Struct): AuthConfig {
  const username = s.string('username');
  if (username === undefined) throw new ConfigError(s.keyPath('username'), 'missing required key');
  return { username, password: s.string('password') ?? '' };
}

function decodeTLS(s: Struct): TLSConfig {
  return compact<TLSConfig>({
    certFile: s.string('certFile'),
    keyFile: s.string('keyFile'),
    caFile: s.string('caFile'),
    secure: s.bool('secure'),
    serverName: s.string('serverName'),
    validity: s.duration('validity'),
    commonName: s.string('commonName'),
    organization: s.string('organization'),
  });
}

function decodeSelector(s: Struct): SelectorConfig {
  const strategy = s.typeName('strategy', 'round');
  const problem = strategyProblem(strategy);
  if (problem !== undefined) throw new ConfigError(s.keyPath('strategy'), problem);
  const maxFails = s.int('maxFails');
  const failTimeout = s.duration('failTimeout');
  return {
    strategy,
    maxFails: maxFails !== undefined && maxFails > 0 ? maxFails : DEFAULT_MAX_FAILS,
    failTimeout: failTimeout !== undefined && failTimeout > 0 ? failTimeout : DEFAULT_FAIL_TIMEOUT_MS,
  };
}

function decodeHandler(s: Struct | undefined, options: LoadOptions): HandlerConfig {
  if (s === undefined) return { type: 'auto' };
  const retries = s.int('retries');
  if (retries !== undefined && retries < 0)
    throw new ConfigError(s.keyPath('retries'), 'must not be negative');
  const auth = s.struct('auth', 'auth', options);
  return compact<HandlerConfig>({
    type: s.typeName('type', 'auto'),
    chain: s.string('chain') || undefined,
    retries,
    auth: auth && decodeAuth(auth),
    auther: s.string('auther') || undefined,
    metadata: s.metadata(),
  });
}

function decodeListener(s: Struct | undefined, options: LoadOptions): ListenerConfig {
  if (s === undefined) return { type: 'tcp' };
  const auth = s.struct('auth', 'auth', options);
  const tls = s.struct('tls', 'tls', options);
  return compact<ListenerConfig>({
    type: s.typeName('type', 'tcp'),
    chain: s.string('chain') || undefined,
    auth: auth && decodeAuth(auth),
    tls: tls && decodeTLS(tls),
    metadata: s.metadata(),
  });
}

function decodeForwarder(s: Struct, options: LoadOptions): ForwarderConfig {
  const nodes = (s.list('nodes') ?? []).map(({ value, path }, i): ForwardNodeConfig => {
    const n = new Struct(value, path, 'forwardNode', options);
    return { name: n.name(`target-${i}`), addr: n.requiredString('addr') };
  });
  const selector = s.struct('selector', 'selector', options);
  return compact<ForwarderConfig>({ nodes, selector: selector && decodeSelector(selector) });
}

function decodeService(
  value: unknown,
  path: string,
  options: LoadOptions,
  names: DefaultNames,
): ServiceConfig {
  const s = new Struct(value, path, 'service', options);
  const forwarder = s.struct('forwarder', 'forwarder', options);
  return compact<ServiceConfig>({
    name: s.name('') || names.next('service'),
    addr: s.requiredString('addr'),
    handler: decodeHandler(s.struct('handler', 'handler', options), options),
    listener: decodeListener(s.struct('listener', 'listener', options), options),
    forwarder: forwarder && decodeForwarder(forwarder, options),
    metadata: s.metadata(),
  });
}

function decodeNode(value: unknown, path: string, index: number, options: LoadOptions): NodeConfig {
  const s = new Struct(value, path, 'node', options);
  const c = s.struct('connector', 'connector', options);
  const d = s.struct('dialer', 'dialer', options);
  const cAuth = c?.struct('auth', 'auth', options);
  const dAuth = d?.struct('auth', 'auth', options);
  const dTls = d?.struct('tls', 'tls', options);
  const connector = compact<ConnectorConfig>({
    type: c?.typeName('type', 'http') ?? 'http',
    auth: cAuth && decodeAuth(cAuth),
    metadata: c?.metadata(),
  });
  const dialer = compact<DialerConfig>({
    type: d?.typeName('type', 'tcp') ?? 'tcp',
    auth: dAuth && decodeAuth(dAuth),
    tls: dTls && decodeTLS(dTls),
    metadata: d?.metadata(),
  });
  return compact<NodeConfig>({
    name: s.name(`node-${index}`),
    addr: s.requiredString('addr'),
    connector,
    dialer,
    metadata: s.metadata(),
  });
}

function decodeHop(value: unknown, path: string, defaultName: () => string, options: LoadOptions): HopConfig {
  const s = new Struct(value, path, 'hop', options);
  const selector = s.struct('selector', 'selector', options);
  return compact<HopConfig>({
    name: s.name('') || defaultName(),
    selector: selector && decodeSelector(selector),
    nodes: (s.list('nodes') ?? []).map(({ value: v, path: p }, i) => decodeNode(v, p, i, options)),
    metadata: s.metadata(),
  });
}

function decodeChain(value: unknown, path: string, options: LoadOptions, names: DefaultNames): ChainConfig {
  const s = new Struct(value, path, 'chain', options);
  return compact<ChainConfig>({
    name: s.name('') || names.next('chain'),
    hops: (s.list('hops') ?? []).map(({ value: v, path: p }, i) =>
      decodeHop(v, p, () => `hop-${i}`, options),
    ),
    metadata: s.metadata(),
  });
}

function decodeAuther(value: unknown, path: string, options: LoadOptions, names: DefaultNames): AutherConfig {
  const s = new Struct(value, path, 'auther', options);
  return {
    name: s.name('') || names.next('auther'),
    auths: (s.list('auths') ?? []).map(({ value: v, path: p }) =>
      decodeAuth(new Struct(v, p, 'auth', options)),
    ),
  };
}

function decodeLog(s: Struct): LogConfig {
  return compact<LogConfig>({
    level: s.string('level'),
    format: s.string('format'),
    output: s.string('output'),
  });
}

function decodeMetrics(s: Struct): MetricsConfig {
  return compact<MetricsConfig>({ addr: s.requiredString('addr'), path: s.string('path') });
}

function decodeApi(s: Struct, options: LoadOptions): ApiConfig {
  const auth = s.struct('auth', 'auth', options);
  return compact<ApiConfig>({
    addr: s.requiredString('addr'),
    pathPrefix: s.string('pathPrefix'),
    accessLog: s.bool('accesslog'),
    auth: auth && decodeAuth(auth),
  });
}

/** The `name` of each list item that gives one (so defaults can avoid them). */
function explicitNames(s: Struct, key: string): string[] {
  const v = s.get(key);
  if (!Array.isArray(v)) return [];
  return v.flatMap((item: unknown) => {
    if (!isPlainObject(item)) return [];
    const entry = Object.entries(item).find(([k]) => k.toLowerCase() === 'name');
    return typeof entry?.[1] === 'string' && entry[1] !== '' ? [entry[1]] : [];
  });
}

function decodeRoot(raw: unknown, options: LoadOptions): Config {
  if (raw === null || raw === undefined) return { services: [], chains: [] };
  const s = new Struct(raw, '', 'config', options);
  const names = options.names ?? new DefaultNames();
  names.reserve('service', explicitNames(s, 'services'));
  names.reserve('chain', explicitNames(s, 'chains'));
  names.reserve('hop', explicitNames(s, 'hops'));
  names.reserve('auther', explicitNames(s, 'authers'));
  const tls = s.struct('tls', 'tls', options);
  const log = s.struct('log', 'log', options);
  const metrics = s.struct('metrics', 'metrics', options);
  const api = s.struct('api', 'api', options);
  return compact<Config>({
    services: (s.list('services') ?? []).map(({ value, path }) => decodeService(value, path, options, names)),
    chains: (s.list('chains') ?? []).map(({ value, path }) => decodeChain(value, path, options, names)),
    hops: s.list('hops')?.map(({ value, path }) => decodeHop(value, path, () => names.next('hop'), options)),
    authers: s.list('authers')?.map(({ value, path }) => decodeAuther(value, path, options, names)),
    tls: tls && decodeTLS(tls),
    log: log && decodeLog(log),
    metrics: metrics && decodeMetrics(metrics),
    api: api && decodeApi(api, options),
    workers:
      s.get('workers') === undefined ? undefined : parseWorkers(s.get('workers'), s.keyPath('workers')),
  });
}

/**
 * Decodes an already parsed YAML/JSON value (e.g. from `JSON.parse`) into a validated, frozen
 * Config. Throws ConfigError naming the JSON path of the first problem. With `partial`, names and
 * references are left for `mergeConfigs` to check once every part is in.
 */
export function decodeConfig(raw: unknown, options: LoadOptions = {}): Config {
  const config = decodeRoot(raw, options);
  return options.partial === true ? config : validateConfig(config);
}
