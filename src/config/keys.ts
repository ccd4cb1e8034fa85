/**
 * The one description of every option a plugin reads from its metadata (`?key=value` on the
 * command line, `metadata:` in a config file) and of the URL keys that become struct fields (TLS,
 * selector). Everything else is produced from it:
 *
 *   - the plugins' metadata parsers look their keys up through `OPTIONS[id].keys`;
 *   - the builder (`build.ts`) warns about `status: 'ignored'` keys and about keys given on the
 *     side where they mean nothing (`readHeaderTimeout` on `-F`), and rejects keys nobody knows;
 *   - `--help` (`src/cli/help.ts`) and the README tables (`npm run docs`, `src/config/docs.ts`).
 *
 * To add an option: add one entry here (aliases in GOST's lookup order, the first one present
 * wins), read it in the plugin's parser with `md.<type>(OPTIONS['your.id'].keys, default)`, then run
 * `npm run docs` to refresh the README. The protocol core may not import this layer, so the
 * WebSocket and smux keys live next to their parsers (their `option-keys.ts`, spread in below).
 * A GOST key that gost-ts accepts but does not act on is an entry with `status: 'ignored'` (the
 * builder warns when it is used). A new plugin whose keys are all listed here needs nothing else.
 * Plugin type names are not listed here: they come from the registries (`registry/builtins.ts`).
 */
import type { OptionSpec, Where } from '../core/option-spec.js';
import { DEFAULT_LIMITS } from '../common/limits.js';
import { DEFAULT_UDP_MAX_SESSIONS } from '../common/udp/peer-sessions.js';
import { MUX_OPTIONS } from '../mux/smux/option-keys.js';
import { WS_OPTIONS } from '../transport/websocket/option-keys.js';

export type { OptionGroup, OptionSpec, Where } from '../core/option-spec.js';

const ignored = (keys: readonly string[], where: readonly Where[], what: string): OptionSpec => ({
  keys,
  type: 'string',
  def: '-',
  where,
  status: 'ignored',
  group: 'unsupported',
  summary: what,
});

export const OPTIONS = {
  // ---- WebSocket (mws, mwss, ws, wss): src/transport/websocket/option-keys.ts ----
  ...WS_OPTIONS,
  'listener.keepalive': {
    keys: ['keepalive'],
    type: 'bool',
    def: 'false',
    where: ['listener'],
    types: 'mws mwss ws wss tls tcp',
    status: 'applied',
    group: 'mws',
    summary: 'TCP keepalive on accepted connections.',
    detail: 'TCP keepalive on accepted connections (`keepalive.idle` tunes it)',
    example: '?keepalive=true',
  },
  'listener.keepalive.idle': {
    keys: ['keepalive.idle'],
    type: 'duration',
    def: 'OS',
    where: ['listener'],
    types: 'mws mwss ws wss tls',
    status: 'applied',
    group: 'mws',
    summary: 'Idle time before the first TCP keepalive probe.',
    example: '?keepalive=true&keepalive.idle=30s',
  },
  // ---- smux (mws, mwss): src/mux/smux/option-keys.ts ----
  ...MUX_OPTIONS,
  // ---- Limits of an mws/mwss listener (src/common/limits.ts; 0 = no limit) ----
  'limit.maxSessions': {
    keys: ['maxSessions'],
    type: 'int',
    def: String(DEFAULT_LIMITS.sessionsPerListener),
    where: ['listener'],
    types: 'mws mwss',
    status: 'applied',
    group: 'mws',
    summary: 'WebSocket sessions per listener; more upgrades are answered 503.',
    example: '?maxSessions=1000',
  },
  'limit.maxHandshakes': {
    keys: ['ws.maxHandshakes', 'maxHandshakes'],
    type: 'int',
    def: String(DEFAULT_LIMITS.handshakesPerListener),
    where: ['listener'],
    types: 'mws mwss ws wss tls',
    status: 'applied',
    group: 'mws',
    summary:
      'Handshakes in progress per listener, from TCP accept to the 101 (TLS included); more connections are closed at once.',
    example: '?maxHandshakes=256',
  },
  'limit.maxStreams': {
    keys: ['mux.maxStreams', 'muxMaxStreams'],
    type: 'int',
    def: String(DEFAULT_LIMITS.streamsPerSession),
    where: ['listener'],
    types: 'mws mwss',
    status: 'applied',
    group: 'mws',
    summary: 'Open streams per session; a SYN beyond it is answered with FIN.',
    example: '?mux.maxStreams=4096',
  },
  'limit.maxPendingStreams': {
    keys: ['mux.maxPendingStreams', 'muxMaxPendingStreams'],
    type: 'int',
    def: String(DEFAULT_LIMITS.pendingStreamsPerSession),
    where: ['listener'],
    types: 'mws mwss',
    status: 'applied',
    group: 'mws',
    summary: 'Streams per session that have sent no byte yet; more are answered with FIN.',
    example: '?mux.maxPendingStreams=256',
  },
  'limit.maxUdpPerSession': {
    keys: ['udp.maxPerSession'],
    type: 'int',
    def: String(DEFAULT_LIMITS.udpPerSession),
    where: ['listener'],
    types: 'mws mwss',
    status: 'applied',
    group: 'mws',
    summary:
      'UDP associations and binds open at once per session (SOCKS5 UDP ASSOCIATE/UDP-TUN, relay UDP); more are refused with the failure reply.',
    example: '?udp.maxPerSession=32',
  },

  // ---- TLS (URL keys that fill the listener's or dialer's `tls:`) ----
  'tls.certFile': {
    keys: ['tls.certFile', 'certFile', 'cert'],
    name: 'certFile',
    type: 'string',
    def: 'cert.pem, else generated',
    where: ['listener', 'dialer'],
    types: 'tls mwss wss',
    status: 'applied',
    group: 'tls',
    summary: '-L: server certificate; -F: client certificate.',
    detail:
      'certificate (dialer: client certificate for mutual TLS). Listener default: `cert.pem`+`key.pem` in the working directory, else a generated ECDSA P-256 self-signed certificate (CN `gost.run`)',
    example: '?certFile=cert.pem',
  },
  'tls.keyFile': {
    keys: ['tls.keyFile', 'keyFile', 'key'],
    name: 'keyFile',
    type: 'string',
    def: 'key.pem',
    where: ['listener', 'dialer'],
    types: 'tls mwss wss',
    status: 'applied',
    group: 'tls',
    summary: 'The private key of certFile.',
    example: '?keyFile=key.pem',
  },
  'tls.caFile': {
    keys: ['tls.caFile', 'caFile', 'ca'],
    name: 'caFile',
    type: 'string',
    def: '-',
    where: ['listener', 'dialer'],
    types: 'tls mwss wss',
    status: 'applied',
    group: 'tls',
    summary: '-L: require client certificates signed by this CA; -F: trust this CA.',
    detail:
      'listener: require client certificates signed by this CA; dialer: verify the server chain against this CA (the host name too when `secure=true`)',
    example: '?caFile=ca.pem',
  },
  'tls.secure': {
    keys: ['tls.secure', 'secure'],
    name: 'secure',
    type: 'bool',
    def: 'false',
    where: ['dialer'],
    types: 'tls mwss wss',
    status: 'applied',
    group: 'tls',
    summary: 'Verify the server certificate and name.',
    detail: 'verify the server certificate and name (off by default, like GOST; a warning is logged)',
    example: '?secure=true',
  },
  'tls.serverName': {
    keys: ['tls.serverName', 'serverName'],
    name: 'serverName',
    type: 'string',
    def: 'node host',
    where: ['dialer'],
    types: 'tls mwss wss',
    status: 'applied',
    group: 'tls',
    summary: 'SNI and the name verified (never an IP literal).',
    example: '?serverName=srv.example',
  },
  'tls.handshakeTimeout': {
    keys: ['handshakeTimeout', 'tls.handshakeTimeout'],
    type: 'duration',
    def: 'listener: 60s; dialer: none',
    where: ['listener', 'dialer'],
    types: 'tls',
    status: 'applied',
    group: 'tls',
    summary: 'Bound on the TLS handshake.',
    example: '?handshakeTimeout=10s',
  },

  // ---- Selector (-F: the hop's nodes; -L: the forward targets) ----
  'selector.strategy': {
    keys: ['strategy'],
    type: 'enum',
    def: 'round',
    where: ['hop', 'service'],
    status: 'applied',
    group: 'selector',
    summary: 'Node order (the strategies are listed above).',
    example: '?strategy=fifo',
  },
  'selector.maxFails': {
    keys: ['maxFails', 'max_fails'],
    type: 'int',
    def: '1',
    where: ['hop', 'service'],
    status: 'applied',
    group: 'selector',
    summary: 'Failures before a node is skipped.',
    example: '?maxFails=3',
  },
  'selector.failTimeout': {
    keys: ['failTimeout', 'fail_timeout'],
    type: 'duration',
    def: '30s (config files: 10s)',
    where: ['hop', 'service'],
    status: 'applied',
    group: 'selector',
    summary: 'How long a failed node is skipped.',
    example: '?failTimeout=1m',
  },

  // ---- Proxy handlers and connectors ----
  'handler.retries': {
    keys: ['retries'],
    type: 'int',
    def: '0',
    where: ['handler'],
    status: 'applied',
    group: 'proxy',
    summary: 'Extra route attempts of the handler.',
    example: '?retries=2',
  },
  'handler.readTimeout': {
    keys: ['readTimeout'],
    type: 'duration',
    def: '15s',
    where: ['handler'],
    types: 'auto http socks5 socks4 relay',
    status: 'applied',
    group: 'proxy',
    summary: 'Bound on reading the request.',
    example: '?readTimeout=5s',
  },
  'http.proxyAgent': {
    keys: ['http.proxyAgent', 'proxyAgent'],
    name: 'proxyAgent',
    type: 'string',
    def: 'gost/3.0',
    where: ['handler'],
    types: 'http auto',
    status: 'applied',
    group: 'proxy',
    summary: 'Proxy-Agent header of the replies.',
    example: '?proxyAgent=proxy',
  },
  'http.header': {
    keys: ['http.header', 'header'],
    name: 'header',
    type: 'map',
    def: '-',
    where: ['handler'],
    types: 'http auto',
    status: 'applied',
    group: 'proxy',
    summary: 'Extra headers on error replies (400/403/407/503).',
    example: '?header=X-A:1',
  },
  'http.authBasicRealm': {
    keys: ['authBasicRealm'],
    type: 'string',
    def: 'gost',
    where: ['handler'],
    types: 'http auto',
    status: 'applied',
    group: 'proxy',
    summary: 'Realm of the 407 reply.',
    example: '?authBasicRealm=office',
  },

  'bind.allow': {
    keys: ['bind.allow'],
    type: 'string',
    def: 'any port >= 1024',
    where: ['handler'],
    types: 'socks5 relay',
    status: 'applied',
    group: 'proxy',
    summary: 'Beyond GOST: what a reverse-tunnel client may bind, [host:]port[-port] rules, comma-separated.',
    example: '?bind=true&bind.allow=2000-2999',
  },
  'rtcp.backlog': {
    keys: ['backlog'],
    type: 'int',
    def: String(DEFAULT_LIMITS.bindBacklog),
    where: ['listener'],
    types: 'rtcp',
    status: 'applied',
    group: 'proxy',
    summary:
      'rtcp: peer connections the reverse tunnel holds before the service takes them; more are refused (limit `bind_backlog`).',
    example: '?backlog=256',
  },
  'socks5.publicAddr': {
    keys: ['socks.publicAddr', 'publicAddr'],
    name: 'publicAddr',
    type: 'string',
    def: 'the listener address',
    where: ['handler'],
    types: 'socks5',
    status: 'applied',
    group: 'proxy',
    summary: 'The host a bind reply reports.',
    example: '?bind=true&publicAddr=203.0.113.5',
  },
  'relay.publicAddr': {
    keys: ['relay.publicAddr', 'publicAddr'],
    name: 'publicAddr',
    type: 'string',
    def: 'the listener address',
    where: ['handler'],
    types: 'relay',
    status: 'applied',
    group: 'proxy',
    summary: 'Beyond GOST: the host a relay bind response reports.',
    example: '?bind=true&relay.publicAddr=203.0.113.5',
  },
  'socks5.comp': {
    keys: ['comp'],
    type: 'bool',
    def: 'false',
    where: ['handler'],
    types: 'socks5',
    status: 'applied',
    group: 'proxy',
    summary: 'No peer reply on inner bind streams (GOST v2 clients).',
    example: '?bind=true&comp=true',
  },
  'relay.nodelay': {
    keys: ['nodelay'],
    type: 'bool',
    def: 'false',
    where: ['handler', 'connector'],
    types: 'relay',
    status: 'applied',
    group: 'proxy',
    summary: "Send relay's response/request at once rather than with the first data.",
    example: '?nodelay=true',
  },
  'relay.connectTimeout': {
    keys: ['connectTimeout'],
    type: 'duration',
    def: 'none',
    where: ['connector'],
    types: 'relay',
    status: 'applied',
    group: 'proxy',
    summary: 'Bound on the relay handshake with the next node.',
    example: '?connectTimeout=10s',
  },
  'socks5.bind': {
    keys: ['bind'],
    type: 'bool',
    def: 'false',
    where: ['handler'],
    types: 'socks5 relay',
    status: 'applied',
    group: 'proxy',
    summary: 'MUX BIND allowed (reverse tunnels); off: refused with 05 02, as GOST.',
    example: '?bind=true',
  },
  'socks5.notls': {
    keys: ['notls'],
    type: 'bool',
    def: 'false',
    where: ['handler', 'connector'],
    types: 'socks5',
    status: 'applied',
    group: 'proxy',
    summary: "Do not offer (connector) or choose (handler) GOST's TLS methods 0x80/0x82.",
    example: '?notls=true',
  },
  'connector.header': {
    keys: ['header'],
    type: 'map',
    def: '-',
    where: ['connector'],
    types: 'http',
    status: 'applied',
    group: 'proxy',
    summary: 'Extra CONNECT request headers.',
    example: '?header=X-A:1',
  },
  'connector.timeout': {
    keys: ['timeout'],
    type: 'duration',
    def: 'none',
    where: ['connector'],
    types: 'http socks5 socks4',
    status: 'applied',
    group: 'proxy',
    summary: 'Bound on the handshake with the next node.',
    example: '?timeout=10s',
  },
  'socks4.disable4a': {
    keys: ['disable4a'],
    type: 'bool',
    def: 'false',
    where: ['connector'],
    types: 'socks4',
    status: 'applied',
    group: 'proxy',
    summary: 'Send plain SOCKS4 (host names resolved locally).',
    example: '?disable4a=true',
  },
  'node.backup': {
    keys: ['backup'],
    type: 'bool',
    def: 'false',
    where: ['node'],
    status: 'applied',
    group: 'proxy',
    summary: 'Use this node only when no other node is usable.',
    example: '?backup=true',
  },
  'node.weight': {
    keys: ['weight'],
    type: 'int',
    def: '1',
    where: ['node'],
    status: 'applied',
    group: 'proxy',
    summary: 'Relative weight of the node for the random strategy.',
    example: '?weight=2',
  },

  // ---- UDP: the socks5/relay handlers' UDP, the udp and rudp listeners (src/common/udp) ----
  'handler.udp': {
    keys: ['udp'],
    type: 'bool',
    def: 'false',
    where: ['handler'],
    types: 'socks5 http auto',
    status: 'applied',
    group: 'udp',
    summary:
      'SOCKS5 UDP ASSOCIATE and UDP-TUN relay allowed; off: refused 05 02, as GOST (http: UDP is always refused, 403).',
    example: '?udp=true',
  },
  'handler.udp.bufferSize': {
    keys: ['udp.bufferSize', 'udpBufferSize'],
    name: 'udp.bufferSize',
    type: 'int',
    def: '4096',
    where: ['handler'],
    types: 'socks5 relay auto',
    status: 'applied',
    group: 'udp',
    summary:
      'socks5/relay handler: largest datagram a UDP relay or UDP bind carries, bytes; larger ones are dropped (too_large).',
    example: '?udp=true&udp.bufferSize=8192',
  },
  'udp.keepalive': {
    keys: ['keepalive'],
    type: 'bool',
    def: 'false',
    where: ['listener'],
    types: 'udp',
    status: 'applied',
    group: 'udp',
    summary:
      "udp listener: keep a peer's session after its first reply (off: it ends once answered, as GOST).",
    example: '?keepalive=true',
  },
  'udp.ttl': {
    keys: ['ttl', 'keepalive.ttl'],
    type: 'duration',
    def: '5s',
    where: ['listener'],
    types: 'udp',
    status: 'applied',
    group: 'udp',
    summary: 'udp listener: a peer session ends after this long without a datagram either way.',
    example: '?keepalive=true&ttl=30s',
  },
  'rudp.ttl': {
    keys: ['ttl'],
    type: 'duration',
    def: '5s',
    where: ['listener'],
    types: 'rudp',
    status: 'applied',
    group: 'udp',
    summary: 'rudp listener: a peer session ends after this long without a datagram either way.',
    example: '?ttl=30s',
  },
  'udp.readBufferSize': {
    keys: ['readBufferSize', 'udp.bufferSize'],
    type: 'int',
    def: '4096',
    where: ['listener'],
    types: 'udp',
    status: 'applied',
    group: 'udp',
    summary: 'udp listener: largest datagram taken from a peer, bytes; larger ones are dropped (too_large).',
    example: '?readBufferSize=8192',
  },
  'rudp.readBufferSize': {
    keys: ['readBufferSize'],
    type: 'int',
    def: '8192',
    where: ['listener'],
    types: 'rudp',
    status: 'applied',
    group: 'udp',
    summary: 'rudp listener: largest datagram taken from a peer, bytes; larger ones are dropped (too_large).',
    example: '?readBufferSize=16384',
  },
  'udp.readQueueSize': {
    keys: ['readQueueSize', 'recvQueueSize'],
    type: 'int',
    def: '128',
    where: ['listener'],
    types: 'udp',
    status: 'applied',
    group: 'udp',
    summary:
      "udp listener: datagrams a peer's session holds while its handler is busy; more are dropped (queue_full).",
    example: '?readQueueSize=512',
  },
  'rudp.readQueueSize': {
    keys: ['readQueueSize'],
    type: 'int',
    def: '1024',
    where: ['listener'],
    types: 'rudp',
    status: 'applied',
    group: 'udp',
    summary:
      "rudp listener: datagrams a peer's session holds while its handler is busy; more are dropped (queue_full).",
    example: '?readQueueSize=4096',
  },
  'udp.maxSessions': {
    keys: ['maxSessions'],
    type: 'int',
    def: String(DEFAULT_UDP_MAX_SESSIONS),
    where: ['listener'],
    types: 'udp rudp',
    status: 'applied',
    group: 'udp',
    summary:
      'udp/rudp listener, beyond GOST: peer sessions at once; a new peer beyond it is dropped (session_limit) and logged.',
    example: '?maxSessions=1000',
  },

  // ---- GOST keys accepted and ignored (a warning names each) ----
  'ignored.mux.maxStreamWindow': ignored(['mux.maxStreamWindow'], ['dialer', 'listener'], 'yamux window'),
  'ignored.tcp.keepalive': ignored(
    ['tcp.keepalive', 'tcp.keepalive.idle', 'tcp.keepalive.interval', 'tcp.keepalive.count'],
    ['dialer'],
    'TCP keepalive of the carrier connection',
  ),
  'ignored.keepalive.count': ignored(['keepalive.count'], ['listener'], 'TCP keepalive probe count'),
  'ignored.ws.readTimeout': ignored(['ws.readTimeout'], ['dialer', 'listener'], 'WebSocket read timeout'),
  'ignored.udp.backlog': ignored(
    ['backlog'],
    ['listener'],
    'udp/rudp session backlog (sessions go to the handler at once)',
  ),
  'ignored.proxyProtocol': ignored(['proxyProtocol'], ['listener', 'dialer'], 'PROXY protocol header'),
  'ignored.socket': ignored(
    ['interface', 'so_mark', 'netns', 'netns.out', 'mptcp'],
    ['service', 'hop', 'listener', 'dialer'],
    'socket options',
  ),
  'ignored.sniffing': ignored(
    ['sniffing', 'sniffing.timeout', 'sniffing.websocket'],
    ['handler'],
    'protocol sniffing',
  ),
  'ignored.observer': ignored(
    ['observer.period', 'observer.resetTraffic'],
    ['handler', 'service'],
    'traffic observer',
  ),
  'ignored.limiter': ignored(['limiter.refreshInterval', 'limiter.scope'], ['handler'], 'rate limiter'),
  'ignored.probeResist': ignored(['probeResist', 'knock'], ['handler'], 'probe resistance'),
  'ignored.routing': ignored(
    ['hash', 'dns', 'hosts', 'resolver', 'bypass', 'admission'],
    ['handler', 'service', 'hop', 'node'],
    'bypass, admission, resolver, hosts, hash routing',
  ),
} as const satisfies Record<string, OptionSpec>;

export type OptionId = keyof typeof OPTIONS;

const ALL: ReadonlyArray<readonly [OptionId, OptionSpec]> = Object.entries(OPTIONS) as Array<
  [OptionId, OptionSpec]
>;

/** Every option entry (in table order) that has `key` among its aliases (case-insensitive). */
export function optionsForKey(key: string): Array<readonly [OptionId, OptionSpec]> {
  const k = key.toLowerCase();
  return ALL.filter(([, spec]) => spec.keys.some((a) => a.toLowerCase() === k));
}

/** Every entry, in table order. */
export function allOptions(): ReadonlyArray<readonly [OptionId, OptionSpec]> {
  return ALL;
}

// ---------------------------------------------------------------------------------------------
// Config file structs (YAML/JSON): the keys each struct decodes, and GOST's keys it accepts and
// ignores. The decoder (`decode.ts`) reads its structs through these lists.

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
  // Not applied (no TLS version/cipher/ALPN control yet): warned, not silently dropped.
  tls: ['options'],
  tlsOptions: [],
  auth: [],
  auther: ['reload', 'file', 'redis', 'http', 'plugin'],
  log: ['rotation'],
  metrics: ['auth', 'auther'],
  api: ['auther'],
} as const satisfies Record<string, readonly string[]>;

export type StructKind = keyof typeof IGNORED_KEYS;

/** The keys each struct understands, in GOST's spelling (matched case-insensitively). */
export const KNOWN_KEYS: Record<StructKind, readonly string[]> = {
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
  tls: ['certFile', 'keyFile', 'caFile', 'secure', 'serverName', 'validity', 'commonName', 'organization'],
  tlsOptions: ['minVersion', 'maxVersion', 'cipherSuites', 'alpn'],
  auth: ['username', 'password'],
  auther: ['name', 'auths'],
  log: ['level', 'format', 'output'],
  metrics: ['addr', 'path'],
  api: ['addr', 'pathPrefix', 'accesslog', 'auth'],
};
