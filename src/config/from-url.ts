import { isIPv6 } from 'node:net';
import { ConfigError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { strategyProblem } from '../chain/selector.js';
import { GOST_TYPES } from './gost-types.js';
import { OPTIONS, type OptionSpec } from './keys.js';
import type { DecodeReport } from './struct.js';
import type {
  AuthConfig,
  ForwardNodeConfig,
  HandlerConfig,
  HopConfig,
  ListenerConfig,
  MetadataRecord,
  NodeConfig,
  SelectorConfig,
  ServiceConfig,
  TLSConfig,
} from './types.js';

/**
 * GOST's command-line URL grammar (`-L`, `-F`) mapped onto the config types, following go-gost/x
 * `config/cmd/cmd.go` (facts §6):
 *
 *   [scheme://][user:pass@]host[:port][/targets][?key=value&...]
 *
 * Where GOST consults its plugin registry ("is `mws` a listener?") we consult GOST's own type list
 * (`GOST_TYPES`), so a command line means what it means to GOST: a type only GOST implements stays
 * and the builder says it is not implemented; a name no GOST registry has falls back as in GOST
 * (unknown handler → `auto`, listener → `tcp`, connector → `http`, dialer → `tcp`), with a warning
 * naming it, since `-L http+mwz://` then serves plain TCP.
 */

/** The plugin type names that exist, per kind (what GOST's registries answer). */
export interface KnownTypes {
  readonly handlers: readonly string[];
  readonly listeners: readonly string[];
  readonly connectors: readonly string[];
  readonly dialers: readonly string[];
}

/** Listeners whose port-forward handler has the listener's name (GOST `buildServiceConfig`). */
const PORT_FORWARD_LISTENERS = ['tcp', 'udp', 'rtcp', 'rudp', 'tun', 'tap', 'dns', 'unix', 'runix', 'serial'];

/**
 * Query keys GOST's command line turns into features gost-ts does not implement (bypass lists,
 * resolvers, host maps, admission, limiters). They are dropped from handler (-L) or all (-F)
 * metadata exactly where GOST consumes them, with a warning.
 */
export const CLI_IGNORED_KEYS = {
  service: [
    'admission',
    'bypass',
    'resolver',
    'hosts',
    'limiter.in',
    'limiter.out',
    'limiter.conn.in',
    'limiter.conn.out',
    'climiter',
    'rlimiter',
  ],
  node: ['bypass', 'resolver', 'hosts'],
} as const;

/** GOST's command-line selector default `failTimeout` (config files default to 10 s). */
const CLI_DEFAULT_FAIL_TIMEOUT_MS = 30_000;

/** A command-line URL split into its parts, before any GOST interpretation. */
export interface GostUrl {
  /** Lower-case; `auto` when missing or when the text starts with `:`; `https` becomes `http+tls`. */
  readonly scheme: string;
  /** Percent-decoded `user[:pass]@`, when present. */
  readonly userinfo?: { readonly username: string; readonly password?: string };
  /** The authority without userinfo, verbatim: `:8080`, `[::1]:8080`, `a:1,b:2`, `:8000-8010`. */
  readonly host: string;
  /** The path, still percent-encoded (GOST uses `EscapedPath`), with its leading `/`; `''` if none. */
  readonly path: string;
  /** Decoded query pairs in order, repeated keys included. */
  readonly query: ReadonlyArray<readonly [string, string]>;
}

function urlError(flag: string, url: string, reason: string): ConfigError {
  return new ConfigError(`${flag} ${JSON.stringify(url)}`, reason);
}

function decodeComponent(s: string, plusIsSpace: boolean): string | undefined {
  try {
    return decodeURIComponent(plusIsSpace ? s.replace(/\+/g, ' ') : s);
  } catch {
    return undefined;
  }
}

const PLUGIN_PREFIXES = ['handler.', 'listener.', 'service.', 'connector.', 'dialer.', 'node.', 'hop.'];
const MAP_KEYS = new Set(
  Object.values(OPTIONS as Record<string, OptionSpec>)
    .filter((o) => o.type === 'map')
    .flatMap((o) => o.keys.map((k) => k.toLowerCase())),
);

/** Map-valued keys (`header`) take `;`-separated `name:value` pairs on the command line. */
function takesHeaderList(rawKey: string): boolean {
  let key = (decodeComponent(rawKey, true) ?? '').toLowerCase();
  const prefix = PLUGIN_PREFIXES.find((p) => key.startsWith(p));
  if (prefix !== undefined) key = key.slice(prefix.length);
  return MAP_KEYS.has(key);
}

/**
 * Splits a command-line URL (GOST `Norm` + `cutHost` + Go's `url.Parse`). Throws ConfigError
 * (path `<flag> "<url>"`) for an empty URL, control characters, a bad scheme, a bad
 * percent-encoding or a `;` query separator (Go silently drops such a parameter). A map-valued key
 * (`header=A:1;B:2`) is the exception: its value is a `;`-separated list, which GOST drops.
 */
export function parseGostUrl(url: string, flag = '-L'): GostUrl {
  const fail = (reason: string): never => {
    throw urlError(flag, url, reason);
  };
  let s = url.trim();
  if (s === '') fail('empty URL');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(s)) fail('control character in URL');
  if (s.startsWith(':') || !s.includes('://')) s = `auto://${s}`;
  const sep = s.indexOf('://');
  let scheme = s.slice(0, sep);
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(scheme)) fail(`invalid scheme "${scheme}"`);
  scheme = scheme.toLowerCase();
  if (scheme === 'https') scheme = 'http+tls';

  let rest = s.slice(sep + 3);
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const rawQuery = q >= 0 ? rest.slice(q + 1) : '';
  if (q >= 0) rest = rest.slice(0, q);
  const slash = rest.indexOf('/');
  let authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash) : '';

  let userinfo: GostUrl['userinfo'];
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const raw = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = raw.indexOf(':');
    const username = decodeComponent(colon >= 0 ? raw.slice(0, colon) : raw, false);
    const password = colon >= 0 ? decodeComponent(raw.slice(colon + 1), false) : undefined;
    if (username === undefined || (colon >= 0 && password === undefined))
      fail('invalid percent-encoding in user info');
    userinfo = password === undefined ? { username: username ?? '' } : { username: username ?? '', password };
  }

  const query: Array<readonly [string, string]> = [];
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (pair.includes(';') && !(eq > 0 && takesHeaderList(pair.slice(0, eq))))
      fail(`";" in query "${pair}" (separate parameters with "&")`);
    const key = decodeComponent(eq >= 0 ? pair.slice(0, eq) : pair, true);
    const value = decodeComponent(eq >= 0 ? pair.slice(eq + 1) : '', true);
    if (key === undefined || value === undefined) fail(`invalid percent-encoding in query "${pair}"`);
    if (key === '' || key === undefined || value === undefined) continue;
    query.push([key, value]);
  }
  return userinfo === undefined
    ? { scheme, host: authority, path, query }
    : { scheme, userinfo, host: authority, path, query };
}

/**
 * Query parameters as GOST's metadata map: first value per key, keys looked up case-insensitively
 * (the first spelling given is kept), insertion order preserved.
 */
class QueryMap {
  private readonly map = new Map<string, { key: string; value: string }>();

  constructor(pairs: ReadonlyArray<readonly [string, string]>) {
    for (const [key, value] of pairs) {
      const lower = key.toLowerCase();
      if (!this.map.has(lower)) this.map.set(lower, { key, value });
    }
  }

  /** The value of the first alias present. */
  get(...aliases: string[]): string | undefined {
    for (const a of aliases) {
      const e = this.map.get(a.toLowerCase());
      if (e !== undefined) return e.value;
    }
    return undefined;
  }

  /** The spelling the user gave for the first alias present (for error messages). */
  spelling(...aliases: string[]): string {
    for (const a of aliases) {
      const e = this.map.get(a.toLowerCase());
      if (e !== undefined) return e.key;
    }
    return aliases[0] ?? '';
  }

  /** Removes the keys and returns the value of the first one present. */
  take(...aliases: string[]): string | undefined {
    const v = this.get(...aliases);
    for (const a of aliases) this.map.delete(a.toLowerCase());
    return v;
  }

  entries(): Array<[string, string]> {
    return [...this.map.values()].map((e) => [e.key, e.value]);
  }
}

type HostPort = { host: string; port: string };

/** `host:port` / `[v6]:port` split; returns an error reason instead of throwing. */
function splitHostPort(s: string): HostPort | string {
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return `missing "]" in "${s}"`;
    const inner = s.slice(1, end);
    if (!isIPv6(inner.split('%')[0] ?? '')) return `invalid IPv6 address "${inner}"`;
    const rest = s.slice(end + 1);
    if (rest === '' || rest === ':') return `missing port in "${s}"`;
    if (!rest.startsWith(':')) return `unexpected "${rest}" after "]" in "${s}"`;
    return { host: s.slice(0, end + 1), port: rest.slice(1) };
  }
  const colons = s.split(':').length - 1;
  if (colons === 0) return `missing port in "${s}"`;
  if (colons > 1) return `IPv6 address "${s}" must be in brackets, e.g. [::1]:8080`;
  const i = s.indexOf(':');
  const host = s.slice(0, i);
  const port = s.slice(i + 1);
  if (!/^[A-Za-z0-9._~%!$&'()*+;=-]*$/.test(host)) return `invalid host "${host}"`;
  if (port === '') return `missing port in "${s}"`;
  return { host, port };
}

/** A port or (when `allowRange`) `min-max`, expanded; returns an error reason instead of throwing. */
function expandPorts(port: string, allowRange: boolean, min: number): number[] | string {
  const range = /^(\d+)-(\d+)$/.exec(port);
  if (range && allowRange) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (lo < min || hi > 65535 || lo > hi) return `invalid port range "${port}" (${min}-65535, low-high)`;
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  }
  if (!/^\d+$/.test(port)) return `invalid port "${port}"`;
  const n = Number(port);
  if (n < min || n > 65535) return `port ${port} out of range (${min}-65535)`;
  return [n];
}

/** `host:port[-port]` → addresses, one per port, host part kept verbatim (brackets included). */
function expandAddr(s: string, allowRange: boolean, min: number): string[] | string {
  const hp = splitHostPort(s);
  if (typeof hp === 'string') return hp;
  const ports = expandPorts(hp.port, allowRange, min);
  if (typeof ports === 'string') return ports;
  return /^\d+$/.test(hp.port) ? [s] : ports.map((p) => `${hp.host}:${p}`);
}

/** GOST `parseAuthFromCmd`: base64url without padding, else standard base64. */
function decodeAuthParam(value: string): AuthConfig | undefined {
  let text: string;
  if (/^[A-Za-z0-9_-]*$/.test(value) && value.length % 4 !== 1)
    text = Buffer.from(value, 'base64url').toString('utf8');
  else if (/^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length % 4 === 0)
    text = Buffer.from(value, 'base64').toString('utf8');
  else return undefined;
  const colon = text.indexOf(':');
  return colon < 0
    ? { username: text, password: '' }
    : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Shadowsocks SIP002 userinfo: `base64(method:password)@` with no password part. */
function decodeSip002(userinfo: NonNullable<GostUrl['userinfo']>): AuthConfig | undefined {
  if (userinfo.password !== undefined || userinfo.username === '') return undefined;
  const decoded = decodeAuthParam(userinfo.username);
  return decoded && decoded.password !== '' ? decoded : undefined;
}

/** `user:pass@` first; else the `auth=base64(user:pass)` parameter (always removed from metadata). */
function takeAuth(u: GostUrl, m: QueryMap, fail: (reason: string) => never): AuthConfig | undefined {
  let auth: AuthConfig | undefined;
  if (u.userinfo !== undefined) {
    if (u.scheme.startsWith('ss')) auth = decodeSip002(u.userinfo);
    auth ??= { username: u.userinfo.username, password: u.userinfo.password ?? '' };
  }
  const param = m.take('auth');
  if (auth === undefined && param !== undefined && param !== '') {
    auth = decodeAuthParam(param);
    if (auth === undefined) fail(`${m.spelling('auth')}: invalid base64 in auth parameter`);
  }
  return auth;
}

/** `strategy`, `maxFails`|`max_fails`, `failTimeout`|`fail_timeout` → a selector (GOST `parseSelector`). */
function takeSelector(m: QueryMap, fail: (reason: string) => never): SelectorConfig | undefined {
  const keys = {
    strategy: OPTIONS['selector.strategy'].keys,
    maxFails: OPTIONS['selector.maxFails'].keys,
    failTimeout: OPTIONS['selector.failTimeout'].keys,
  };
  const strategyKey = m.spelling(...keys.strategy);
  const maxFailsKey = m.spelling(...keys.maxFails);
  const failTimeoutKey = m.spelling(...keys.failTimeout);
  const strategy = m.take(...keys.strategy);
  const maxFails = m.take(...keys.maxFails);
  const failTimeout = m.take(...keys.failTimeout);
  if (strategy === undefined && maxFails === undefined && failTimeout === undefined) return undefined;
  const s = strategy === undefined || strategy === '' ? 'round' : strategy;
  const problem = strategyProblem(s);
  if (problem !== undefined) fail(`${strategyKey}: ${problem}`);
  let fails = 1;
  if (maxFails !== undefined && maxFails !== '') {
    if (!/^[+-]?\d+$/.test(maxFails)) fail(`${maxFailsKey}: expected an integer, got "${maxFails}"`);
    fails = Math.max(Number(maxFails), 0) || 1;
  }
  let timeout = CLI_DEFAULT_FAIL_TIMEOUT_MS;
  if (failTimeout !== undefined && failTimeout !== '') {
    const ms = parseDuration(failTimeout);
    if (ms === undefined) fail(`${failTimeoutKey}: expected a duration such as 30s, got "${failTimeout}"`);
    if (ms !== undefined && ms > 0) timeout = ms;
  }
  return { strategy: s, maxFails: fails, failTimeout: timeout };
}

function takeBool(m: QueryMap, fail: (reason: string) => never, ...aliases: string[]): boolean | undefined {
  const key = m.spelling(...aliases);
  const v = m.take(...aliases);
  if (v === undefined || v === '') return undefined;
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  return fail(`${key}: expected a boolean (true/false), got "${v}"`);
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** Certificate keys shared by -L and -F (GOST alias order: dotted first). */
function takeCertKeys(m: QueryMap): { certFile?: string; keyFile?: string; caFile?: string } {
  const certFile = nonEmpty(m.take(...OPTIONS['tls.certFile'].keys));
  const keyFile = nonEmpty(m.take(...OPTIONS['tls.keyFile'].keys));
  const caFile = nonEmpty(m.take(...OPTIONS['tls.caFile'].keys));
  return {
    ...(certFile === undefined ? {} : { certFile }),
    ...(keyFile === undefined ? {} : { keyFile }),
    ...(caFile === undefined ? {} : { caFile }),
  };
}

/** Moves keys GOST scopes to one level (`interface`, `so_mark`, ...) into that level's map only. */
function moveKeys(m: QueryMap, keys: readonly string[], target: Record<string, unknown>): void {
  for (const k of keys) {
    const spelled = m.spelling(k);
    const v = m.take(k);
    if (v !== undefined && v !== '') target[spelled] = v;
  }
}

const orUndefined = (r: Record<string, unknown>): MetadataRecord | undefined =>
  Object.keys(r).length === 0 ? undefined : r;

function cutPrefix(key: string, prefix: string): string | undefined {
  return key.toLowerCase().startsWith(prefix) && key.length > prefix.length
    ? key.slice(prefix.length)
    : undefined;
}

function warnIgnored(report: DecodeReport, flag: string, url: string, key: string): void {
  report.onWarning?.(`GOST option not supported by gost-ts; ignored`, { key, at: `${flag} ${url}` });
}

function dropIgnored(
  record: Record<string, unknown>,
  keys: readonly string[],
  report: DecodeReport,
  flag: string,
  url: string,
): void {
  const lower = new Set(keys.map((k) => k.toLowerCase()));
  for (const k of Object.keys(record)) {
    if (!lower.has(k.toLowerCase())) continue;
    delete record[k];
    warnIgnored(report, flag, url, k);
  }
}

/**
 * GOST's fallback for a name that is not a type of its kind. One name stands for both parts
 * (`mws://` = handler auto + listener mws), so a fallback is only news when the name is no type
 * of any kind: a typo such as `http+mwz://`, which would otherwise serve plain TCP.
 */
function fallBack(
  report: DecodeReport,
  url: string,
  known: KnownTypes,
  kind: string,
  given: string,
  fallback: string,
): string {
  const anyKind = [known.handlers, known.listeners, known.connectors, known.dialers];
  if (given !== '' && given !== 'auto' && !anyKind.some((names) => names.includes(given))) {
    report.onWarning?.(`unknown ${kind} type "${given}"; using "${fallback}" as GOST does`, {
      url,
      [kind]: given,
    });
  }
  return fallback;
}

/**
 * One `-L` argument → one service per listen port (`:8000-8010` gives 11), named
 * `service-<index>`, `service-<index+1>`, ... (GOST numbers services across all `-L` flags).
 *
 * `a+b://` = handler a + listener b; a single `a://` means both, each falling back (unknown
 * handler → `auto`, unknown listener → `tcp`). `user:pass@` (or `auth=base64`) → handler auth.
 * Query keys go to handler, listener and service metadata unless prefixed `handler.`,
 * `listener.`, `service.`; `certFile`/`keyFile`/`caFile` (and `tls.*`, `cert`, `key`, `ca`) → listener
 * TLS; `retries` → handler retries; `strategy`/`maxFails`/`failTimeout` → forwarder selector.
 * A URL path lists forward targets: handler becomes `tcp`/`rtcp` for those listeners, else `forward`
 * (`relay` stays). The chain is not set here (see `buildConfigFromArgs`).
 */
export function serviceFromUrl(
  url: string,
  index: number,
  known: KnownTypes = GOST_TYPES,
  report: DecodeReport = {},
): ServiceConfig[] {
  const fail = (reason: string): never => {
    throw urlError('-L', url, reason);
  };
  const u = parseGostUrl(url, '-L');
  const schemes = u.scheme.split('+');
  let handler = '';
  let listener = '';
  if (schemes.length === 1) handler = listener = schemes[0] ?? '';
  else if (schemes.length === 2) [handler = '', listener = ''] = schemes;
  if (!known.handlers.includes(handler)) handler = fallBack(report, url, known, 'handler', handler, 'auto');
  if (!known.listeners.includes(listener))
    listener = fallBack(report, url, known, 'listener', listener, 'tcp');

  if (u.host === '') fail('missing listen address');
  const addrs = expandAddr(u.host, true, 0);
  if (typeof addrs === 'string') return fail(addrs);

  const targets: ForwardNodeConfig[] = [];
  const remotes = u.path.replace(/^\/+|\/+$/g, '');
  if (remotes !== '') {
    for (const target of remotes.split(',')) {
      if (target === '') continue;
      const expanded = expandAddr(target, true, 1);
      if (typeof expanded === 'string') {
        const hint = ['ws', 'wss', 'mws', 'mwss'].includes(listener)
          ? ' (a URL path lists forward targets; give the WebSocket path as ?path=/ws)'
          : '';
        return fail(`forward target "${target}": ${expanded}${hint}`);
      }
      for (const addr of expanded) targets.push({ name: `target-${targets.length}`, addr });
    }
    if (handler !== 'relay') handler = PORT_FORWARD_LISTENERS.includes(listener) ? listener : 'forward';
  }

  const m = new QueryMap(u.query);
  const auth = takeAuth(u, m, fail);
  const cert = takeCertKeys(m);
  const tls: TLSConfig | undefined = Object.keys(cert).length === 0 ? undefined : cert;
  const serviceMd: Record<string, unknown> = {};
  moveKeys(m, ['interface', 'so_mark', 'proxyProtocol', 'netns', 'netns.out'], serviceMd);
  const selector = takeSelector(m, fail);

  const handlerMd: Record<string, unknown> = {};
  const listenerMd: Record<string, unknown> = {};
  for (const [key, value] of m.entries()) {
    const s = cutPrefix(key, 'service.');
    if (s !== undefined) {
      serviceMd[s] = value;
      continue;
    }
    const h = cutPrefix(key, 'handler.');
    if (h !== undefined) {
      handlerMd[h] = value;
      continue;
    }
    const l = cutPrefix(key, 'listener.');
    if (l !== undefined) {
      listenerMd[l] = value;
      continue;
    }
    handlerMd[key] = value;
    listenerMd[key] = value;
    serviceMd[key] = value;
  }

  let retries: number | undefined;
  const retriesKey = Object.keys(handlerMd).find((k) => k.toLowerCase() === 'retries');
  if (retriesKey !== undefined) {
    const v = String(handlerMd[retriesKey]);
    if (v !== '') {
      if (!/^[+-]?\d+$/.test(v)) fail(`${retriesKey}: expected an integer, got "${v}"`);
      if (Number(v) > 0) retries = Number(v);
    }
    delete handlerMd[retriesKey];
  }
  dropIgnored(handlerMd, CLI_IGNORED_KEYS.service, report, '-L', url);

  const handlerCfg = (): HandlerConfig => ({
    type: handler,
    ...(retries === undefined ? {} : { retries }),
    ...(auth === undefined ? {} : { auth: { ...auth } }),
    ...(orUndefined(handlerMd) === undefined ? {} : { metadata: { ...handlerMd } }),
  });
  const listenerCfg = (): ListenerConfig => ({
    type: listener,
    ...(tls === undefined ? {} : { tls: { ...tls } }),
    ...(orUndefined(listenerMd) === undefined ? {} : { metadata: { ...listenerMd } }),
  });

  return addrs.map((addr, i): ServiceConfig => {
    // GOST: one target list for a single service; with a port range, a single target is shared
    // and several targets are paired with the ports one by one (extra ports get none).
    let nodes: ForwardNodeConfig[] = [];
    if (targets.length > 0) {
      if (addrs.length === 1 || targets.length === 1) nodes = targets.map((t) => ({ ...t }));
      else if (i < targets.length) nodes = [{ ...(targets[i] as ForwardNodeConfig) }];
    }
    return {
      name: `service-${index + i}`,
      addr,
      handler: handlerCfg(),
      listener: listenerCfg(),
      ...(nodes.length === 0
        ? {}
        : { forwarder: { nodes, ...(selector === undefined ? {} : { selector: { ...selector } }) } }),
      ...(orUndefined(serviceMd) === undefined ? {} : { metadata: { ...serviceMd } }),
    };
  });
}

/**
 * One `-F` argument → hop `hop-<hopIndex>`; comma-separated hosts (`a:8443,b:8443`) give several
 * nodes `node-0`, `node-1`, ... with identical settings.
 *
 * `a+b://` = connector a + dialer b; a single `a://` means both, each falling back (unknown
 * connector → `http`, unknown dialer → `tcp`), so `mws://h:8443` = `http+mws`. `user:pass@` (or
 * `auth=base64`) → connector auth. Query keys go to connector, dialer, node and hop metadata unless
 * prefixed `connector.`, `dialer.`, `node.`, `hop.`; `certFile`/`keyFile`/`caFile`/`secure`/
 * `serverName` (and `tls.*`) → dialer TLS; `strategy`/`maxFails`/`failTimeout` → the hop selector.
 * The URL path is ignored, as in GOST.
 */
export function nodesFromUrl(
  url: string,
  hopIndex: number,
  known: KnownTypes = GOST_TYPES,
  report: DecodeReport = {},
): HopConfig {
  const fail = (reason: string): never => {
    throw urlError('-F', url, reason);
  };
  const u = parseGostUrl(url, '-F');
  const schemes = u.scheme.split('+');
  let connector = '';
  let dialer = '';
  if (schemes.length === 1) connector = dialer = schemes[0] ?? '';
  else if (schemes.length === 2) [connector = '', dialer = ''] = schemes;
  if (!known.connectors.includes(connector))
    connector = fallBack(report, url, known, 'connector', connector, 'http');
  if (!known.dialers.includes(dialer)) dialer = fallBack(report, url, known, 'dialer', dialer, 'tcp');

  const hosts = u.host.split(',').filter((h) => h !== '');
  if (hosts.length === 0) fail('missing node address');
  for (const h of hosts) {
    const r = expandAddr(h, false, 1);
    if (typeof r === 'string') fail(r);
  }

  const m = new QueryMap(u.query);
  const selector = takeSelector(m, fail);
  for (const k of CLI_IGNORED_KEYS.node) {
    const spelled = m.spelling(k);
    if (m.take(k) !== undefined) warnIgnored(report, '-F', url, spelled);
  }
  const hopMd: Record<string, unknown> = {};
  moveKeys(m, ['interface', 'so_mark', 'proxyProtocol'], hopMd);

  const auth = takeAuth(u, m, fail);
  const cert = takeCertKeys(m);
  const secure = takeBool(m, fail, ...OPTIONS['tls.secure'].keys);
  const serverName = nonEmpty(m.take(...OPTIONS['tls.serverName'].keys));
  // GOST also defaults serverName to the URL's host name; we leave SNI to the dialer, which derives
  // it per node from the node address (facts §8) — identical for one node, correct for several.
  const tls: TLSConfig = {
    ...cert,
    ...(secure === true ? { secure } : {}),
    ...(serverName === undefined ? {} : { serverName }),
  };

  const nodeMd: Record<string, unknown> = {};
  const connectorMd: Record<string, unknown> = {};
  const dialerMd: Record<string, unknown> = {};
  for (const [key, value] of m.entries()) {
    const prefixed: Array<[string, Record<string, unknown>]> = [
      ['node.', nodeMd],
      ['connector.', connectorMd],
      ['dialer.', dialerMd],
      ['hop.', hopMd],
    ];
    let done = false;
    for (const [prefix, target] of prefixed) {
      const k = cutPrefix(key, prefix);
      if (k !== undefined) {
        target[k] = value;
        done = true;
        break;
      }
    }
    if (done) continue;
    connectorMd[key] = value;
    dialerMd[key] = value;
    nodeMd[key] = value;
    hopMd[key] = value;
  }

  const nodes = hosts.map((addr, i): NodeConfig => ({
    name: `node-${i}`,
    addr,
    connector: {
      type: connector,
      ...(auth === undefined ? {} : { auth: { ...auth } }),
      ...(orUndefined(connectorMd) === undefined ? {} : { metadata: { ...connectorMd } }),
    },
    dialer: {
      type: dialer,
      ...(Object.keys(tls).length === 0 ? {} : { tls: { ...tls } }),
      ...(orUndefined(dialerMd) === undefined ? {} : { metadata: { ...dialerMd } }),
    },
    ...(orUndefined(nodeMd) === undefined ? {} : { metadata: { ...nodeMd } }),
  }));
  return {
    name: `hop-${hopIndex}`,
    ...(selector === undefined ? {} : { selector }),
    nodes,
    ...(orUndefined(hopMd) === undefined ? {} : { metadata: hopMd }),
  };
}
