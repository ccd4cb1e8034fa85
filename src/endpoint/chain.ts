import type { AbortOptions, Conn, Router } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { ChainRouter } from '../chain/router.js';
import { buildConfigFromArgs, parseArgs } from '../cli/args.js';
import { buildRuntime } from '../config/build.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * The router an endpoint dials through: direct, the caller's own, or a chain of GOST `-F` node URLs.
 * A chain is built in the background (certificate files are read asynchronously), so the endpoint
 * can be created synchronously; `ready` settles when it is built, and a dial waits for it.
 */
export interface EndpointRouter extends Router {
  readonly ready: Promise<void>;
}

function isRouter(x: unknown): x is Router {
  return typeof (x as Router | undefined)?.dial === 'function';
}

export function endpointRouter(
  chain: string | readonly string[] | Router | undefined,
  log: Logger,
): EndpointRouter {
  if (chain === undefined || isRouter(chain)) {
    const router = chain ?? new ChainRouter({ hops: [], log });
    return { ready: Promise.resolve(), dial: (...a) => router.dial(...a), close: () => router.close() };
  }
  const urls = typeof chain === 'string' ? [chain] : [...chain];
  const building: Promise<Runtime> = (async () => {
    const config = await buildConfigFromArgs(parseArgs(urls.flatMap((u) => ['-F', u])));
    return buildRuntime(config, { log });
  })();
  // Settled here so that a bad chain is never an unhandled rejection; dials and `ready` report it.
  const ready = building.then(() => undefined);
  ready.catch(() => undefined);
  const chainName = 'chain-0';
  return {
    ready,
    async dial(network: 'tcp' | 'udp', target: string, opts: AbortOptions & { log?: Logger }): Promise<Conn> {
      const runtime = await building;
      if (network !== 'tcp') throw new Error(`the endpoint's chain carries TCP only, not ${network}`);
      return runtime.dial(target, { signal: opts.signal, chain: chainName });
    },
    async close(): Promise<void> {
      const runtime = await building.catch(() => undefined);
      await runtime?.close();
    },
  };
}
