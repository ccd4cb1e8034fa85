import type { Metadata } from '../../core/metadata.js';
import { OPTIONS } from '../../config/keys.js';

/**
 * What the `auto` handler itself reads. The http, socks4 and socks5 handlers it dispatches to are
 * built from the same Metadata with their own parsers (GOST passes one metadata to all three).
 */
export interface AutoHandlerMetadata {
  /** `readTimeout`: bound on waiting for the first byte, ms. Default 15000 (also for ≤ 0). */
  readTimeoutMs: number;
}

export const DEFAULT_AUTO_READ_TIMEOUT_MS = 15_000;

export function parseAutoHandlerMetadata(md: Metadata): AutoHandlerMetadata {
  const readTimeout = md.duration(OPTIONS['handler.readTimeout'].keys, DEFAULT_AUTO_READ_TIMEOUT_MS);
  return { readTimeoutMs: readTimeout > 0 ? readTimeout : DEFAULT_AUTO_READ_TIMEOUT_MS };
}
