/** The http connector inside an smux stream: CONNECT, then the 200 reply head (GOST's `http` handler). */

const MAX_HEAD = 16 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder('latin1');

export interface ProxyAuth {
  username: string;
  password: string;
}

function base64(text: string): string {
  let bin = '';
  for (const b of encoder.encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** GOST's CONNECT request (Go's Request.Write: Host, User-Agent, then headers sorted by name). */
export function connectRequest(target: string, auth?: ProxyAuth): Uint8Array {
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, 'User-Agent: Go-http-client/1.1'];
  if (auth !== undefined)
    lines.push(`Proxy-Authorization: Basic ${base64(`${auth.username}:${auth.password}`)}`);
  lines.push('Proxy-Connection: keep-alive', '', '');
  return encoder.encode(lines.join('\r\n'));
}

function indexOfBlankLine(buf: Uint8Array): number {
  for (let i = 3; i < buf.length; i++) {
    if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) return i + 1;
  }
  return -1;
}

/**
 * Reads the reply head with `next()`; resolves with the bytes that followed it, or rejects with the
 * status line when it is not 200.
 */
export async function readConnectReply(
  target: string,
  next: () => Promise<Uint8Array | null>,
): Promise<Uint8Array> {
  let head = new Uint8Array(0);
  for (;;) {
    const chunk = await next();
    if (chunk === null) throw new Error(`CONNECT ${target}: the server closed the stream before replying`);
    const joined = new Uint8Array(head.length + chunk.length);
    joined.set(head);
    joined.set(chunk, head.length);
    head = joined;
    const end = indexOfBlankLine(head);
    if (end >= 0) {
      const status = decoder.decode(head.subarray(0, end)).split('\r\n')[0] ?? '';
      if (!/^HTTP\/1\.[01] 200\b/.test(status)) throw new Error(`CONNECT ${target}: ${status}`);
      return head.subarray(end);
    }
    if (head.length > MAX_HEAD) throw new Error(`CONNECT ${target}: reply head over ${MAX_HEAD} bytes`);
  }
}
