import type { Metadata } from '../../core/metadata.js';
import { OPTIONS } from '../../config/keys.js';

/** What the `http` handler reads from its metadata (go-gost/x handler/http/metadata.go). */
export interface HttpHandlerMetadata {
  /** `http.proxyAgent`, `proxyAgent`: the `Proxy-Agent` value. Default `gost/3.0`. */
  proxyAgent: string;
  /** `http.header`, `header`: extra headers on 400/403/407/503 replies. */
  header?: Record<string, string>;
  /** `authBasicRealm`: realm of the 407. Default `gost`. */
  realm: string;
  /** `readTimeout`: bound on reading the request head, ms. Default 15000 (also for ≤ 0). */
  readTimeoutMs: number;
  /** `udp`: UDP-over-HTTP. Parsed for completeness; this handler always refuses UDP (403). */
  udp: boolean;
}

export const DEFAULT_READ_TIMEOUT_MS = 15_000;

export function parseHttpHandlerMetadata(md: Metadata): HttpHandlerMetadata {
  const readTimeout = md.duration(OPTIONS['handler.readTimeout'].keys, DEFAULT_READ_TIMEOUT_MS);
  const out: HttpHandlerMetadata = {
    proxyAgent: md.string(OPTIONS['http.proxyAgent'].keys, '') || 'gost/3.0',
    realm: md.string(OPTIONS['http.authBasicRealm'].keys, '') || 'gost',
    readTimeoutMs: readTimeout > 0 ? readTimeout : DEFAULT_READ_TIMEOUT_MS,
    udp: md.bool(OPTIONS['handler.udp'].keys, false),
  };
  const header = md.stringMap(OPTIONS['http.header'].keys);
  if (header && Object.keys(header).length > 0) out.header = header;
  return out;
}
