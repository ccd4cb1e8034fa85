import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument, stringify as yamlStringify } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { SELECTOR_STRATEGIES } from './types.js';
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
  MetadataRecord,
  MetricsConfig,
  NodeConfig,
  SelectorConfig,
  ServiceConfig,
  TLSConfig,
  TLSOptionsConfig,
} from './types.js';

/**
 * GOST config keys gost-ts accepts but does not act on, per struct. Loading does not fail on them
 * (a GOST config file keeps working); `LoadOptions.onIgnoredKey` reports each occurrence so the CLI
 * can warn. A later change that implements one of them moves it into the struct's known keys.
 * Beware: some of these narrow access in GOST (`admission`, `bypass`, handler `authers`, listener
 * `auther`), so ignoring them makes gost-ts more permissive than GOST with the same file.
 */
export const IGNORED_KEYS = {
  config: [
    'admissions',
    'bypasses',
    'resolvers',
    'hosts',
    'ingresses',
    'routers',
    'sds',
    'recorders',
    'limiters',
    'climiters',
    'rlimiters',
    'observers',
    'loggers',
    'profiling',
  ],
  service: [
    'interface',
    'sockopts',
    'admission',
    'admissions',
    'bypass',
    'bypasses',
    'resolver',
    'hosts',
    'limiter',
    'climiter',
    'rlimiter',
    'logger',
    'loggers',
    'observer',
    'recorders',
    'status',
  ],
  handler: ['chainGroup', 'authers', 'tls', 'limiter', 'observer'],
  listener: ['chainGroup', 'auther', 'authers'],
  forwarder: ['name'],
  forwardNode: [
    'host',
    'network',
    'protocol',
    'path',
    'bypass',
    'bypasses',
    'http',
    'tls',
    'auth',
    'metadata',
  ],
  chain: [],
  hop: [
    'interface',
    'sockopts',
    'bypass',
    'bypasses',
    'resolver',
    'hosts',
    'reload',
    'file',
    'redis',
    'http',
    'plugin',
  ],
  node: [
    'host',
    'network',
    'protocol',
    'path',
    'interface',
    'sockopts',
    'bypass',
    'bypasses',
    'resolver',
    'hosts',
    'http',
    'tls',
    'auth',
  ],
  connector: ['tls'],
  dialer: [],
  selector: ['maxLatency'],
  tls: [],
  tlsOptions: [],
  auth: [],
  auther: ['reload', 'file', 'redis', 'http', 'plugin'],
  log: ['rotation'],
  metrics: ['auth', 'auther'],
  api: ['auther'],
} as const satisfies Record<string, readonly string[]>;

type StructKind = keyof typeof IGNORED_KEYS;

/** The keys each struct understands, in GOST's spelling (matched case-insensitively). */
const KNOWN_KEYS: Record<StructKind, readonly string[]> = {
  config: ['services', 'chains', 'hops', 'authers', 'tls', 'log', 'metrics', 'api', 'workers'],
  service: ['name', 'addr', 'handler', 'listener', 'forwarder', 'metadata'],
  handler: ['type', 'chain', 'retries', 'auth', 'auther', 'metadata'],
  listener: ['type', 'chain', 'auth', 'tls', 'metadata'],
  forwarder: ['nodes', 'selector'],
  forwardNode: ['name', 'addr'],
  chain: ['name', 'hops', 'metadata'],
  hop: ['name', 'selector', 'nodes', 'metadata'],
  node: ['name', 'addr', 'connector', 'dialer', 'metadata'],
  connector: ['type', 'auth', 'metadata'],
  dialer: ['type', 'auth', 'tls', 'metadata'],
  selector: ['strategy', 'maxFails', 'failTimeout'],
  tls: [
    'certFile',
    'keyFile',
    'caFile',
    'secure',
    'serverName',
    'options',
    'validity',
    'commonName',
    'organization',
  ],
  tlsOptions: ['minVersion', 'maxVersion', 'cipherSuites', 'alpn'],
  auth: ['username', 'password'],
  auther: ['name', 'auths'],
  log: ['level', 'format', 'output'],
  metrics: ['addr', 'path'],
  api: ['addr', 'pathPrefix', 'accesslog', 'auth'],
};

/** GOST's selector defaults for config files (the command line uses 30 s, see from-url.ts). */
const DEFAULT_MAX_FAILS = 1;
const DEFAULT_FAIL_TIMEOUT_MS = 10_000;

export interface LoadOptions {
  /** Called with the JSON path of every key listed in `IGNORED_KEYS` that a source contains. */
  onIgnoredKey?: (path: string) => void;
}

// ---------------------------------------------------------------------------------------------
// Struct decoding

function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? Math.max(a.length, b.length);
}

function suggest(key: string, candidates: readonly string[]): string {
  const k = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = k.length <= 4 ? 2 : 3;
  for (const c of candidates) {
    const d = levenshtein(k, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** Go-style ParseBool set, as GOST's weakly typed decoding accepts. */
function parseBoolText(s: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  return undefined;
}

/**
 * Integers at or above this value in struct-level duration fields are Go nanoseconds (what
 * `gost -O json` prints); smaller numbers are seconds, like numbers in metadata. GOST itself always
 * reads a bare number there as nanoseconds, so `failTimeout: 30` would mean 30 ns: we read 30 s.
 */
const NANOSECONDS_THRESHOLD = 1_000_000;

/**
 * One YAML/JSON mapping decoded against a struct's key list: keys are matched case-insensitively
 * (`Services`, `ADDR`), unknown keys are errors, GOST keys we ignore are reported, `null` values
 * count as absent. Getters throw ConfigError naming the key's JSON path in the user's spelling.
 */
class Struct {
  private readonly entries = new Map<string, { key: string; value: unknown }>();

  constructor(
    value: unknown,
    readonly path: string,
    kind: StructKind,
    options: LoadOptions,
  ) {
    if (!isPlainObject(value)) throw new ConfigError(path, `expected a map, got ${describe(value)}`);
    const known = KNOWN_KEYS[kind];
    const ignored: readonly string[] = IGNORED_KEYS[kind];
    for (const [key, v] of Object.entries(value)) {
      const lower = key.toLowerCase();
      const canonical = known.find((k) => k.toLowerCase() === lower);
      if (canonical !== undefined) {
        const previous = this.entries.get(canonical);
        if (previous !== undefined) {
          throw new ConfigError(
            joinPath(path, key),
            `duplicate key (also given as "${previous.key}"; keys are case-insensitive)`,
          );
        }
        this.entries.set(canonical, { key, value: v });
      } else if (ignored.some((k) => k.toLowerCase() === lower)) {
        options.onIgnoredKey?.(joinPath(path, key));
      } else {
        throw new ConfigError(joinPath(path, key), `unknown key${suggest(key, known)}`);
      }
    }
  }

  /** JSON path of `key`, in the spelling the source used when present. */
  keyPath(key: string): string {
    return joinPath(this.path, this.entries.get(key)?.key ?? key);
  }

  get(key: string): unknown {
    const v = this.entries.get(key)?.value;
    return v === null ? undefined : v;
  }

  private fail(key: string, expected: string): never {
    throw new ConfigError(this.keyPath(key), `expected ${expected}, got ${describe(this.get(key))}`);
  }

  string(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  /** A string that must be present and non-empty. */
  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined) throw new ConfigError(this.keyPath(key), 'missing required key');
    if (v.trim() === '') throw new ConfigError(this.keyPath(key), 'must not be empty');
    return v;
  }

  /** A type name: default when absent or empty. */
  typeName(key: string, def: string): string {
    const v = this.string(key);
    return v === undefined || v.trim() === '' ? def : v.trim();
  }

  /** A name: default when absent or empty. */
  name(def: string): string {
    const v = this.string('name');
    return v === undefined || v === '' ? def : v;
  }

  int(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return Number(v.trim());
    return this.fail(key, 'an integer');
  }

  bool(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const b = parseBoolText(v.trim());
      if (b !== undefined) return b;
    }
    return this.fail(key, 'a boolean (true/false)');
  }

  /** Milliseconds. Strings are Go durations (`30s`, `1m30s`) or seconds; see NANOSECONDS_THRESHOLD for numbers. */
  duration(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    let ms: number | undefined;
    if (typeof v === 'number' && Number.isFinite(v)) {
      ms = Number.isInteger(v) && Math.abs(v) >= NANOSECONDS_THRESHOLD ? v / 1e6 : v * 1000;
    } else if (typeof v === 'string') {
      ms = parseDuration(v);
    }
    if (ms === undefined || ms < 0)
      return this.fail(key, 'a duration such as "30s", "1m30s" or a number of seconds');
    return ms;
  }

  stringList(key: string): string[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v)) return this.fail(key, 'a list of strings');
    return v.map((item, i) => {
      if (typeof item !== 'string') {
        throw new ConfigError(`${this.keyPath(key)}[${i}]`, `expected a string, got ${describe(item)}`);
      }
      return item;
    });
  }

  struct(key: string, kind: StructKind, options: LoadOptions): Struct | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : new Struct(v, this.keyPath(key), kind, options);
  }

  /** Items of a list with their JSON paths; `undefined` when absent. */
  list(key: string): Array<{ value: unknown; path: string }> | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.fail(key, 'a list');
    const base = this.keyPath(key);
    return v.map((value: unknown, i) => ({ value, path: `${base}[${i}]` }));
  }

  /**
   * A metadata map, keys verbatim, values as the source typed them. JSON numbers are kept as
   * numbers: GOST's getters ignore float64 values from JSON files (facts §7); we are more lenient
   * and let `core/metadata.ts` read `"mux.version": 2` as 2 and `"ttl": 30` as 30 s.
   */
  metadata(key = 'metadata'): MetadataRecord | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) return this.fail(key, 'a map');
    if (Object.keys(v).length === 0) return undefined;
    return structuredClone(v);
  }
}

/** Builds an object with exact optional properties: entries whose value is `undefined` are dropped. */
type Loose<T> = { [K in keyof T]-?: T[K] | undefined };
function compact<T extends object>(o: Loose<T>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

function decodeAuth(s: Struct): AuthConfig {
  const username = s.string('username');
  if (username === undefined) throw new ConfigError(s.keyPath('username'), 'missing required key');
  return { username, password: s.string('password') ?? '' };
}

function decodeTLS(s: Struct, options: LoadOptions): TLSConfig {
  const o = s.struct('options', 'tlsOptions', options);
  const tlsOptions =
    o &&
    compact<TLSOptionsConfig>({
      minVersion: o.string('minVersion'),
      maxVersion: o.string('maxVersion'),
      cipherSuites: o.stringList('cipherSuites'),
      alpn: o.stringList('alpn'),
    });
  return compact<TLSConfig>({
    certFile: s.string('certFile'),
    keyFile: s.string('keyFile'),
    caFile: s.string('caFile'),
    secure: s.bool('secure'),
    serverName: s.string('serverName'),
    options: tlsOptions,
    validity: s.duration('validity'),
    commonName: s.string('commonName'),
    organization: s.string('organization'),
  });
}

function decodeSelector(s: Struct): SelectorConfig {
  const strategy = s.typeName('strategy', 'round');
  if (!(SELECTOR_STRATEGIES as readonly string[]).includes(strategy)) {
    throw new ConfigError(
      s.keyPath('strategy'),
      `unknown strategy "${strategy}" (one of ${SELECTOR_STRATEGIES.join(', ')})`,
    );
  }
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
    tls: tls && decodeTLS(tls, options),
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

function decodeService(value: unknown, path: string, index: number, options: LoadOptions): ServiceConfig {
  const s = new Struct(value, path, 'service', options);
  const forwarder = s.struct('forwarder', 'forwarder', options);
  return compact<ServiceConfig>({
    name: s.name(`service-${index}`),
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
    tls: dTls && decodeTLS(dTls, options),
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

function decodeHop(value: unknown, path: string, index: number, options: LoadOptions): HopConfig {
  const s = new Struct(value, path, 'hop', options);
  const selector = s.struct('selector', 'selector', options);
  return compact<HopConfig>({
    name: s.name(`hop-${index}`),
    selector: selector && decodeSelector(selector),
    nodes: (s.list('nodes') ?? []).map(({ value: v, path: p }, i) => decodeNode(v, p, i, options)),
    metadata: s.metadata(),
  });
}

function decodeChain(value: unknown, path: string, index: number, options: LoadOptions): ChainConfig {
  const s = new Struct(value, path, 'chain', options);
  return compact<ChainConfig>({
    name: s.name(`chain-${index}`),
    hops: (s.list('hops') ?? []).map(({ value: v, path: p }, i) => decodeHop(v, p, i, options)),
    metadata: s.metadata(),
  });
}

function decodeAuther(value: unknown, path: string, index: number, options: LoadOptions): AutherConfig {
  const s = new Struct(value, path, 'auther', options);
  return {
    name: s.name(`auther-${index}`),
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

function decodeRoot(raw: unknown, options: LoadOptions): Config {
  if (raw === null || raw === undefined) return { services: [], chains: [] };
  const s = new Struct(raw, '', 'config', options);
  const tls = s.struct('tls', 'tls', options);
  const log = s.struct('log', 'log', options);
  const metrics = s.struct('metrics', 'metrics', options);
  const api = s.struct('api', 'api', options);
  return compact<Config>({
    services: (s.list('services') ?? []).map(({ value, path }, i) => decodeService(value, path, i, options)),
    chains: (s.list('chains') ?? []).map(({ value, path }, i) => decodeChain(value, path, i, options)),
    hops: s.list('hops')?.map(({ value, path }, i) => decodeHop(value, path, i, options)),
    authers: s.list('authers')?.map(({ value, path }, i) => decodeAuther(value, path, i, options)),
    tls: tls && decodeTLS(tls, options),
    log: log && decodeLog(log),
    metrics: metrics && decodeMetrics(metrics),
    api: api && decodeApi(api, options),
    workers:
      s.get('workers') === undefined ? undefined : parseWorkers(s.get('workers'), s.keyPath('workers')),
  });
}

// ---------------------------------------------------------------------------------------------
// Cross-reference checks, freezing, merging

function checkUnique(items: ReadonlyArray<{ name: string }>, path: string, what: string): Set<string> {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const first = seen.get(item.name);
    if (first !== undefined) {
      throw new ConfigError(
        `${path}[${i}].name`,
        `duplicate ${what} name "${item.name}" (also ${path}[${first}])`,
      );
    }
    seen.set(item.name, i);
  });
  return new Set(seen.keys());
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Checks what only the whole config can tell: unique service/chain/hop/auther names (and node names
 * within a hop), and that every `handler.chain`, `listener.chain`, `handler.auther` and node-less
 * chain hop refers to something that exists. Deep-freezes and returns `config`.
 */
export function validateConfig(config: Config): Config {
  const chains = checkUnique(config.chains, 'chains', 'chain');
  checkUnique(config.services, 'services', 'service');
  const hops = checkUnique(config.hops ?? [], 'hops', 'hop');
  const authers = checkUnique(config.authers ?? [], 'authers', 'auther');
  const checkHop = (hop: HopConfig, path: string): void => {
    checkUnique(hop.nodes, `${path}.nodes`, 'node');
  };
  (config.hops ?? []).forEach((hop, i) => checkHop(hop, `hops[${i}]`));
  config.chains.forEach((chain, i) => {
    chain.hops.forEach((hop, j) => {
      const path = `chains[${i}].hops[${j}]`;
      checkHop(hop, path);
      if (hop.nodes.length === 0 && !hops.has(hop.name)) {
        throw new ConfigError(
          `${path}.nodes`,
          `hop "${hop.name}" has no nodes and there is no top-level hop of that name`,
        );
      }
    });
  });
  const known = (set: Set<string>, what: string): string =>
    set.size === 0 ? `no ${what}s are defined` : `defined: ${[...set].join(', ')}`;
  config.services.forEach((svc, i) => {
    const path = `services[${i}]`;
    if (svc.handler.chain !== undefined && !chains.has(svc.handler.chain)) {
      throw new ConfigError(
        `${path}.handler.chain`,
        `unknown chain "${svc.handler.chain}" (${known(chains, 'chain')})`,
      );
    }
    if (svc.listener.chain !== undefined && !chains.has(svc.listener.chain)) {
      throw new ConfigError(
        `${path}.listener.chain`,
        `unknown chain "${svc.listener.chain}" (${known(chains, 'chain')})`,
      );
    }
    if (svc.handler.auther !== undefined && !authers.has(svc.handler.auther)) {
      throw new ConfigError(
        `${path}.handler.auther`,
        `unknown auther "${svc.handler.auther}" (${known(authers, 'auther')})`,
      );
    }
  });
  return deepFreeze(config);
}

/**
 * Decodes an already parsed YAML/JSON value (e.g. from `JSON.parse`) into a validated, frozen
 * Config. Throws ConfigError naming the JSON path of the first problem.
 */
export function decodeConfig(raw: unknown, options: LoadOptions = {}): Config {
  return validateConfig(decodeRoot(raw, options));
}

/**
 * Merges configs as GOST merges `-C` with `-L/-F` (cmd/gost `mergeConfig`): lists are
 * concatenated in order, the single objects (`tls`, `log`, `metrics`, `api`) of a later config
 * replace earlier ones. The result is validated (names must stay unique) and frozen.
 */
export function mergeConfigs(configs: readonly Config[]): Config {
  const concat = <T>(pick: (c: Config) => readonly T[] | undefined): T[] | undefined => {
    const lists = configs.map(pick).filter((l): l is readonly T[] => l !== undefined);
    return lists.length === 0 ? undefined : lists.flat();
  };
  const last = <T>(pick: (c: Config) => T | undefined): T | undefined => {
    let out: T | undefined;
    for (const c of configs) out = pick(c) ?? out;
    return out;
  };
  return validateConfig(
    compact<Config>({
      services: concat((c) => c.services) ?? [],
      chains: concat((c) => c.chains) ?? [],
      hops: concat((c) => c.hops),
      authers: concat((c) => c.authers),
      tls: last((c) => c.tls),
      log: last((c) => c.log),
      metrics: last((c) => c.metrics),
      api: last((c) => c.api),
      workers: last((c) => c.workers),
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Text and sources

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

/**
 * Parses a YAML or JSON config document into a validated, deep-frozen Config. Struct keys are
 * case-insensitive, metadata keys verbatim; defaults are filled in (see `types.ts`).
 * Throws ConfigError whose `path` names the offending key (`services[0].addr`), or `''` for a
 * syntax error.
 */
export function parseConfigText(text: string, format: 'yaml' | 'json', options: LoadOptions = {}): Config {
  let raw: unknown;
  if (format === 'json') {
    try {
      raw = JSON.parse(text) as unknown;
    } catch (err) {
      throw new ConfigError(
        '',
        `invalid JSON: ${firstLine(err instanceof Error ? err.message : String(err))}`,
      );
    }
  } else {
    const doc = parseDocument(text, { merge: true, prettyErrors: true });
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = err.linePos?.[0];
      const where = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
      throw new ConfigError(
        '',
        `invalid YAML: ${firstLine(err.message).replace(/ at line \d+, column \d+:?$/, '')}${where}`,
      );
    }
    try {
      raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    } catch (err) {
      // e.g. an alias used before its anchor (`*a`), or too many aliases: a document error too.
      throw new ConfigError(
        '',
        `invalid YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`,
      );
    }
  }
  return decodeConfig(raw, options);
}

/** Re-throws a ConfigError with the source it came from appended to its message. */
function inSource(err: unknown, source: string): never {
  if (err instanceof ConfigError) {
    const reason = err.path === '' ? err.message : err.message.slice(err.path.length + 2);
    throw new ConfigError(err.path, `${reason} (in ${source})`);
  }
  throw err;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const FETCH_TIMEOUT_MS = 30_000;

/**
 * Loads one `-C` source, as GOST does: `-` reads stdin (JSON when it starts with `{`, else YAML), a
 * string starting with `{` is inline JSON, an `http://`/`https://` URL is fetched (format from the
 * path's extension or the content), anything else is a file whose extension (`.yaml`, `.yml`,
 * `.json`) picks the format. Errors are ConfigError; their message ends with `(in <source>)`.
 */
export async function loadConfigSource(source: string, options: LoadOptions = {}): Promise<Config> {
  const src = source.trim();
  const sniff = (text: string): 'yaml' | 'json' => (text.trimStart().startsWith('{') ? 'json' : 'yaml');
  if (src === '-') {
    const text = await readStdin();
    try {
      return parseConfigText(text, sniff(text), options);
    } catch (err) {
      return inSource(err, 'stdin');
    }
  }
  if (src.startsWith('{')) {
    try {
      return parseConfigText(src, 'json', options);
    } catch (err) {
      return inSource(err, 'inline JSON');
    }
  }
  if (/^https?:\/\//i.test(src)) {
    let text: string;
    try {
      const res = await fetch(src, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (err) {
      throw new ConfigError(
        '',
        `cannot fetch config ${src}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const ext = extname(new URL(src).pathname).toLowerCase();
    const format = ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : sniff(text);
    try {
      return parseConfigText(text, format, options);
    } catch (err) {
      return inSource(err, src);
    }
  }
  const ext = extname(src).toLowerCase();
  const format = ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined;
  if (format === undefined) {
    throw new ConfigError(
      '',
      `config file ${src}: unsupported extension "${ext}" (use .yaml, .yml or .json)`,
    );
  }
  let text: string;
  try {
    text = await readFile(src, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError('', `cannot read config file ${src}${code ? `: ${code}` : ''}`);
  }
  try {
    return parseConfigText(text, format, options);
  } catch (err) {
    return inSource(err, src);
  }
}

// ---------------------------------------------------------------------------------------------
// Printing (`-O yaml|json`)

type Plain = Record<string, unknown>;

/** Drops undefined values and empty metadata maps (GOST's `omitempty`). */
function plain(o: Plain): Plain {
  const out: Plain = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (k === 'metadata' && isPlainObject(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

const nAuth = (a: AuthConfig | undefined): Plain | undefined =>
  a && plain({ username: a.username, password: a.password === '' ? undefined : a.password });

const nSelector = (s: SelectorConfig | undefined): Plain | undefined =>
  s && { strategy: s.strategy, maxFails: s.maxFails, failTimeout: formatDuration(s.failTimeout) };

function nTLS(t: TLSConfig | undefined): Plain | undefined {
  if (t === undefined) return undefined;
  return plain({
    certFile: t.certFile,
    keyFile: t.keyFile,
    caFile: t.caFile,
    secure: t.secure,
    serverName: t.serverName,
    options: t.options && plain({ ...t.options }),
    validity: t.validity === undefined ? undefined : formatDuration(t.validity),
    commonName: t.commonName,
    organization: t.organization,
  });
}

const nMeta = (m: MetadataRecord | undefined): Plain | undefined => (m ? { ...m } : undefined);

function nNode(n: NodeConfig): Plain {
  return plain({
    name: n.name,
    addr: n.addr,
    connector: plain({
      type: n.connector.type,
      auth: nAuth(n.connector.auth),
      metadata: nMeta(n.connector.metadata),
    }),
    dialer: plain({
      type: n.dialer.type,
      auth: nAuth(n.dialer.auth),
      tls: nTLS(n.dialer.tls),
      metadata: nMeta(n.dialer.metadata),
    }),
    metadata: nMeta(n.metadata),
  });
}

function nHop(h: HopConfig): Plain {
  return plain({
    name: h.name,
    selector: nSelector(h.selector),
    nodes: h.nodes.map(nNode),
    metadata: nMeta(h.metadata),
  });
}

function nService(s: ServiceConfig): Plain {
  const h = s.handler;
  const l = s.listener;
  return plain({
    name: s.name,
    addr: s.addr,
    handler: plain({
      type: h.type,
      retries: h.retries,
      chain: h.chain,
      auther: h.auther,
      auth: nAuth(h.auth),
      metadata: nMeta(h.metadata),
    }),
    listener: plain({
      type: l.type,
      chain: l.chain,
      auth: nAuth(l.auth),
      tls: nTLS(l.tls),
      metadata: nMeta(l.metadata),
    }),
    forwarder:
      s.forwarder &&
      plain({ selector: nSelector(s.forwarder.selector), nodes: s.forwarder.nodes.map((n) => ({ ...n })) }),
    metadata: nMeta(s.metadata),
  });
}

/**
 * The config as a plain object in GOST's shape and key spelling (what `gost -O` prints): empty
 * values omitted, durations as Go duration strings (`30s`), keys in GOST's order. Feeding the
 * result back to `decodeConfig` gives an equal Config.
 */
export function normaliseConfig(config: Config): Record<string, unknown> {
  return plain({
    services: config.services.map(nService),
    chains:
      config.chains.length === 0
        ? undefined
        : config.chains.map((c) =>
            plain({ name: c.name, hops: c.hops.map(nHop), metadata: nMeta(c.metadata) }),
          ),
    hops: config.hops?.map(nHop),
    authers: config.authers?.map((a) => ({ name: a.name, auths: a.auths.map(nAuth) })),
    tls: nTLS(config.tls),
    log: config.log && plain({ ...config.log }),
    api:
      config.api &&
      plain({
        addr: config.api.addr,
        pathPrefix: config.api.pathPrefix,
        accesslog: config.api.accessLog,
        auth: nAuth(config.api.auth),
      }),
    metrics: config.metrics && plain({ ...config.metrics }),
    workers: config.workers,
  });
}

/** `gost -O yaml`. */
export function toYaml(config: Config): string {
  return yamlStringify(normaliseConfig(config), { indent: 2, lineWidth: 0 });
}

/** `gost -O json` (durations as strings, which `-C` reads back). */
export function toJson(config: Config): string {
  return `${JSON.stringify(normaliseConfig(config), null, 2)}\n`;
}
