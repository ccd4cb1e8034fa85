import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Metadata } from '../core/metadata.js';
import type {
  AuthInfo,
  Authenticator,
  ClientTlsOptions,
  ConnectionObserver,
  ServerTlsOptions,
} from '../core/types.js';
import { createAuthenticator } from '../common/auth.js';
import { resolveClientTls, resolveServerTls } from '../common/tls-server.js';
import { ChainNode } from '../chain/node.js';
import { Hop } from '../chain/hop.js';
import { ChainRouter } from '../chain/router.js';
import { NodeSelector, parseStrategy, strategyProblem, type SelectorOptions } from '../chain/selector.js';
import { Service } from '../service/service.js';
import { udpObserverWithLog } from '../common/udp/drop-log.js';
import { Runtime } from '../runtime/runtime.js';
import { createBuiltinRegistries, type Registries } from '../registry/builtins.js';
import type { Registry } from '../registry/registry.js';
import { GOST_TYPES } from './gost-types.js';
import { OPTIONS, optionsForKey, type OptionSpec } from './keys.js';
import type {
  AuthConfig,
  ChainConfig,
  Config,
  HopConfig,
  SelectorConfig,
  ServiceConfig,
  TLSConfig,
} from './types.js';

export interface BuildOptions {
  log: Logger;
  registries?: Registries | undefined;
  /** Told about every connection of every service (metrics). */
  observer?: ConnectionObserver | undefined;
}

/** Keys GOST's command line turns into struct fields yet still copies into metadata bags. */
const STRUCTURAL_KEYS = new Set(['retries']);

function authInfo(auth: AuthConfig | undefined): AuthInfo | undefined {
  return auth !== undefined && auth.username !== ''
    ? { username: auth.username, password: auth.password }
    : undefined;
}

function selectorOptions(cfg: SelectorConfig | undefined, path: string): Partial<SelectorOptions> {
  if (cfg === undefined) return {};
  const strategy = parseStrategy(cfg.strategy);
  if (strategy === undefined)
    throw new ConfigError(`${path}.strategy`, strategyProblem(cfg.strategy) ?? 'bad strategy');
  return { strategy, maxFails: cfg.maxFails, failTimeout: cfg.failTimeout };
}

function describeWhere(spec: OptionSpec): string {
  const types = spec.types === undefined ? '' : ` (${spec.types})`;
  return `${spec.where.join(' and ')}${types}`;
}

/**
 * Sorts out keys that no plugin of a group read. On the command line GOST copies every `?k=v` into
 * several plugins' metadata (handler, listener, service), so a key counts as unread only when every
 * bag that holds it left it unread. Then, by the option table (`keys.ts`): a GOST key gost-ts does
 * not implement is warned about, a known key given where it means nothing (`readHeaderTimeout` on
 * a dialer) is warned about naming where it applies, and anything else is a ConfigError.
 */
function checkUnusedKeys(bags: readonly Metadata[], log: Logger, plugins: string): void {
  const unread = new Map<string, { count: number; key: string; path: string }>();
  const holders = new Map<string, number>();
  for (const md of bags) {
    for (const key of Object.keys(md.toRecord()))
      holders.set(key.toLowerCase(), (holders.get(key.toLowerCase()) ?? 0) + 1);
    for (const key of md.unusedKeys()) {
      const k = key.toLowerCase();
      const prev = unread.get(k);
      unread.set(k, { count: (prev?.count ?? 0) + 1, key, path: prev?.path ?? md.path });
    }
  }
  for (const [k, { count, key, path }] of unread) {
    if (count < (holders.get(k) ?? 0) || STRUCTURAL_KEYS.has(k)) continue;
    const specs = optionsForKey(key).map(([, spec]) => spec);
    if (specs.some((s) => s.status === 'ignored')) {
      log.warn({ key, at: path }, 'GOST option not supported by gost-ts; ignored');
      continue;
    }
    if (specs.length > 0) {
      log.warn(
        { key, at: path, appliesTo: specs.map(describeWhere).join('; ') },
        `option "${key}" means nothing to ${plugins}; ignored`,
      );
      continue;
    }
    throw new ConfigError(`${path}.${key}`, `unknown option for ${plugins}`);
  }
}

/** A registry entry; a type that GOST has but gost-ts lacks is named as such. */
function plugin<F>(reg: Registry<F>, gostNames: readonly string[], name: string, path: string): F {
  if (!reg.has(name) && gostNames.includes(name)) {
    throw new ConfigError(
      path,
      `${reg.kind} type "${name}" is GOST's but not implemented by gost-ts (implemented: ${reg.names().join(', ')})`,
    );
  }
  return reg.get(name, path);
}

type LogCall = [level: 'trace' | 'debug' | 'info' | 'warn' | 'error', args: unknown[]];

/**
 * Holds log lines written while building (the generated certificate's fingerprint, say) until the
 * whole config is known to be valid, so a config error stays the only line a user sees.
 */
function deferredLogger(calls: LogCall[]): Logger {
  const at =
    (level: LogCall[0]) =>
    (...args: unknown[]): void => {
      calls.push([level, args]);
    };
  const log: Logger = {
    trace: at('trace'),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => log,
  };
  return log;
}

class Builder {
  private readonly config: Config;
  private readonly log: Logger;
  private readonly pendingLogs: LogCall[] = [];
  private readonly buildLog: Logger = deferredLogger(this.pendingLogs);
  private readonly reg: Registries;
  private readonly observer: ConnectionObserver | undefined;
  private readonly routers = new Map<string, Hop[]>();

  constructor(config: Config, opts: BuildOptions) {
    this.config = config;
    this.log = opts.log;
    this.reg = opts.registries ?? createBuiltinRegistries();
    this.observer = opts.observer;
  }

  async build(): Promise<Runtime> {
    const chains = new Map<string, Hop[]>();
    for (const [i, chain] of this.config.chains.entries())
      chains.set(chain.name, await this.buildChain(chain, `chains[${i}]`));
    for (const [name, hops] of chains) this.routers.set(name, hops);
    const services: Service[] = [];
    for (const [i, svc] of this.config.services.entries())
      services.push(await this.buildService(svc, `services[${i}]`, chains));
    // The config is valid: what was said while building it can now be written.
    for (const [level, args] of this.pendingLogs.splice(0))
      (this.log[level] as (...a: unknown[]) => void).apply(this.log, args);
    return new Runtime({ services, chains, log: this.log });
  }

  private async buildChain(chain: ChainConfig, path: string): Promise<Hop[]> {
    const hops: Hop[] = [];
    for (const [j, hopCfg] of chain.hops.entries()) {
      const named =
        hopCfg.nodes.length === 0 ? this.config.hops?.find((h) => h.name === hopCfg.name) : undefined;
      hops.push(await this.buildHop(named ?? hopCfg, `${path}.hops[${j}]`));
    }
    return hops;
  }

  private async buildHop(hop: HopConfig, path: string): Promise<Hop> {
    const nodes: ChainNode[] = [];
    const hopMd = new Metadata(hop.metadata ?? {}, `${path}.metadata`);
    for (const [k, node] of hop.nodes.entries()) {
      const p = `${path}.nodes[${k}]`;
      const log = this.log.child({ node: node.name });
      const connectorMd = new Metadata(node.connector.metadata ?? {}, `${p}.connector.metadata`);
      const dialerMd = new Metadata(node.dialer.metadata ?? {}, `${p}.dialer.metadata`);
      const nodeMd = new Metadata(node.metadata ?? {}, `${p}.metadata`);
      const connector = plugin(
        this.reg.connectors,
        GOST_TYPES.connectors,
        node.connector.type,
        `${p}.connector.type`,
      );
      const dialer = plugin(this.reg.dialers, GOST_TYPES.dialers, node.dialer.type, `${p}.dialer.type`);
      let tls: ClientTlsOptions | undefined;
      if (dialer.tls) {
        tls = await resolveClientTls(node.dialer.tls);
        if (!tls.secure) {
          this.buildLog.warn(
            { node: node.name, addr: node.addr },
            'tls: server certificate not verified (GOST default); set secure=true and caFile to verify it',
          );
        }
      }
      nodes.push(
        new ChainNode({
          name: node.name,
          addr: node.addr,
          connector: connector.create({ metadata: connectorMd, auth: authInfo(node.connector.auth), log }),
          dialer: dialer.create({ metadata: dialerMd, tls, log }),
          backup: nodeMd.bool(OPTIONS['node.backup'].keys, false),
          weight: nodeMd.int(OPTIONS['node.weight'].keys, 1),
        }),
      );
      checkUnusedKeys(
        [connectorMd, dialerMd, nodeMd, hopMd],
        this.buildLog,
        `connector "${node.connector.type}" / dialer "${node.dialer.type}"`,
      );
    }
    return new Hop(hop.name, nodes, new NodeSelector(selectorOptions(hop.selector, `${path}.selector`)));
  }

  private authenticator(svc: ServiceConfig, path: string): Authenticator | undefined {
    const users: AuthInfo[] = [];
    const own = authInfo(svc.handler.auth);
    if (own !== undefined) users.push(own);
    if (svc.handler.auther !== undefined) {
      const auther = this.config.authers?.find((a) => a.name === svc.handler.auther);
      if (auther === undefined)
        throw new ConfigError(`${path}.handler.auther`, `no auther named "${svc.handler.auther}"`);
      for (const a of auther.auths) {
        const info = authInfo(a);
        if (info !== undefined) users.push(info);
      }
    }
    return users.length > 0 ? createAuthenticator(users) : undefined;
  }

  private async serverTls(cfg: TLSConfig | undefined): Promise<ServerTlsOptions> {
    const own = cfg?.certFile !== undefined || cfg?.keyFile !== undefined;
    return resolveServerTls(
      own ? cfg : { ...this.config.tls, ...(cfg?.caFile !== undefined ? { caFile: cfg.caFile } : {}) },
      this.buildLog,
    );
  }

  /** The service certificate for handlers that start TLS inside a stream, resolved on first use. */
  private lazyServerTls(cfg: TLSConfig | undefined): () => Promise<ServerTlsOptions> {
    let pending: Promise<ServerTlsOptions> | undefined;
    return () => {
      pending ??= resolveServerTls(cfg?.certFile !== undefined ? cfg : this.config.tls, this.log);
      pending.catch(() => (pending = undefined));
      return pending;
    };
  }

  private async buildService(svc: ServiceConfig, path: string, chains: Map<string, Hop[]>): Promise<Service> {
    const log = this.log.child({ service: svc.name });
    const handlerMd = new Metadata(svc.handler.metadata ?? {}, `${path}.handler.metadata`);
    const listenerMd = new Metadata(svc.listener.metadata ?? {}, `${path}.listener.metadata`);
    const serviceMd = new Metadata(svc.metadata ?? {}, `${path}.metadata`);
    const listenerEntry = plugin(
      this.reg.listeners,
      GOST_TYPES.listeners,
      svc.listener.type,
      `${path}.listener.type`,
    );
    const handlerEntry = plugin(
      this.reg.handlers,
      GOST_TYPES.handlers,
      svc.handler.type,
      `${path}.handler.type`,
    );
    const tls = listenerEntry.tls ? await this.serverTls(svc.listener.tls) : undefined;
    const udp = udpObserverWithLog(this.observer?.udp?.(svc.name), log);
    let binder: ChainRouter | undefined;
    if (svc.listener.chain !== undefined) {
      const found = chains.get(svc.listener.chain);
      if (found === undefined)
        throw new ConfigError(`${path}.listener.chain`, `no chain named "${svc.listener.chain}"`);
      binder = new ChainRouter({ hops: found, log });
    }
    if (svc.listener.type === 'rtcp' && binder === undefined)
      throw new ConfigError(
        `${path}.listener.chain`,
        'listener "rtcp" needs a chain (-F socks5+mws://server:8443 or listener.chain)',
      );
    const listener = listenerEntry.create({ addr: svc.addr, metadata: listenerMd, tls, log, binder, udp });
    const forwarder = svc.forwarder;
    const selector =
      forwarder?.selector !== undefined
        ? selectorOptions(forwarder.selector, `${path}.forwarder.selector`)
        : undefined;
    const targets = forwarder?.nodes.map((n) => n.addr) ?? [];
    if (['tcp', 'forward', 'rtcp', 'udp', 'rudp'].includes(svc.handler.type) && targets.length === 0) {
      throw new ConfigError(
        `${path}.forwarder`,
        `handler "${svc.handler.type}" needs a target (e.g. -L tcp://:2222/host:22)`,
      );
    }
    const handler = handlerEntry.create({
      metadata: handlerMd,
      authenticator: this.authenticator(svc, path),
      targets,
      selector:
        selector?.maxFails !== undefined && selector.failTimeout !== undefined
          ? { maxFails: selector.maxFails, failTimeout: selector.failTimeout }
          : undefined,
      log,
      serverTls: this.lazyServerTls(svc.listener.tls),
      udp,
    });
    checkUnusedKeys(
      [handlerMd, listenerMd, serviceMd],
      this.buildLog,
      `handler "${svc.handler.type}" / listener "${svc.listener.type}"`,
    );
    let hops: Hop[] = [];
    if (svc.handler.chain !== undefined) {
      const found = chains.get(svc.handler.chain);
      if (found === undefined)
        throw new ConfigError(`${path}.handler.chain`, `no chain named "${svc.handler.chain}"`);
      hops = found;
    }
    const router = new ChainRouter({ hops, retries: svc.handler.retries, log });
    return new Service({ name: svc.name, listener, handler, router, log, observer: this.observer });
  }
}

/** Builds every service and chain of a config (nothing is started yet). Throws ConfigError. */
export function buildRuntime(config: Config, opts: BuildOptions): Promise<Runtime> {
  return new Builder(config, opts).build();
}
