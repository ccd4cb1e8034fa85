import { ConfigError } from './errors.js';
import { parseDuration } from './duration.js';

export type MetadataValue = unknown;

/**
 * The untyped key/value bag of a GOST plugin (`metadata:` in config, `?k=v` on the command line),
 * read through typed getters.
 *
 * GOST's lookup rules, kept exactly: keys are case-insensitive; given aliases `a, b` the FIRST key
 * present wins even if its value is unusable (then the default applies, unless `strict`).
 * Values may be strings (CLI, JSON) or native YAML values.
 *
 * Reading a key records it as used, so a caller can ask which keys nothing understood
 * (`unusedKeys()`), to reject typos instead of silently ignoring them.
 */
export class Metadata {
  private readonly values = new Map<string, MetadataValue>();
  private readonly originalKeys = new Map<string, string>();
  private readonly used = new Set<string>();
  /** Where this bag came from, for error messages (e.g. `chains[0].hops[0].nodes[0].dialer.metadata`). */
  readonly path: string;
  /** When true, an ill-typed value throws ConfigError instead of falling back to the default. */
  readonly strict: boolean;

  constructor(record: Readonly<Record<string, MetadataValue>> = {}, path = 'metadata', strict = true) {
    for (const [k, v] of Object.entries(record)) {
      this.values.set(k.toLowerCase(), v);
      this.originalKeys.set(k.toLowerCase(), k);
    }
    this.path = path;
    this.strict = strict;
  }

  /** The first alias present (lower-cased), marking every alias as understood. */
  private find(keys: readonly string[]): string | undefined {
    let found: string | undefined;
    for (const key of keys) {
      const k = key.toLowerCase();
      this.used.add(k);
      if (found === undefined && this.values.has(k)) found = k;
    }
    return found;
  }

  has(...keys: string[]): boolean {
    return this.find(keys) !== undefined;
  }

  /** The spelling (as written) of the first alias present, for error messages. */
  presentKey(...keys: string[]): string | undefined {
    const k = this.find(keys);
    return k === undefined ? undefined : (this.originalKeys.get(k) ?? k);
  }

  /** The raw value of the first alias present. */
  raw(...keys: string[]): MetadataValue {
    const k = this.find(keys);
    return k === undefined ? undefined : this.values.get(k);
  }

  private bad(key: string, expected: string, value: unknown): never {
    throw new ConfigError(
      `${this.path}.${this.originalKeys.get(key) ?? key}`,
      `expected ${expected}, got ${JSON.stringify(value)}`,
    );
  }

  private resolve<T>(
    keys: readonly string[],
    def: T,
    convert: (v: unknown) => T | undefined,
    expected: string,
  ): T {
    const k = this.find(keys);
    if (k === undefined) return def;
    const v = this.values.get(k);
    if (v === null || v === undefined || v === '') return def;
    const out = convert(v);
    if (out === undefined) return this.strict ? this.bad(k, expected, v) : def;
    return out;
  }

  string(keys: readonly string[], def: string): string;
  string(keys: readonly string[]): string | undefined;
  string(keys: readonly string[], def?: string): string | undefined {
    return this.resolve<string | undefined>(
      keys,
      def,
      (v) =>
        typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined,
      'a string',
    );
  }

  int(keys: readonly string[], def: number): number {
    return this.resolve(
      keys,
      def,
      (v) => {
        if (typeof v === 'number' && Number.isInteger(v)) return v;
        if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return Number(v.trim());
        return undefined;
      },
      'an integer',
    );
  }

  /** Go's strconv.ParseBool set, plus YAML booleans and numbers (non-zero = true). */
  bool(keys: readonly string[], def: boolean): boolean {
    return this.resolve(
      keys,
      def,
      (v) => {
        if (typeof v === 'boolean') return v;
        if (typeof v === 'number') return v !== 0;
        if (typeof v === 'string') {
          if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
          if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
        }
        return undefined;
      },
      'a boolean (true/false)',
    );
  }

  /** Milliseconds. Numbers are seconds (GOST), strings are Go durations or seconds. */
  duration(keys: readonly string[], def: number): number {
    return this.resolve(
      keys,
      def,
      (v) => {
        const ms = typeof v === 'number' ? v * 1000 : typeof v === 'string' ? parseDuration(v) : undefined;
        // A negative duration means nothing anywhere; GOST would read it as "off" without a word.
        return ms !== undefined && ms >= 0 ? ms : undefined;
      },
      'a duration of 0 or more (e.g. 10s, 1m30s)',
    );
  }

  /**
   * A string map (`header:`). GOST can only take it from a config file; a string such as the command
   * line gives (`Name:value;Other:value`) is read as `;`-separated `name:value` pairs instead of being
   * ignored as GOST does.
   */
  stringMap(keys: readonly string[]): Record<string, string> | undefined {
    return this.resolve<Record<string, string> | undefined>(
      keys,
      undefined,
      (v) => {
        if (typeof v === 'string') return parseHeaderList(v);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
        const out: Record<string, string> = {};
        for (const [hk, hv] of Object.entries(v as Record<string, unknown>)) {
          if (typeof hv === 'string' || typeof hv === 'number' || typeof hv === 'boolean')
            out[hk] = String(hv);
          else if (Array.isArray(hv)) out[hk] = hv.map(String).join(', ');
          else return undefined;
        }
        return out;
      },
      'a map of strings',
    );
  }

  /** Keys no getter has asked for, in their original spelling. */
  unusedKeys(): string[] {
    return [...this.values.keys()].filter((k) => !this.used.has(k)).map((k) => this.originalKeys.get(k) ?? k);
  }

  /** A copy with extra entries (later wins), e.g. node metadata under dialer metadata. */
  merged(extra: Readonly<Record<string, MetadataValue>>): Metadata {
    const rec: Record<string, MetadataValue> = {};
    for (const [k, v] of this.values) rec[this.originalKeys.get(k) ?? k] = v;
    return new Metadata({ ...rec, ...extra }, this.path, this.strict);
  }

  toRecord(): Record<string, MetadataValue> {
    const rec: Record<string, MetadataValue> = {};
    for (const [k, v] of this.values) rec[this.originalKeys.get(k) ?? k] = v;
    return rec;
  }
}

function parseHeaderList(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(';')) {
    if (part.trim() === '') continue;
    const colon = part.indexOf(':');
    if (colon <= 0) return undefined;
    out[part.slice(0, colon).trim()] = part.slice(colon + 1).trim();
  }
  return out;
}
