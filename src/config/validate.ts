/**
 * What only the whole config can tell (unique names, references that resolve), freezing, and
 * merging several sources into one config.
 */
import { ConfigError } from '../core/errors.js';
import { compact } from './struct.js';
import type { Config, HopConfig } from './types.js';

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
