/**
 * Where configs come from (`-C`): YAML/JSON text, files, stdin, inline JSON, http(s) URLs.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { decodeConfig, type LoadOptions } from './decode.js';
import type { Config } from './types.js';

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

/**
 * Parses a YAML or JSON config document into a validated, deep-frozen Config (with
 * `options.partial`: decoded only, see `decodeConfig`). Struct keys are
 * case-insensitive, metadata keys verbatim; defaults are filled in (see `types.ts`).
 * Throws ConfigError whose `path` names the offending key (`services[0].addr`), or `''` for a
 * syntax error.
 */
export function parseConfigText(text: string, format: 'yaml' | 'json', options: LoadOptions = {}): Config {
  let raw: unknown;
  if (format === 'json') {
    try {
      raw = JSON.parse(text) as unknown;
    } catch (err) {
      throw new ConfigError(
        '',
        `invalid JSON: ${firstLine(err instanceof Error ? err.message : String(err))}`,
      );
    }
  } else {
    const doc = parseDocument(text, { merge: true, prettyErrors: true });
    const err = doc.errors[0];
    if (err !== undefined) {
      const pos = err.linePos?.[0];
      const where = pos ? ` (line ${pos.line}, column ${pos.col})` : '';
      throw new ConfigError(
        '',
        `invalid YAML: ${firstLine(err.message).replace(/ at line \d+, column \d+:?$/, '')}${where}`,
      );
    }
    try {
      raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    } catch (err) {
      // e.g. an alias used before its anchor (`*a`), or too many aliases: a document error too.
      throw new ConfigError(
        '',
        `invalid YAML: ${firstLine(err instanceof Error ? err.message : String(err))}`,
      );
    }
  }
  return decodeConfig(raw, options);
}

/** Re-throws a ConfigError with the source it came from appended to its message. */
function inSource(err: unknown, source: string): never {
  if (err instanceof ConfigError) {
    const reason = err.path === '' ? err.message : err.message.slice(err.path.length + 2);
    throw new ConfigError(err.path, `${reason} (in ${source})`);
  }
  throw err;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const FETCH_TIMEOUT_MS = 30_000;

/**
 * Loads one `-C` source, as GOST does: `-` reads stdin (JSON when it starts with `{`, else YAML), a
 * string starting with `{` is inline JSON, an `http://`/`https://` URL is fetched (format from the
 * path's extension or the content), anything else is a file whose extension (`.yaml`, `.yml`,
 * `.json`) picks the format. Errors are ConfigError; their message ends with `(in <source>)`.
 */
export async function loadConfigSource(source: string, options: LoadOptions = {}): Promise<Config> {
  const src = source.trim();
  const sniff = (text: string): 'yaml' | 'json' => (text.trimStart().startsWith('{') ? 'json' : 'yaml');
  if (src === '-') {
    const text = await readStdin();
    try {
      return parseConfigText(text, sniff(text), options);
    } catch (err) {
      return inSource(err, 'stdin');
    }
  }
  if (src.startsWith('{')) {
    try {
      return parseConfigText(src, 'json', options);
    } catch (err) {
      return inSource(err, 'inline JSON');
    }
  }
  if (/^https?:\/\//i.test(src)) {
    let text: string;
    try {
      const res = await fetch(src, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      text = await res.text();
    } catch (err) {
      throw new ConfigError(
        '',
        `cannot fetch config ${src}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const ext = extname(new URL(src).pathname).toLowerCase();
    const format = ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : sniff(text);
    try {
      return parseConfigText(text, format, options);
    } catch (err) {
      return inSource(err, src);
    }
  }
  const ext = extname(src).toLowerCase();
  const format = ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : undefined;
  if (format === undefined) {
    throw new ConfigError(
      '',
      `config file ${src}: unsupported extension "${ext}" (use .yaml, .yml or .json)`,
    );
  }
  let text: string;
  try {
    text = await readFile(src, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError('', `cannot read config file ${src}${code ? `: ${code}` : ''}`);
  }
  try {
    return parseConfigText(text, format, options);
  } catch (err) {
    return inSource(err, src);
  }
}
