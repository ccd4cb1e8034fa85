/** Header fields in wire order, names as received. Values are latin1 text (bytes preserved). */
export type HeaderList = Array<[name: string, value: string]>;

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True for an RFC 9110 token (method, header name). */
export function isToken(s: string): boolean {
  return TOKEN_RE.test(s);
}

/**
 * Go's textproto.CanonicalMIMEHeaderKey: `foo-bar` → `Foo-Bar`. A name that is not a valid token
 * is returned unchanged, as Go does.
 */
export function canonicalHeaderKey(name: string): string {
  if (!isToken(name)) return name;
  let upper = true;
  let out = '';
  for (const ch of name) {
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = ch === '-';
  }
  return out;
}

/** First value of `name` (case-insensitive), or undefined. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** Every value of `name` (case-insensitive), in order. */
export function getHeaderValues(headers: HeaderList, name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter(([k]) => k.toLowerCase() === lower).map(([, v]) => v);
}

/** Go's Header.Write value hygiene: CR/LF become spaces, surrounding blanks are trimmed. */
export function sanitizeHeaderValue(v: string): string {
  return v.replace(/[\r\n]/g, ' ').replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * Turns a `header:` metadata map into Go's http.Header shape: canonical names, sorted by name
 * (byte order, as Header.Write sorts), values in insertion order. Later duplicates of a name after
 * canonicalisation are appended, like `Header.Add`.
 */
export function headerMapToList(map: Readonly<Record<string, string>> | undefined): HeaderList {
  const out: HeaderList = [];
  if (!map) return out;
  for (const [k, v] of Object.entries(map)) out.push([canonicalHeaderKey(k), v]);
  return out;
}

/** Stable sort by name in byte order (Go's sort.Strings on the keys; values keep their order). */
export function sortHeaders(headers: HeaderList): HeaderList {
  return headers
    .map((h, i) => ({ h, i }))
    .sort((x, y) => (x.h[0] < y.h[0] ? -1 : x.h[0] > y.h[0] ? 1 : x.i - y.i))
    .map((e) => e.h);
}

/** `Name: value\r\n` lines in the given order. */
export function formatHeaderLines(headers: HeaderList): string {
  let s = '';
  for (const [k, v] of headers) s += `${k}: ${sanitizeHeaderValue(v)}\r\n`;
  return s;
}

/** True when the comma-separated header value contains `token` (case-insensitive). */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const t = token.toLowerCase();
  return value.split(',').some((part) => part.trim().toLowerCase() === t);
}
