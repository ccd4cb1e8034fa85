import type { Metadata } from '../../core/metadata.js';
import { OPTIONS } from '../../config/keys.js';

/** What the `socks4` handler reads from its metadata (go-gost/x handler/socks/v4/metadata.go). */
export interface Socks4HandlerMetadata {
  /** `readTimeout`: bound on reading the request, ms. Default 15000 (also for ≤ 0). */
  readTimeoutMs: number;
}

export const DEFAULT_SOCKS4_READ_TIMEOUT_MS = 15_000;

export function parseSocks4HandlerMetadata(md: Metadata): Socks4HandlerMetadata {
  const readTimeout = md.duration(OPTIONS['handler.readTimeout'].keys, DEFAULT_SOCKS4_READ_TIMEOUT_MS);
  return { readTimeoutMs: readTimeout > 0 ? readTimeout : DEFAULT_SOCKS4_READ_TIMEOUT_MS };
}
