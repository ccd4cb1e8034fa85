import { ConfigError } from '../core/errors.js';
import type { Metadata } from '../core/metadata.js';
import { OPTIONS } from '../config/keys.js';

/**
 * Which addresses a client may ask a server to bind (`bind.allow`, beyond GOST, which binds
 * whatever is asked). Each rule is `[host:]port[-port]`; a rule without host matches every host.
 * By default any port from 1024 up (and 0, "any free port") on any address.
 */
export interface BindRule {
  host?: string;
  low: number;
  high: number;
}

export const DEFAULT_BIND_RULES: readonly BindRule[] = Object.freeze([
  { low: 0, high: 0 },
  { low: 1024, high: 65535 },
]);

function parseRule(text: string, path: string): BindRule {
  const m = /^(?:(\[[^\]]*\]|[^:]*):)?(\d+)(?:-(\d+))?$/.exec(text.trim());
  const low = Number(m?.[2]);
  const high = m?.[3] === undefined ? low : Number(m[3]);
  if (m === null || !(low >= 0 && high <= 65535 && low <= high))
    throw new ConfigError(
      path,
      `bad bind rule "${text}" (want [host:]port or [host:]low-high, e.g. 2222 or 127.0.0.1:8000-8100)`,
    );
  const host = m[1]?.replace(/^\[|\]$/g, '');
  return host === undefined || host === '' || host === '*' ? { low, high } : { host, low, high };
}

/** `bind.allow`: a comma-separated string or a list of rules. */
export function parseBindRules(md: Metadata): readonly BindRule[] {
  const key = md.presentKey(...OPTIONS['bind.allow'].keys);
  if (key === undefined) return DEFAULT_BIND_RULES;
  const raw = md.raw(...OPTIONS['bind.allow'].keys);
  const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
  const rules = items.filter((s) => s.trim() !== '').map((s) => parseRule(s, `${md.path}.${key}`));
  if (rules.length === 0) throw new ConfigError(`${md.path}.${key}`, 'empty bind rule list');
  return rules;
}

/** Undefined when allowed, else why not (for the log line). */
export function checkBindAllowed(rules: readonly BindRule[], host: string, port: number): string | undefined {
  const h = host.replace(/^\[|\]$/g, '');
  const ok = rules.some((r) => port >= r.low && port <= r.high && (r.host === undefined || r.host === h));
  if (ok) return undefined;
  if (rules === DEFAULT_BIND_RULES && port > 0 && port < 1024)
    return `port ${port} is privileged (below 1024); allow it with bind.allow`;
  return `${host === '' ? '*' : host}:${port} is not in bind.allow`;
}
