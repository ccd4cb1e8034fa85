/**
 * The GOST_TS_* environment variables: process-wide settings that no GOST flag or config key
 * carries. This one table feeds the command line's parser (main.ts), `--help` and the README's
 * table (`npm run docs`).
 */
import { DEFAULT_LIMITS } from '../common/limits.js';
import { parseDuration } from '../core/duration.js';
import { DEFAULT_GC_HEADROOM } from '../runtime/gc-headroom.js';
import { DEFAULT_YOUNG_GENERATION } from '../runtime/young-generation.js';

const MiB = 1024 * 1024;

interface EnvSpec<T> {
  name: string;
  /** The default as a user writes it. */
  def: string;
  meaning: string;
  /** What a valid value looks like, for the error message. */
  expected: string;
  fallback: T;
  /** The value, or undefined when `raw` is not valid. */
  parse(raw: string): T | undefined;
}

const spec = <T>(s: EnvSpec<T>): EnvSpec<T> => s;

/** A whole number from 0 to `max`, times `unit`. */
const whole =
  (max: number, unit = 1) =>
  (raw: string): number | undefined =>
    /^\d+$/.test(raw) && Number(raw) <= max ? Number(raw) * unit : undefined;

export const ENVIRONMENT = {
  stopGraceMs: spec({
    name: 'GOST_TS_STOP_GRACE',
    def: '10s',
    meaning: 'how long SIGTERM lets open connections finish before it resets them (a Go duration or seconds)',
    expected: 'a duration',
    fallback: 10_000,
    parse: (raw) => {
      const ms = parseDuration(raw);
      return ms === undefined || ms < 0 ? undefined : ms;
    },
  }),
  gcHeadroom: spec({
    name: 'GOST_TS_GC_HEADROOM',
    def: '64',
    meaning: "MiB V8's full-GC trigger stays above the live heap; 0 leaves V8's default",
    // The cap keeps V8's growing percent (headroom ÷ 1 MiB × 100) within its 32-bit flag.
    expected: 'a whole number of MiB from 0 to 1048576',
    fallback: DEFAULT_GC_HEADROOM,
    parse: whole(1_048_576, MiB),
  }),
  youngGeneration: spec({
    name: 'GOST_TS_YOUNG_GENERATION',
    def: String(DEFAULT_YOUNG_GENERATION / MiB),
    meaning: "MiB V8's young generation may grow to; 0 leaves V8's default (32 MiB)",
    expected: 'a whole number of MiB from 0 to 1024',
    fallback: DEFAULT_YOUNG_GENERATION,
    parse: whole(1024, MiB),
  }),
  mallocTrim: spec({
    name: 'GOST_TS_MALLOC_TRIM',
    def: '1',
    meaning:
      "1: return the memory glibc keeps after freed Buffers to the system (after full GCs, and when RSS grew 8 MiB in 30 s); 0: don't",
    expected: '0 or 1',
    fallback: true,
    parse: (raw) => (raw === '1' ? true : raw === '0' ? false : undefined),
  }),
  maxUdpAssociations: spec({
    name: 'GOST_TS_MAX_UDP_ASSOCIATIONS',
    def: String(DEFAULT_LIMITS.udpPerProcess),
    meaning: 'UDP associations and binds this process serves at once; 0 = no bound',
    expected: 'a whole number',
    fallback: DEFAULT_LIMITS.udpPerProcess,
    parse: whole(Number.MAX_SAFE_INTEGER),
  }),
};

export type Environment = {
  [K in keyof typeof ENVIRONMENT]: (typeof ENVIRONMENT)[K]['fallback'];
};

/** Every setting from `env` (unset or empty: the default); throws naming the first invalid one. */
export function readEnvironment(env: NodeJS.ProcessEnv): Environment {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(ENVIRONMENT) as [string, EnvSpec<unknown>][]) {
    const raw = env[s.name];
    if (raw === undefined || raw === '') {
      out[key] = s.fallback;
      continue;
    }
    const value = s.parse(raw);
    if (value === undefined) throw new Error(`${s.name}: not ${s.expected}: ${JSON.stringify(raw)}`);
    out[key] = value;
  }
  return out as Environment;
}
