import type { ChainNode } from './node.js';
import { NodeSelector } from './selector.js';

/** A hop: the nodes that can serve one step of a chain, and how to choose among them. */
export class Hop {
  readonly name: string;
  readonly nodes: readonly ChainNode[];
  readonly selector: NodeSelector;

  constructor(name: string, nodes: readonly ChainNode[], selector = new NodeSelector()) {
    this.name = name;
    this.nodes = nodes;
    this.selector = selector;
  }

  select(key?: string): ChainNode | undefined {
    return this.selector.select(this.nodes, key);
  }
}
