import { TunnelError } from '../../core/errors.js';

/** smux session settings, as xtaci/smux `Config` (durations in milliseconds, sizes in bytes). */
export interface SmuxConfig {
  /** Protocol version, 1 or 2. There is no negotiation: both ends must agree. */
  version: 1 | 2;
  /** When true this end neither sends NOPs nor closes a silent session. */
  keepAliveDisabled: boolean;
  /** How often a NOP is sent (ms). */
  keepAliveInterval: number;
  /** The session is closed when no frame arrived during a whole period of this length (ms). */
  keepAliveTimeout: number;
  /** Largest PSH payload this end sends (bytes, ≤ 65535). Received frames may be up to 65535. */
  maxFrameSize: number;
  /** Session-wide budget of received-but-unread bytes; when spent the carrier is paused. */
  maxReceiveBuffer: number;
  /** v2: the per-stream window advertised to the peer. v1: only validated. */
  maxStreamBuffer: number;
}

/** xtaci/smux `DefaultConfig()` with GOST's version 1. */
export const DEFAULT_SMUX_CONFIG: Readonly<SmuxConfig> = Object.freeze({
  version: 1,
  keepAliveDisabled: false,
  keepAliveInterval: 10_000,
  keepAliveTimeout: 30_000,
  maxFrameSize: 32_768,
  maxReceiveBuffer: 4_194_304,
  maxStreamBuffer: 65_536,
});

/** smux `VerifyConfig`: throws ERR_SMUX_BAD_CONFIG naming the first bad field. */
export function verifySmuxConfig(c: SmuxConfig): void {
  const bad = (msg: string): never => {
    throw new TunnelError('ERR_SMUX_BAD_CONFIG', `smux config: ${msg}`);
  };
  if (c.version !== 1 && c.version !== 2) bad(`unsupported protocol version ${String(c.version)}`);
  if (!c.keepAliveDisabled) {
    if (!(c.keepAliveInterval > 0)) bad('keep-alive interval must be positive');
    if (c.keepAliveTimeout < c.keepAliveInterval)
      bad('keep-alive timeout must be larger than keep-alive interval');
  }
  if (!(c.maxFrameSize > 0)) bad('max frame size must be positive');
  if (c.maxFrameSize > 65535) bad('max frame size must not be larger than 65535');
  if (!(c.maxReceiveBuffer > 0)) bad('max receive buffer must be positive');
  if (!(c.maxStreamBuffer > 0)) bad('max stream buffer must be positive');
  if (c.maxStreamBuffer > c.maxReceiveBuffer)
    bad('max stream buffer must not be larger than max receive buffer');
  if (c.maxReceiveBuffer > 0x7fffffff) bad('max receive buffer must fit in 31 bits');
}

/**
 * A config the way GOST builds one: start from the defaults and take a given value only when it is
 * set (> 0 for numbers; booleans and the version pass through). Not validated.
 */
export function mergeSmuxDefaults(partial: Partial<SmuxConfig> = {}): SmuxConfig {
  const pick = (v: number | undefined, d: number): number => (v !== undefined && v > 0 ? v : d);
  return {
    version: partial.version ?? DEFAULT_SMUX_CONFIG.version,
    keepAliveDisabled: partial.keepAliveDisabled ?? DEFAULT_SMUX_CONFIG.keepAliveDisabled,
    keepAliveInterval: pick(partial.keepAliveInterval, DEFAULT_SMUX_CONFIG.keepAliveInterval),
    keepAliveTimeout: pick(partial.keepAliveTimeout, DEFAULT_SMUX_CONFIG.keepAliveTimeout),
    maxFrameSize: pick(partial.maxFrameSize, DEFAULT_SMUX_CONFIG.maxFrameSize),
    maxReceiveBuffer: pick(partial.maxReceiveBuffer, DEFAULT_SMUX_CONFIG.maxReceiveBuffer),
    maxStreamBuffer: pick(partial.maxStreamBuffer, DEFAULT_SMUX_CONFIG.maxStreamBuffer),
  };
}

/** mergeSmuxDefaults, then verifySmuxConfig. */
export function resolveSmuxConfig(partial: Partial<SmuxConfig> = {}): SmuxConfig {
  const c = mergeSmuxDefaults(partial);
  verifySmuxConfig(c);
  return c;
}
