import type { AbortOptions, Conn } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { ConfigError } from '../core/errors.js';
import type { Service } from '../service/service.js';
import type { Hop } from '../chain/hop.js';
import { ChainRouter } from '../chain/router.js';

export interface RuntimeParts {
  services: Service[];
  chains: Map<string, Hop[]>;
  log: Logger;
}

/**
 * A running gost-ts: its services and the chains they dial through. Built from a config by
 * `buildRuntime`; `start()` binds every service (all or none), `close()` stops everything.
 */
export class Runtime {
  readonly services: readonly Service[];
  private readonly chains: Map<string, Hop[]>;
  private readonly log: Logger;
  private started: Service[] = [];
  /** Services of a graceful stop under way, so that a second close() can cut it short. */
  private stopping: Service[] = [];

  constructor(parts: RuntimeParts) {
    this.services = parts.services;
    this.chains = parts.chains;
    this.log = parts.log;
  }

  /** Binds every service; if one cannot, those already started are closed again and the error is thrown. */
  async start(): Promise<void> {
    for (const svc of this.services) {
      try {
        await svc.start();
      } catch (err) {
        await this.close();
        throw new ConfigError(`service ${svc.name}`, `cannot listen on ${(err as Error).message}`);
      }
      this.started.push(svc);
    }
  }

  /** Opens a connection to `target` through the named chain (or directly when none), from code. */
  dial(target: string, opts: AbortOptions & { chain?: string } = {}): Promise<Conn> {
    let hops: Hop[] = [];
    if (opts.chain !== undefined) {
      const found = this.chains.get(opts.chain);
      if (found === undefined)
        return Promise.reject(new ConfigError('chain', `no chain named "${opts.chain}"`));
      hops = found;
    }
    return new ChainRouter({ hops, log: this.log }).dial('tcp', target, opts);
  }

  /** Live multiplexed sessions: held by dialers (client side) and listeners (server side). */
  sessionCounts(): { client: number; server: number } {
    const count = (x: unknown): number => {
      const n = (x as { sessionCount?: unknown }).sessionCount;
      return typeof n === 'number' ? n : 0;
    };
    const dialers = new Set(
      [...this.chains.values()].flatMap((hops) => hops.flatMap((h) => h.nodes.map((n) => n.dialer))),
    );
    return {
      client: [...dialers].reduce((sum, d) => sum + count(d), 0),
      server: this.services.reduce((sum, s) => sum + count(s.listener), 0),
    };
  }

  /**
   * Stops accepting, closes connections, and closes every pooled session. With `graceMs`, open
   * connections may finish for that long first (a graceful stop); what is left is then reset. A
   * call during a graceful stop (e.g. with 0) ends it at once.
   */
  async close(graceMs = 0): Promise<void> {
    const services = this.started.length > 0 ? this.started : this.stopping;
    this.stopping = services;
    this.started = [];
    await Promise.allSettled(services.map((s) => s.stop(graceMs)));
    const dialers = new Set(
      [...this.chains.values()].flatMap((hops) => hops.flatMap((h) => h.nodes.map((n) => n.dialer))),
    );
    await Promise.allSettled([...dialers].map((d) => d.close()));
  }
}
