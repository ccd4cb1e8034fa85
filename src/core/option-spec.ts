/**
 * The shape of one entry of the option table (`src/config/keys.ts`). Plugins that may not import
 * the config layer (the protocol core: mux, transport) describe their keys with this type next to
 * their parsers; the table gathers them.
 */
/** The plugin (metadata bag) an option belongs to. `-L` fills handler/listener/service, `-F` the rest. */
export type Where = 'handler' | 'listener' | 'service' | 'connector' | 'dialer' | 'node' | 'hop';

/** Which README/help table lists an option. */
export type OptionGroup = 'mws' | 'tls' | 'selector' | 'proxy' | 'udp' | 'unsupported';

export interface OptionSpec {
  /** Aliases in lookup order (GOST's: the first present wins), case-insensitive. */
  readonly keys: readonly string[];
  /** The name the docs lead with (default: `keys[0]`). */
  readonly name?: string;
  readonly type: 'string' | 'int' | 'bool' | 'duration' | 'map' | 'bool|duration' | 'enum';
  /** Default, as documented (`-` = none). */
  readonly def: string;
  /** The plugins that read it; given anywhere else it is ignored with a warning. */
  readonly where: readonly Where[];
  /** Plugin types that read it (docs only), e.g. `mws mwss`. */
  readonly types?: string;
  /** `applied`: it changes behaviour; `ignored`: GOST's key, accepted, warned, no effect. */
  readonly status: 'applied' | 'ignored';
  readonly group: OptionGroup;
  /** One line for `--help`. */
  readonly summary: string;
  /** The README's longer text (default: `summary`). */
  readonly detail?: string;
  /** A query-string example, `?key=value`. */
  readonly example?: string;
}
