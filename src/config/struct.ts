/**
 * One YAML/JSON mapping read against a struct's key list (`keys.ts`): the typed getters the
 * decoder uses, with errors that name the key's JSON path in the user's spelling.
 */
import { ConfigError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import type { MetadataRecord } from './types.js';
import { IGNORED_KEYS, KNOWN_KEYS, type StructKind } from './keys.js';

/** What decoding reports besides errors. */
export interface DecodeReport {
  /** Called with the JSON path of every key listed in `IGNORED_KEYS` that a source contains. */
  onIgnoredKey?: (path: string) => void;
  /** Called for everything a user should hear about that does not stop the config (a fallback). */
  onWarning?: (message: string, fields: Record<string, unknown>) => void;
}

export function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? Math.max(a.length, b.length);
}

function suggest(key: string, candidates: readonly string[]): string {
  const k = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = k.length <= 4 ? 2 : 3;
  for (const c of candidates) {
    const d = levenshtein(k, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/** Go-style ParseBool set, as GOST's weakly typed decoding accepts. */
function parseBoolText(s: string): boolean | undefined {
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(s)) return false;
  return undefined;
}

/**
 * Integers at or above this value in struct-level duration fields are Go nanoseconds (what
 * `gost -O json` prints); smaller numbers are seconds, like numbers in metadata. GOST itself always
 * reads a bare number there as nanoseconds, so `failTimeout: 30` would mean 30 ns: we read 30 s.
 */
const NANOSECONDS_THRESHOLD = 1_000_000;

/**
 * One YAML/JSON mapping decoded against a struct's key list: keys are matched case-insensitively
 * (`Services`, `ADDR`), unknown keys are errors, GOST keys we ignore are reported, `null` values
 * count as absent. Getters throw ConfigError naming the key's JSON path in the user's spelling.
 */
export class Struct {
  private readonly entries = new Map<string, { key: string; value: unknown }>();

  constructor(
    value: unknown,
    readonly path: string,
    kind: StructKind,
    options: DecodeReport,
  ) {
    if (!isPlainObject(value)) throw new ConfigError(path, `expected a map, got ${describe(value)}`);
    const known = KNOWN_KEYS[kind];
    const ignored: readonly string[] = IGNORED_KEYS[kind];
    for (const [key, v] of Object.entries(value)) {
      const lower = key.toLowerCase();
      const canonical = known.find((k) => k.toLowerCase() === lower);
      if (canonical !== undefined) {
        const previous = this.entries.get(canonical);
        if (previous !== undefined) {
          throw new ConfigError(
            joinPath(path, key),
            `duplicate key (also given as "${previous.key}"; keys are case-insensitive)`,
          );
        }
        this.entries.set(canonical, { key, value: v });
      } else if (ignored.some((k) => k.toLowerCase() === lower)) {
        options.onIgnoredKey?.(joinPath(path, key));
      } else {
        throw new ConfigError(joinPath(path, key), `unknown key${suggest(key, known)}`);
      }
    }
  }

  /** JSON path of `key`, in the spelling the source used when present. */
  keyPath(key: string): string {
    return joinPath(this.path, this.entries.get(key)?.key ?? key);
  }

  get(key: string): unknown {
    const v = this.entries.get(key)?.value;
    return v === null ? undefined : v;
  }

  private fail(key: string, expected: string): never {
    throw new ConfigError(this.keyPath(key), `expected ${expected}, got ${describe(this.get(key))}`);
  }

  string(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(key, 'a string');
    return v;
  }

  /** A string that must be present and non-empty. */
  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined) throw new ConfigError(this.keyPath(key), 'missing required key');
    if (v.trim() === '') throw new ConfigError(this.keyPath(key), 'must not be empty');
    return v;
  }

  /** A type name: default when absent or empty. */
  typeName(key: string, def: string): string {
    const v = this.string(key);
    return v === undefined || v.trim() === '' ? def : v.trim();
  }

  /** A name: default when absent or empty. */
  name(def: string): string {
    const v = this.string('name');
    return v === undefined || v === '' ? def : v;
  }

  int(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return Number(v.trim());
    return this.fail(key, 'an integer');
  }

  bool(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const b = parseBoolText(v.trim());
      if (b !== undefined) return b;
    }
    return this.fail(key, 'a boolean (true/false)');
  }

  /** Milliseconds. Strings are Go durations (`30s`, `1m30s`) or seconds; see NANOSECONDS_THRESHOLD for numbers. */
  duration(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    let ms: number | undefined;
    if (typeof v === 'number' && Number.isFinite(v)) {
      ms = Number.isInteger(v) && Math.abs(v) >= NANOSECONDS_THRESHOLD ? v / 1e6 : v * 1000;
    } else if (typeof v === 'string') {
      ms = parseDuration(v);
    }
    if (ms === undefined || ms < 0)
      return this.fail(key, 'a duration such as "30s", "1m30s" or a number of seconds');
    return ms;
  }

  stringList(key: string): string[] | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v)) return this.fail(key, 'a list of strings');
    return v.map((item, i) => {
      if (typeof item !== 'string') {
        throw new ConfigError(`${this.keyPath(key)}[${i}]`, `expected a string, got ${describe(item)}`);
      }
      return item;
    });
  }

  struct(key: string, kind: StructKind, options: DecodeReport): Struct | undefined {
    const v = this.get(key);
    return v === undefined ? undefined : new Struct(v, this.keyPath(key), kind, options);
  }

  /** Items of a list with their JSON paths; `undefined` when absent. */
  list(key: string): Array<{ value: unknown; path: string }> | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return this.fail(key, 'a list');
    const base = this.keyPath(key);
    return v.map((value: unknown, i) => ({ value, path: `${base}[${i}]` }));
  }

  /**
   * A metadata map, keys verbatim, values as the source typed them. JSON numbers are kept as
   * numbers: GOST's getters ignore float64 values from JSON files (facts §7); we are more lenient
   * and let `core/metadata.ts` read `"mux.version": 2` as 2 and `"ttl": 30` as 30 s.
   */
  metadata(key = 'metadata'): MetadataRecord | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (!isPlainObject(v)) return this.fail(key, 'a map');
    if (Object.keys(v).length === 0) return undefined;
    return structuredClone(v);
  }
}

/** Builds an object with exact optional properties: entries whose value is `undefined` are dropped. */
export type Loose<T> = { [K in keyof T]-?: T[K] | undefined };
export function compact<T extends object>(o: Loose<T>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
