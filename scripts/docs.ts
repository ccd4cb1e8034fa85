/**
 * `npm run docs`: regenerates the README's tables from their single sources, between marker
 * comments `<!-- generated:NAME -->` … `<!-- /generated:NAME -->`:
 *
 *   flags              the parser's flag table (`FLAGS`, `src/config/cmdline.ts`)
 *   types              the registries (`src/registry/builtins.ts`)
 *   options-GROUP      the option table (`src/config/keys.ts`), one table per group
 *   options-ignored    the option table's `status: 'ignored'` keys
 *   config-ignored     config file keys accepted and ignored (`IGNORED_KEYS`, `src/config/keys.ts`)
 *   errors             `ERROR_CODES` (`src/core/errors.ts`)
 *   environment        the GOST_TS_* variables (`ENVIRONMENT`, `src/cli/environment.ts`)
 *
 * `npm run docs -- --check` exits 1 when the README differs (test/docs/readme-tables.test.ts does
 * the same check in the suite).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { IGNORED_KEYS, allOptions, type OptionGroup, type OptionSpec } from '../src/config/keys.js';
import { implementedTypes } from '../src/registry/builtins.js';
import { ERROR_CODES } from '../src/core/errors.js';
import { STRATEGY_NAMES } from '../src/chain/selector.js';
import { FLAGS } from '../src/config/cmdline.js';
import { ENVIRONMENT } from '../src/cli/environment.js';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));

const cell = (text: string): string => text.replace(/\|/g, '\\|');
const code = (text: string): string => `\`${text}\``;

function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The documented name first, then the other aliases in parentheses. */
function optionName(o: OptionSpec): string {
  const name = o.name ?? o.keys[0] ?? '';
  const others = o.keys.filter((k) => k !== name);
  return others.length === 0 ? code(name) : `${code(name)} (${others.map(code).join(', ')})`;
}

function optionTable(group: OptionGroup): string {
  const rows = allOptions()
    .filter(([, o]) => o.group === group && o.status === 'applied')
    .map(([, o]) => {
      const example = o.example === undefined ? '' : ` — ${code(o.example)}`;
      return [
        optionName(o),
        o.where.join(', ') + (o.types === undefined ? '' : ` (${o.types})`),
        o.def === '-' ? '—' : o.def,
        `${o.detail ?? o.summary}${example}`,
      ];
    });
  return table(['option (aliases)', 'where', 'default', 'effect'], rows);
}

function ignoredList(): string {
  return allOptions()
    .filter(([, o]) => o.status === 'ignored')
    .map(([, o]) => `- ${o.keys.map(code).join(', ')}: ${o.summary}`)
    .join('\n');
}

/** Config file keys accepted and ignored, per struct (`IGNORED_KEYS`). */
function ignoredFileKeys(): string {
  return Object.entries(IGNORED_KEYS)
    .filter(([, keys]) => keys.length > 0)
    .map(([struct, keys]) => `- ${struct}: ${keys.map(code).join(', ')}`)
    .join('\n');
}

function typesTable(): string {
  const t = implementedTypes();
  const row = (kind: string, names: readonly string[]): string[] => [kind, names.map(code).join(', ')];
  return table(
    ['kind', 'types'],
    [
      row('handlers', t.handlers),
      row('listeners', t.listeners),
      row('connectors', t.connectors),
      row('dialers', t.dialers),
      row('selector strategies', Object.keys(STRATEGY_NAMES)),
    ],
  );
}

function errorsTable(): string {
  return table(
    ['code', 'meaning'],
    Object.entries(ERROR_CODES).map(([c, meaning]) => [code(c), meaning]),
  );
}

function flagsTable(): string {
  return table(
    ['flag', 'meaning'],
    Object.entries(FLAGS).map(([name, f]) => {
      const names = [`-${name}`, ...(f.aliases ?? []).map((a) => `--${a}`)];
      const flag = names.map((n) => code(f.arg === undefined ? n : `${n} ${f.arg}`)).join(', ');
      return [flag, `${f.help}${f.example === undefined ? '' : ` ${code(f.example)}`}`];
    }),
  );
}

function environmentTable(): string {
  return table(
    ['variable', 'default', 'meaning'],
    Object.values(ENVIRONMENT).map((e) => [code(e.name), code(e.def), e.meaning]),
  );
}

/** Every generated section by marker name. */
export function sections(): Record<string, string> {
  return {
    flags: flagsTable(),
    types: typesTable(),
    'options-mws': optionTable('mws'),
    'options-tls': optionTable('tls'),
    'options-selector': optionTable('selector'),
    'options-proxy': optionTable('proxy'),
    'options-udp': optionTable('udp'),
    'options-ignored': ignoredList(),
    'config-ignored': ignoredFileKeys(),
    errors: errorsTable(),
    environment: environmentTable(),
  };
}

/** `readme` with every marked section replaced by its generated text, formatted as prettier does. */
export async function renderReadme(readme: string): Promise<string> {
  const generated = sections();
  let out = readme;
  for (const [name, text] of Object.entries(generated)) {
    const re = new RegExp(`(<!-- generated:${name} -->)[\\s\\S]*?(<!-- /generated:${name} -->)`);
    if (!re.test(out)) throw new Error(`README.md has no "<!-- generated:${name} -->" section`);
    out = out.replace(re, (_m, open: string, close: string) => `${open}\n\n${text}\n\n${close}`);
  }
  const options = (await resolveConfig(README)) ?? {};
  return format(out, { ...options, parser: 'markdown' });
}

async function main(): Promise<void> {
  const readme = await readFile(README, 'utf8');
  const rendered = await renderReadme(readme);
  if (process.argv.includes('--check')) {
    if (rendered !== readme) {
      process.stderr.write('README.md is out of date: run npm run docs\n');
      process.exit(1);
    }
    return;
  }
  if (rendered !== readme) await writeFile(README, rendered);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
