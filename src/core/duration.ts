const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const GO_DURATION = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Parses a duration the way GOST reads one from metadata: Go's `time.ParseDuration` syntax
 * (`10s`, `1m30s`, `1.5h`, `300ms`) or a bare number of seconds (`10`, `2.5`). Returns milliseconds,
 * or undefined when the text is neither.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)$/.test(s)) return Number(s) * 1000;
  if (s === '0') return 0;
  if (!GO_DURATION.test(s)) return undefined;
  const sign = s.startsWith('-') ? -1 : 1;
  let total = 0;
  for (const m of s.matchAll(GO_DURATION_PART)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  }
  return sign * total;
}

/** Formats milliseconds as a Go-style duration (`1m30s`, `250ms`), for logs and `--help`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${rest ? `${+rest.toFixed(3)}s` : ''}`;
}
