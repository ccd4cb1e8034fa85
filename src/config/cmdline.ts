/**
 * GOST's command line (`-L`, `-F`, `-C`, `-O`, ...) → a Config. Used by the CLI and by the library's
 * `configFromArgs`; reading argv, printing and exiting stay in `src/cli`.
 */
import { ConfigError } from '../core/errors.js';
import { nodesFromUrl, parseGostUrl, serviceFromUrl } from './from-url.js';
import { GOST_TYPES } from './gost-types.js';
import { DefaultNames, type LoadOptions } from './decode.js';
import { loadConfigSource } from './source.js';
import { mergeConfigs } from './validate.js';
import type { ApiConfig, ChainConfig, Config, MetricsConfig, ServiceConfig } from './types.js';
import { parseWorkers, type WorkersSetting } from './workers.js';

/** GOST's command line (`cmd/gost/main.go`), parsed but not yet interpreted. */
export interface CliArgs {
  /** `-L`, in order. */
  readonly services: readonly string[];
  /** `-F`, in order: each one hop of the command line's chain (`chain-0` unless a `-C` took it). */
  readonly nodes: readonly string[];
  /** `-C`: file path, `-` (stdin), `http(s)://` URL or inline JSON, in order. */
  readonly configs: readonly string[];
  /** `-O`: print the merged config in this format and exit. */
  readonly output?: 'yaml' | 'json';
  /** `-D` → `debug`, `-DD` → `trace`. */
  readonly logLevel?: 'debug' | 'trace';
  /** `-V` / `--version`. */
  readonly version: boolean;
  /** `-h` / `--help`. */
  readonly help: boolean;
  /** `-metrics ADDR`. */
  readonly metricsAddr?: string;
  /** `-api ADDR` (stored in the config; serving it is up to the caller). */
  readonly apiAddr?: string;
  /** `-workers N|auto` (gost-ts only): service processes sharing the listening ports. */
  readonly workers?: WorkersSetting;
}

type FlagKind = 'list' | 'string' | 'bool';

export interface FlagSpec {
  readonly kind: FlagKind;
  /** Other spellings (`--version` for `-V`). */
  readonly aliases?: readonly string[];
  /** The value's placeholder in usage lines. */
  readonly arg?: string;
  /** What it does, for `--help` and the README's flag table. */
  readonly help: string;
  readonly example?: string;
}

/**
 * Every flag gost-ts reads: the parser, `--help` and the README's flag table come from this.
 * A new flag is one entry here plus its field in `CliArgs`.
 */
export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  L: {
    kind: 'list',
    arg: 'URL',
    help: 'Run a service (repeatable): handler+listener://[user:pass@]host:port[/targets][?k=v&...].',
    example: '-L http+mws://:8443?path=/ws',
  },
  F: {
    kind: 'list',
    arg: 'URL',
    help: 'Add a hop to the chain every -L service uses (repeatable: several -F = a multi-hop chain, in order): connector+dialer://[user:pass@]host:port[,host2:port...][?k=v&...].',
    example: '-F http+mws://SERVER:8443?path=/ws',
  },
  C: {
    kind: 'list',
    arg: 'SOURCE',
    help: "Load a config: a .yaml/.yml/.json file, - (stdin), an http(s):// URL or inline JSON (repeatable: merged in order and checked as one config, so a service may use another file's chain; -L/-F are added last and their default names continue after the files').",
    example: '-C gost.yaml',
  },
  O: {
    kind: 'string',
    arg: 'yaml|json',
    help: 'Build the config (nothing listens), print it and exit; a config that would not run is an error.',
    example: '-L :8080 -F mws://SERVER:8443 -O yaml',
  },
  D: { kind: 'bool', help: 'Debug logging.' },
  DD: { kind: 'bool', help: 'Trace logging.' },
  metrics: {
    kind: 'string',
    arg: 'ADDR',
    help: 'Serve Prometheus metrics at ADDR (path /metrics; ?path= changes it).',
    example: '-metrics :9000?path=/metrics',
  },
  api: {
    kind: 'string',
    arg: 'ADDR',
    help: "GOST's web API: accepted, not implemented (a warning is logged).",
    example: '-api :18080',
  },
  workers: {
    kind: 'string',
    arg: 'N',
    help: 'gost-ts only: run the services in N processes sharing the listening ports; each connection and WebSocket session lives in one; auto = one per core (default 1; config key workers).',
    example: '-workers auto',
  },
  V: { kind: 'bool', aliases: ['version'], help: 'Print the version and exit.' },
  h: { kind: 'bool', aliases: ['help'], help: 'Print the full option reference and exit.' },
};

/** Flag name (aliases included) → its canonical name. */
const FLAG_NAMES: ReadonlyMap<string, string> = new Map(
  Object.entries(FLAGS).flatMap(([name, f]) => [
    [name, name],
    ...(f.aliases ?? []).map((a) => [a, name] as const),
  ]),
);

function parseBoolFlag(name: string, value: string): boolean {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new ConfigError(`-${name}`, `invalid boolean value "${value}"`);
}

/**
 * Parses argv (without the node and script entries) with Go `flag` rules: `-L x`, `-L=x`, `--L x`;
 * a value is the next argument even if it starts with `-` (so `-C -` reads stdin); boolean flags
 * take no separate value but accept `-D=false`. Throws a one-line ConfigError (path = the flag) for
 * an unknown flag, a missing value, a bad `-O` format, a positional argument or `--` (GOST's
 * several-workers separator, which gost-ts does not support).
 */
export function parseArgs(argv: readonly string[]): CliArgs {
  const lists: Record<'L' | 'F' | 'C', string[]> = { L: [], F: [], C: [] };
  const strings: Record<string, string> = {};
  const bools: Record<string, boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      throw new ConfigError(
        '--',
        'several worker processes ("--") are not supported; run one gost-ts per command line',
      );
    }
    if (!arg.startsWith('-') || arg === '-') {
      throw new ConfigError(
        '',
        `unexpected argument ${JSON.stringify(arg)} (flags take the form -L URL; see --help)`,
      );
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    if (name === '' || name.startsWith('-')) throw new ConfigError('', `bad flag syntax: ${arg}`);
    const canonical = FLAG_NAMES.get(name);
    const kind = canonical === undefined ? undefined : FLAGS[canonical]?.kind;
    if (canonical === undefined || kind === undefined)
      throw new ConfigError(`-${name}`, 'unknown flag (see --help)');
    if (kind === 'bool') {
      bools[canonical] = eq >= 0 ? parseBoolFlag(name, body.slice(eq + 1)) : true;
      continue;
    }
    let value: string;
    if (eq >= 0) {
      value = body.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`-${name}`, 'flag needs an argument');
      value = next;
      i++;
    }
    if (kind === 'list') lists[canonical as 'L' | 'F' | 'C'].push(value);
    else strings[canonical] = value;
  }
  const output = strings['O'];
  if (output !== undefined && output !== 'yaml' && output !== 'json') {
    throw new ConfigError('-O', `unknown output format "${output}" (yaml or json)`);
  }
  const logLevel = bools['DD'] ? 'trace' : bools['D'] ? 'debug' : undefined;
  return {
    services: lists.L,
    nodes: lists.F,
    configs: lists.C,
    ...(output === undefined ? {} : { output }),
    ...(logLevel === undefined ? {} : { logLevel }),
    version: Boolean(bools['V']),
    help: Boolean(bools['h']),
    ...(strings['metrics'] === undefined ? {} : { metricsAddr: strings['metrics'] }),
    ...(strings['api'] === undefined ? {} : { apiAddr: strings['api'] }),
    ...(strings['workers'] === undefined ? {} : { workers: parseWorkers(strings['workers'], '-workers') }),
  };
}

/** `-metrics [user:pass@]ADDR[?path=/p]` as GOST reads it. */
function metricsFromFlag(value: string): MetricsConfig {
  const u = parseGostUrl(value, '-metrics');
  if (u.host === '') throw new ConfigError(`-metrics ${JSON.stringify(value)}`, 'missing address');
  const path = u.query.find(([k]) => k.toLowerCase() === 'path')?.[1];
  return path === undefined || path === '' ? { addr: u.host } : { addr: u.host, path };
}

/** `-api [user:pass@]ADDR[?pathPrefix=/p&accesslog=true]` as GOST reads it. */
function apiFromFlag(value: string): ApiConfig {
  const u = parseGostUrl(value, '-api');
  if (u.host === '') throw new ConfigError(`-api ${JSON.stringify(value)}`, 'missing address');
  const q = (key: string): string | undefined =>
    u.query.find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  const pathPrefix = q('pathPrefix');
  const accessLog = q('accesslog');
  return {
    addr: u.host,
    ...(pathPrefix ? { pathPrefix } : {}),
    ...(accessLog === undefined
      ? {}
      : { accessLog: ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(accessLog) }),
    ...(u.userinfo ? { auth: { username: u.userinfo.username, password: u.userinfo.password ?? '' } } : {}),
  };
}

/**
 * The config a command line describes, as GOST's `cmd.go` + `program.go` build it: every `-C`
 * source in order, then the `-L`/`-F` part — `-F` flags become the hops of one chain (only when
 * there is at least one), and every `-L` service uses it (through `listener.chain` for `rtcp`/`rudp`,
 * else `handler.chain`). The sources are checked as one config once merged (a service in one file
 * may use a chain from another), and default names (`service-N`, `chain-N`) continue across all
 * of them, so `-L` after `-C` never collides with an unnamed service of the file. `-D`/`-DD` set
 * `log.level`; `-metrics`/`-api` replace the file's `metrics`/`api`. Validated and deep-frozen.
 */
export async function buildConfigFromArgs(args: CliArgs, options: LoadOptions = {}): Promise<Config> {
  const names = options.names ?? new DefaultNames();
  const sources: Config[] = [];
  for (const source of args.configs)
    sources.push(await loadConfigSource(source, { ...options, names, partial: true }));

  const hops = args.nodes.map((url, i) => nodesFromUrl(url, i, GOST_TYPES, options));
  const chain: ChainConfig | undefined = hops.length > 0 ? { name: names.next('chain'), hops } : undefined;
  const services: ServiceConfig[] = [];
  for (const url of args.services) {
    for (const parsed of serviceFromUrl(url, services.length, GOST_TYPES, options)) {
      const svc = { ...parsed, name: names.next('service') };
      if (chain === undefined) services.push(svc);
      else if (svc.listener.type === 'rtcp' || svc.listener.type === 'rudp')
        services.push({ ...svc, listener: { ...svc.listener, chain: chain.name } });
      else services.push({ ...svc, handler: { ...svc.handler, chain: chain.name } });
    }
  }
  const fromFlags: Config = {
    services,
    chains: chain === undefined ? [] : [chain],
    ...(args.metricsAddr === undefined ? {} : { metrics: metricsFromFlag(args.metricsAddr) }),
    ...(args.apiAddr === undefined ? {} : { api: apiFromFlag(args.apiAddr) }),
    ...(args.workers === undefined ? {} : { workers: args.workers }),
  };
  const merged = mergeConfigs([...sources, fromFlags]);
  if (args.logLevel === undefined) return merged;
  return mergeConfigs([merged, { services: [], chains: [], log: { ...merged.log, level: args.logLevel } }]);
}
