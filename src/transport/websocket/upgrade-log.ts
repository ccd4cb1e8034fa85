import type { IncomingHttpHeaders } from 'node:http';
import type WebSocket from 'ws';

/** Headers whose values are credentials: logged as present, never in clear. */
const SECRET = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

/** Per-connection nonces of the handshake: noise in a log, and nothing an operator configured. */
const NONCE = new Set(['sec-websocket-key', 'sec-websocket-accept']);

/**
 * The headers of an upgrade as a log field: what `host` and `header` produced on the wire, so an
 * operator can see it without a packet capture. Credentials are masked.
 */
export function headersForLog(
  headers: Record<string, string> | IncomingHttpHeaders,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NONCE.has(name.toLowerCase())) continue;
    out[name] = SECRET.has(name.toLowerCase()) ? '(set)' : value;
  }
  return out;
}

/** The extensions both ends agreed on (`permessage-deflate`), or `none`. */
export function negotiatedExtensions(ws: WebSocket): string {
  return ws.extensions === '' ? 'none' : ws.extensions;
}
