import { ConfigError } from '../core/errors.js';
import { KNOWN_TYPES, nodesFromUrl, parseGostUrl, serviceFromUrl } from '../config/from-url.js';
import { loadConfigSource, mergeConfigs } from '../config/load.js';
import type { LoadOptions } from '../config/load.js';
import { parseWorkers } from '../config/workers.js';
import type { WorkersSetting } from '../config/workers.js';
import type { ApiConfig, ChainConfig, Config, MetricsConfig, ServiceConfig } from '../config/types.js';

/** GOST's command line (`cmd/gost/main.go`), parsed but not yet interpreted. */
export interface CliArgs {
  /** `-L`, in order. */
  readonly services: readonly string[];
  /** `-F`, in order: each one hop of chain `chain-0`. */
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

const FLAGS: Readonly<Record<string, FlagKind>> = {
  L: 'list',
  F: 'list',
  C: 'list',
  O: 'string',
  D: 'bool',
  DD: 'bool',
  V: 'bool',
  version: 'bool',
  h: 'bool',
  help: 'bool',
  metrics: 'string',
  api: 'string',
  workers: 'string',
};

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
    const kind = FLAGS[name];
    if (kind === undefined) throw new ConfigError(`-${name}`, 'unknown flag (see --help)');
    if (kind === 'bool') {
      bools[name] = eq >= 0 ? parseBoolFlag(name, body.slice(eq + 1)) : true;
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
    if (kind === 'list') lists[name as 'L' | 'F' | 'C'].push(value);
    else strings[name] = value;
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
    version: Boolean(bools['V'] || bools['version']),
    help: Boolean(bools['h'] || bools['help']),
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
 * source in order, then the `-L`/`-F` part — `-F` flags become the hops of chain `chain-0` (only
 * when there is at least one), and every `-L` service uses it (through `listener.chain` for `rtcp`/`rudp`,
 * else `handler.chain`). Lists are concatenated and names must stay unique (a `-C` file defining
 * `service-0` clashes with the first `-L`). `-D`/`-DD` set `log.level`; `-metrics`/`-api` replace
 * the file's `metrics`/`api`. The result is validated and deep-frozen.
 */
export async function buildConfigFromArgs(args: CliArgs, options: LoadOptions = {}): Promise<Config> {
  const sources: Config[] = [];
  for (const source of args.configs) sources.push(await loadConfigSource(source, options));

  const hops = args.nodes.map((url, i) => nodesFromUrl(url, i, KNOWN_TYPES));
  const chain: ChainConfig | undefined = hops.length > 0 ? { name: 'chain-0', hops } : undefined;
  const services: ServiceConfig[] = [];
  for (const url of args.services) {
    for (const svc of serviceFromUrl(url, services.length, KNOWN_TYPES)) {
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

/** `[keys, default, description, example]` rows of the help text's parameter sections. */
type ParamRow = readonly [keys: string, def: string, description: string, example: string];

const MWS_PARAMS: readonly ParamRow[] = [
  ['ws.path | path', '/ws', 'Request path (-F); served path (-L).', '?path=/tunnel'],
  ['ws.host | host', 'node address', 'Host header of the upgrade request (-F).', '?host=cdn.example.com'],
  [
    'ws.header | header',
    '-',
    'Extra headers (-F: request, -L: 101 reply); CLI form "A:1;B:2" (GOST ignores it).',
    '?header=X-Test:1',
  ],
  [
    'ws.handshakeTimeout | handshakeTimeout',
    'none',
    '-F: wait for the 101; -L: write the 101.',
    '?handshakeTimeout=10s',
  ],
  [
    'ws.readHeaderTimeout | readHeaderTimeout',
    'none',
    '-L: HTTP request header read timeout.',
    '?readHeaderTimeout=5s',
  ],
  ['ws.readBufferSize | readBufferSize', '4096', 'Read buffer, bytes.', '?readBufferSize=8192'],
  [
    'ws.writeBufferSize | writeBufferSize',
    '4096',
    'Write buffer, bytes (= client frame fragment size).',
    '?writeBufferSize=8192',
  ],
  [
    'ws.enableCompression | enableCompression',
    'false',
    'Offer (-F) / accept (-L) permessage-deflate.',
    '?enableCompression=true',
  ],
  [
    'ws.backlog | backlog',
    '128',
    '-L: accepted streams waiting for the handler; more are refused.',
    '?backlog=256',
  ],
  [
    'ws.keepalive | keepalive',
    'false',
    '-F: send WebSocket pings every ttl; -L: TCP keepalive on accepted connections.',
    '?keepalive=true',
  ],
  ['ttl | keepalive.interval', '15s', '-F: ping interval when keepalive=true.', '?keepalive=true&ttl=30s'],
  ['keepAlive=DURATION', '-', 'Older spelling: send pings every DURATION.', '?keepAlive=30s'],
  ['mux.type', 'smux', 'smux or yamux; both ends must agree.', '?mux.type=smux'],
  ['mux.version', '1', 'smux protocol version 1 or 2; both ends must agree.', '?mux.version=2'],
  [
    'mux.keepaliveDisabled | muxKeepAliveDisabled',
    'false',
    'No smux NOP keepalives on this end.',
    '?mux.keepaliveDisabled=true',
  ],
  [
    'mux.keepaliveInterval | muxKeepAliveInterval',
    '10s',
    'NOP keepalive interval.',
    '?mux.keepaliveInterval=15s',
  ],
  [
    'mux.keepaliveTimeout | muxKeepAliveTimeout',
    '30s',
    'Close a session silent for this long.',
    '?mux.keepaliveTimeout=60s',
  ],
  [
    'mux.maxFrameSize | muxMaxFrameSize',
    '32768',
    'Max data frame payload, bytes (<= 65535).',
    '?mux.maxFrameSize=16384',
  ],
  [
    'mux.maxReceiveBuffer | muxMaxReceiveBuffer',
    '4194304',
    'Session receive buffer, bytes.',
    '?mux.maxReceiveBuffer=8388608',
  ],
  [
    'mux.maxStreamBuffer | muxMaxStreamBuffer',
    '65536',
    'Per-stream window, bytes (smux v2).',
    '?mux.maxStreamBuffer=131072',
  ],
  ['mux.maxStreamWindow', '262144', 'yamux stream window, bytes.', '?mux.maxStreamWindow=524288'],
  ['tcp.keepalive', 'false', '-F: TCP keepalive on the carrier connection.', '?tcp.keepalive=true'],
  ['tcp.keepalive.idle | .interval | .count', 'OS', '-F: TCP keepalive tuning.', '?tcp.keepalive.idle=30s'],
  ['keepalive.idle | .interval | .count', 'OS', '-L: TCP keepalive tuning.', '?keepalive.idle=30s'],
  ['proxyProtocol', '-', '1 or 2: PROXY protocol header (-F: send, -L: accept).', '?proxyProtocol=1'],
];

const TLS_PARAMS: readonly ParamRow[] = [
  [
    'certFile | cert | tls.certFile',
    '-',
    '-L: server certificate; -F: client certificate.',
    '?certFile=cert.pem',
  ],
  ['keyFile | key | tls.keyFile', '-', 'Its private key.', '?keyFile=key.pem'],
  [
    'caFile | ca | tls.caFile',
    '-',
    '-L: require client certificates signed by this CA; -F: trust this CA.',
    '?caFile=ca.pem',
  ],
  ['secure | tls.secure', 'false', '-F: verify the server certificate and name.', '?secure=true'],
  ['serverName | tls.serverName', 'node host', '-F: SNI and the name verified.', '?serverName=srv.example'],
];

const SELECTOR_PARAMS: readonly ParamRow[] = [
  [
    'strategy',
    'round',
    'round|rr, random|rand, fifo|ha, hash, parallel, lowestlatency|lowest|ll.',
    '?strategy=fifo',
  ],
  ['maxFails | max_fails', '1', 'Failures before a node is skipped.', '?maxFails=3'],
  ['failTimeout | fail_timeout', '30s', 'How long a failed node is skipped.', '?failTimeout=1m'],
];

function params(rows: readonly ParamRow[]): string {
  return rows
    .map(([keys, def, description, example]) => {
      const head = def === '-' ? `  ${keys}` : `  ${keys}  (default ${def})`;
      const line = `      ${description}  e.g. ${example}`;
      return line.length <= 100 ? `${head}\n${line}` : `${head}\n      ${description}\n      e.g. ${example}`;
    })
    .join('\n');
}

/** The `--help` text. */
export function helpText(): string {
  return `Usage: gost-ts [-L URL]... [-F URL]... [-C SOURCE]... [-O yaml|json] [-D|-DD] [-metrics ADDR] [-api ADDR] [-workers N]

A GOST v3 compatible tunnel. Every flag may be written -L x, -L=x or --L x.

Flags:
  -L URL         Run a service (repeatable).              -L http+mws://:8443?path=/ws
  -F URL         Add a hop to chain "chain-0", in order; every -L service goes through the chain
                 (repeatable).                            -F http+mws://SERVER:8443?path=/ws
  -C SOURCE      Load a config: a .yaml/.yml/.json file, - (stdin), an http(s):// URL or inline
                 JSON (repeatable; merged in order, then -L/-F are added).   -C gost.yaml
  -O yaml|json   Print the resulting config and exit.     -L :8080 -F mws://SERVER:8443 -O yaml
  -D             Debug logging.                           -D
  -DD            Trace logging.                           -DD
  -metrics ADDR  Metrics service address (?path= sets the path).   -metrics :9000?path=/metrics
  -api ADDR      GOST's web API: accepted, not implemented (warned)  -api :18080
  -workers N     gost-ts only: run the services in N processes sharing the listening ports; each
                 connection and WebSocket session lives in one; auto = one per core (default 1;
                 config key workers).                     -workers auto
  -V, --version  Print the version and exit.
  -h, --help     Print this help and exit.

URL grammar:
  [scheme://][user:pass@]host[:port][/targets][?key=value&...]

  scheme         -L: handler+listener, -F: connector+dialer. One name sets both and each part falls
                 back when it is not a type of its kind (handler -> auto, listener -> tcp,
                 connector -> http, dialer -> tcp). No scheme or a leading ":" -> auto; https -> http+tls.
                   -L :8080                 = auto+tcp     -L mws://:8443     = auto+mws
                   -L http://:8080          = http+tcp     -F mws://SERVER:8443 = http+mws
                 handlers:   ${KNOWN_TYPES.handlers.join(' ')}
                 listeners:  ${KNOWN_TYPES.listeners.join(' ')}
                 connectors: ${KNOWN_TYPES.connectors.join(' ')}
                 dialers:    ${KNOWN_TYPES.dialers.join(' ')}
  user:pass@     -L: credentials clients must send (handler auth); -F: credentials sent to the node
                 (connector auth).        -L http+mws://user:pass@:8443?path=/ws
  ?auth=BASE64   Same, as base64("user:pass"), when there is no user:pass@.   ?auth=dXNlcjpwYXNz
  host:port      IPv6 literals in brackets.               -L http://[::1]:8080
  :PORT-PORT     -L: one service per port.                -L socks5://:1080-1082
  a:1,b:2        -F: several nodes in one hop (round-robin by default).
                                          -F http+mws://a.example:8443,b.example:8443?path=/ws
  /host:port,... -L: forward targets (port forwarding through the chain). With a tcp listener the
                 handler becomes tcp, with other listeners forward; a WebSocket path therefore goes
                 in ?path=, never in the URL path.       -L tcp://:2222/10.0.0.5:22,10.0.0.6:22
  ?key=value     Metadata. -L: copied to handler, listener and service unless the key is prefixed
                 handler., listener. or service.; -F: copied to connector, dialer, node and hop
                 unless prefixed connector., dialer., node. or hop. Keys are case-insensitive; the
                 first value of a key wins.              -L "http+mws://:8443?path=/ws&handler.retries=2"
  ?retries=N     -L: extra route attempts of the handler.          ?retries=2

Examples:
  server:        gost-ts -L "http+mws://:8443?path=/ws"
  client:        gost-ts -L :8080 -F "http+mws://SERVER:8443?path=/ws"
  TLS server:    gost-ts -L "http+mwss://:443?path=/ws&certFile=cert.pem&keyFile=key.pem"
  verified TLS:  gost-ts -L :8080 -F "http+mwss://srv.example:443?path=/ws&secure=true&serverName=srv.example"
  smux v2:       gost-ts -L :8080 -F "http+mws://SERVER:8443?path=/ws&mux.version=2"  (server needs it too)
  reverse:       gost-ts -L "socks5+mws://:8443?path=/ws&bind=true"                      (server)
                 gost-ts -L rtcp://:2222/127.0.0.1:22 -F "socks5+mws://SERVER:8443?path=/ws"  (SERVER:2222 -> here:22)

mws / mwss parameters (-F: dialer, -L: listener). "a | b": aliases, the first one given wins.
${params(MWS_PARAMS)}

TLS parameters (mwss, wss, tls). Without certFile a listener uses the default certificate
(top-level "tls:" in a config file).
${params(TLS_PARAMS)}

Selector parameters (-F: the hop; -L: the forward targets).
${params(SELECTOR_PARAMS)}
`;
}
