import { crc32 } from 'node:zlib';
import type { ChainNode } from './node.js';

export type Strategy = 'round' | 'rand' | 'fifo' | 'hash';

export interface SelectorOptions {
  strategy: Strategy;
  /** Failures after which a node is skipped (GOST default 1). */
  maxFails: number;
  /** How long a failed node is skipped (ms; GOST default 10 s). */
  failTimeout: number;
}

export const DEFAULT_SELECTOR: Readonly<SelectorOptions> = Object.freeze({
  strategy: 'round',
  maxFails: 1,
  failTimeout: 10_000,
});

/** The strategy names gost-ts implements (GOST's aliases included) → the strategy. */
export const STRATEGY_NAMES: Readonly<Record<string, Strategy>> = Object.freeze({
  round: 'round',
  rr: 'round',
  random: 'rand',
  rand: 'rand',
  fifo: 'fifo',
  ha: 'fifo',
  hash: 'hash',
});

/** GOST strategies gost-ts does not implement: rejected with a message saying so. */
export const GOST_ONLY_STRATEGIES: readonly string[] = ['parallel', 'lowestlatency', 'lowest', 'll'];

/** GOST's strategy names and aliases → ours; `''` is the default; undefined when unknown. */
export function parseStrategy(name: string): Strategy | undefined {
  const n = name.toLowerCase();
  return n === '' ? 'round' : STRATEGY_NAMES[n];
}

/** Why `name` is not a strategy (for a ConfigError), or undefined when it is one. */
export function strategyProblem(name: string): string | undefined {
  if (parseStrategy(name) !== undefined) return undefined;
  const known = Object.keys(STRATEGY_NAMES).join(', ');
  return GOST_ONLY_STRATEGIES.includes(name.toLowerCase())
    ? `strategy "${name}" is not implemented by gost-ts (one of ${known})`
    : `unknown strategy "${name}" (one of ${known})`;
}

/**
 * Picks a node of a hop, as GOST's selector does: filter out nodes marked dead (only when the hop has
 * more than one node), keep backup nodes for when no normal node is left, then apply the strategy.
 */
export class NodeSelector {
  private readonly opts: SelectorOptions;
  private counter = 0;

  constructor(opts: Partial<SelectorOptions> = {}) {
    this.opts = { ...DEFAULT_SELECTOR, ...opts };
  }

  get options(): Readonly<SelectorOptions> {
    return this.opts;
  }

  /** The node to use, or undefined when every node is dead. `key` feeds the `hash` strategy. */
  select(nodes: readonly ChainNode[], key = ''): ChainNode | undefined {
    if (nodes.length === 0) return undefined;
    if (nodes.length === 1) return nodes[0];
    const now = Date.now();
    const alive = nodes.filter((n) => !n.isDead(this.opts.maxFails, this.opts.failTimeout, now));
    const normal = alive.filter((n) => !n.backup);
    const pool = normal.length > 0 ? normal : alive;
    if (pool.length === 0) return undefined;
    switch (this.opts.strategy) {
      case 'fifo':
        return pool[0];
      case 'rand':
        return weightedRandom(pool);
      case 'hash':
        return pool[crc32(key) % pool.length];
      case 'round': {
        const node = pool[this.counter % pool.length];
        this.counter = (this.counter + 1) % 0x7fffffff;
        return node;
      }
    }
  }
}

function weightedRandom(pool: readonly ChainNode[]): ChainNode | undefined {
  const total = pool.reduce((sum, n) => sum + n.weight, 0);
  let r = Math.random() * total;
  for (const n of pool) {
    r -= n.weight;
    if (r < 0) return n;
  }
  return pool[pool.length - 1];
}
