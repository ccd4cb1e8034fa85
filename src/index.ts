/**
 * gost-ts as a library. The CLI is a thin layer over these exports:
 *
 *   import { configFromArgs, buildRuntime } from 'gost-ts';
 *   const config = await configFromArgs(['-L', ':8080', '-F', 'http+mws://server:8443?path=/ws']);
 *   const runtime = await buildRuntime(config, { log });
 *   await runtime.start();
 *   const conn = await runtime.dial('example.com:443', { chain: 'chain-0' });
 */
import { buildConfigFromArgs, parseArgs } from './config/cmdline.js';
import type { Config } from './config/types.js';
import type { LoadOptions } from './config/decode.js';

/**
 * GOST command-line flags (`-L`, `-F`, `-C`, ...) to a validated config. `options.onWarning` and
 * `options.onIgnoredKey` hear what the command line accepts but does not act on.
 */
export async function configFromArgs(argv: readonly string[], options: LoadOptions = {}): Promise<Config> {
  return buildConfigFromArgs(parseArgs(argv), options);
}

// Building and running
export { buildRuntime, type BuildOptions } from './config/build.js';
export { Runtime } from './runtime/runtime.js';
export { installGcHeadroom, growingPercentFor, DEFAULT_GC_HEADROOM } from './runtime/gc-headroom.js';
export { capYoungGeneration, DEFAULT_YOUNG_GENERATION } from './runtime/young-generation.js';
export { installAllocatorTrim, type TrimReport } from './runtime/allocator-trim.js';
export { Service, type ServiceStats } from './service/service.js';
export { loadConfigSource, parseConfigText, toYaml, toJson, type LoadOptions } from './config/load.js';
export { OPTIONS, type OptionSpec } from './config/keys.js';
export type * from './config/types.js';
export { createBuiltinRegistries, type Registries } from './registry/builtins.js';
export { Registry } from './registry/registry.js';
export type * from './registry/plugins.js';

// Contracts
export type * from './core/types.js';
export { TunnelError, ProtocolError, ConfigError, hasCode, type ErrorCode } from './core/errors.js';
export { Metadata } from './core/metadata.js';
export { silentLogger, type Logger } from './core/logger.js';
export { parseDuration, formatDuration } from './core/duration.js';

// Chains
export { ChainRouter } from './chain/router.js';
export { Hop } from './chain/hop.js';
export { ChainNode } from './chain/node.js';
export { NodeSelector } from './chain/selector.js';

// The protocol core
export * from './mux/smux/index.js';
export { WebSocketDuplex } from './transport/websocket/ws-duplex.js';
export { websocketConnect, buildUpgradeHeaders } from './transport/websocket/client.js';
export { attachWebSocketAcceptor } from './transport/websocket/server.js';
export { MwsDialer } from './dialer/mws/dialer.js';
export { MwsListener } from './listener/mws/listener.js';

// Mounting in an application's own http(s) server
export { createMwsEndpoint, MwsEndpoint } from './endpoint/mws-endpoint.js';
export type { MwsEndpointOptions, MwsEndpointHandler } from './endpoint/options.js';
