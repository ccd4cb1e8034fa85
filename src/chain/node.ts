import type { Connector, Dialer } from '../core/types.js';

/**
 * One node of a hop: where to go (`addr`), how to get a connection there (`dialer`) and how to ask it
 * to go further (`connector`). It also remembers its recent failures, for the hop's selector.
 */
export class ChainNode {
  readonly name: string;
  readonly addr: string;
  readonly dialer: Dialer;
  readonly connector: Connector;
  /** Used only when no normal node is available (GOST node metadata `backup: true`). */
  readonly backup: boolean;
  /** Relative weight for the `rand` strategy. */
  readonly weight: number;
  private failures = 0;
  private lastFailure = 0;

  constructor(opts: {
    name: string;
    addr: string;
    dialer: Dialer;
    connector: Connector;
    backup?: boolean;
    weight?: number;
  }) {
    this.name = opts.name;
    this.addr = opts.addr;
    this.dialer = opts.dialer;
    this.connector = opts.connector;
    this.backup = opts.backup ?? false;
    this.weight = opts.weight !== undefined && opts.weight > 0 ? opts.weight : 1;
  }

  /** Records a failure to dial or hand shake with this node. */
  markFailed(now = Date.now()): void {
    this.failures += 1;
    this.lastFailure = now;
  }

  /** Records a success: the node is healthy again. */
  markHealthy(): void {
    this.failures = 0;
  }

  /** GOST's FailFilter: dead while it failed `maxFails` times and the last one is under `failTimeout` old. */
  isDead(maxFails: number, failTimeout: number, now = Date.now()): boolean {
    return maxFails > 0 && this.failures >= maxFails && now - this.lastFailure < failTimeout;
  }

  get failureCount(): number {
    return this.failures;
  }
}
