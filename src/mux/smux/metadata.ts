import { ConfigError } from '../../core/errors.js';
import type { Metadata } from '../../core/metadata.js';
import { mergeSmuxDefaults, verifySmuxConfig, type SmuxConfig } from './config.js';
import { MUX_OPTIONS as OPTIONS } from './option-keys.js';

/**
 * The smux settings of an mws dialer or listener. GOST's dotted keys first, then the spelling of
 * the original documentation (`muxMaxFrameSize`, ...), the first present winning as in GOST.
 * Values that are unset or ≤ 0 keep smux's defaults. Throws ConfigError for an invalid combination
 * (GOST only fails later, when a session is created).
 */
export function parseMuxMetadata(md: Metadata): SmuxConfig {
  const type = md.string(OPTIONS['mux.type'].keys, 'smux');
  if (type !== 'smux')
    throw new ConfigError(`${md.path}.mux.type`, `unsupported multiplexer "${type}" (only smux)`);
  const keys = {
    version: OPTIONS['mux.version'].keys,
    keepAliveDisabled: OPTIONS['mux.keepaliveDisabled'].keys,
    keepAliveInterval: OPTIONS['mux.keepaliveInterval'].keys,
    keepAliveTimeout: OPTIONS['mux.keepaliveTimeout'].keys,
    maxFrameSize: OPTIONS['mux.maxFrameSize'].keys,
    maxReceiveBuffer: OPTIONS['mux.maxReceiveBuffer'].keys,
    maxStreamBuffer: OPTIONS['mux.maxStreamBuffer'].keys,
  } as const;
  const version = md.int(keys.version, 1);
  const bad = (field: keyof typeof keys, msg: string): never => {
    throw new ConfigError(`${md.path}.${md.presentKey(...keys[field]) ?? keys[field][0]}`, msg);
  };
  if (version !== 1 && version !== 2 && version > 0)
    bad('version', `unsupported smux version ${version} (1 or 2)`);
  const config = mergeSmuxDefaults({
    version: version === 2 ? 2 : 1,
    keepAliveDisabled: md.bool(keys.keepAliveDisabled, false),
    keepAliveInterval: md.duration(keys.keepAliveInterval, 0),
    keepAliveTimeout: md.duration(keys.keepAliveTimeout, 0),
    maxFrameSize: md.int(keys.maxFrameSize, 0),
    maxReceiveBuffer: md.int(keys.maxReceiveBuffer, 0),
    maxStreamBuffer: md.int(keys.maxStreamBuffer, 0),
  });
  // smux VerifyConfig's rules, reported against the key that broke them.
  if (config.maxFrameSize > 65535) bad('maxFrameSize', `${config.maxFrameSize} is larger than 65535`);
  if (config.maxReceiveBuffer > 0x7fffffff)
    bad('maxReceiveBuffer', `${config.maxReceiveBuffer} does not fit in 31 bits`);
  if (config.maxStreamBuffer > config.maxReceiveBuffer) {
    bad(
      'maxStreamBuffer',
      `${config.maxStreamBuffer} is larger than the max receive buffer (${config.maxReceiveBuffer})`,
    );
  }
  if (!config.keepAliveDisabled && config.keepAliveTimeout < config.keepAliveInterval) {
    bad(
      'keepAliveTimeout',
      `${config.keepAliveTimeout} ms is shorter than the keepalive interval (${config.keepAliveInterval} ms)`,
    );
  }
  verifySmuxConfig(config);
  return config;
}
