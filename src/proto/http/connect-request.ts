import type { AuthInfo } from '../../core/types.js';
import { formatHeaderLines, headerMapToList, sortHeaders, type HeaderList } from './headers.js';

/** Go's net/http default User-Agent, which GOST's connector sends. */
export const GO_USER_AGENT = 'Go-http-client/1.1';

export interface ConnectRequestOptions {
  /** Adds `Proxy-Authorization: Basic base64(user:pass)`. */
  auth?: AuthInfo | undefined;
  /** Extra headers (connector metadata `header`); names are canonicalised. */
  header?: Readonly<Record<string, string>> | undefined;
  /** Adds `X-Gost-Protocol: udp` (UDP-over-HTTP). */
  udp?: boolean | undefined;
}

/** Names Go's Request.Write never takes from the header map (it writes them itself or not at all). */
const EXCLUDED = new Set(['Host', 'User-Agent', 'Content-Length', 'Transfer-Encoding', 'Trailer']);

/**
 * GOST's CONNECT request, byte for byte (facts §4.1; Go's Request.Write): request line, `Host`,
 * `User-Agent: Go-http-client/1.1`, then every other header sorted by name, then the blank line.
 * `Proxy-Connection: keep-alive` and `Proxy-Authorization` replace same-named custom entries; a custom
 * `User-Agent` replaces the default (an empty one drops the line); a custom `Host` is ignored.
 * The target is sent as given (hostnames are not resolved).
 */
export function encodeConnectRequest(target: string, opts: ConnectRequestOptions = {}): Buffer {
  const custom = headerMapToList(opts.header);
  let userAgent = GO_USER_AGENT;
  const fixed: HeaderList = [['Proxy-Connection', 'keep-alive']];
  if (opts.auth) {
    const token = Buffer.from(`${opts.auth.username}:${opts.auth.password}`, 'utf8').toString('base64');
    fixed.push(['Proxy-Authorization', `Basic ${token}`]);
  }
  if (opts.udp) fixed.push(['X-Gost-Protocol', 'udp']);
  const fixedNames = new Set(fixed.map(([k]) => k));
  const rest: HeaderList = [];
  for (const [k, v] of custom) {
    if (k === 'User-Agent') {
      userAgent = v;
      continue;
    }
    if (EXCLUDED.has(k) || fixedNames.has(k)) continue;
    rest.push([k, v]);
  }
  let head = `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n`;
  if (userAgent !== '') head += formatHeaderLines([['User-Agent', userAgent]]);
  head += formatHeaderLines(sortHeaders([...rest, ...fixed]));
  head += '\r\n';
  return Buffer.from(head, 'latin1');
}
