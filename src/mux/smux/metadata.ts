import { ConfigError } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import { resolveSmuxConfig, type SmuxConfig } from './config.js';

/**
 * The smux settings of an mws dialer or listener. GOST's dotted keys first, then the spelling of
 * the original documentation (`muxMaxFrameSize`, ...), the first present winning as in GOST.
 * Values that are unset or ≤ 0 keep smux's defaults. Throws ConfigError for an invalid combination
 * (GOST only fails later, when a session is created).
 */
export function parseMuxMetadata(md: Metadata): SmuxConfig {
  const type = md.string(['mux.type'], 'smux');
  if (type !== 'smux')
    throw new ConfigError(`${md.path}.mux.type`, `unsupported multiplexer "${type}" (only smux)`);
  const version = md.int(['mux.version', 'muxVersion'], 1);
  const config: Partial<SmuxConfig> = {
    version: version === 2 ? 2 : 1,
    keepAliveDisabled: md.bool(['mux.keepaliveDisabled', 'muxKeepAliveDisabled'], false),
    keepAliveInterval: md.duration(['mux.keepaliveInterval', 'muxKeepAliveInterval'], 0),
    keepAliveTimeout: md.duration(['mux.keepaliveTimeout', 'muxKeepAliveTimeout'], 0),
    maxFrameSize: md.int(['mux.maxFrameSize', 'muxMaxFrameSize'], 0),
    maxReceiveBuffer: md.int(['mux.maxReceiveBuffer', 'muxMaxReceiveBuffer'], 0),
    maxStreamBuffer: md.int(['mux.maxStreamBuffer', 'muxMaxStreamBuffer'], 0),
  };
  if (version !== 1 && version !== 2 && version > 0) {
    throw new ConfigError(`${md.path}.mux.version`, `unsupported smux version ${version} (1 or 2)`);
  }
  try {
    return resolveSmuxConfig(config);
  } catch (err) {
    throw new ConfigError(md.path, (err as Error).message);
  }
}
