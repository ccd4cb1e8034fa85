import { ConfigError } from '../core/errors.js';

/**
 * Factories by type name (`mws`, `http`, ...). One registry per kind of plugin, built by
 * builtins.ts and passed to the config builder, never global: tests can make their own.
 */
export class Registry<F> {
  readonly kind: string;
  private readonly factories = new Map<string, F>();

  constructor(kind: string) {
    this.kind = kind;
  }

  /** Adds a factory; a name registered twice is a programming error. */
  register(name: string, factory: F): this {
    if (this.factories.has(name)) throw new Error(`${this.kind} "${name}" registered twice`);
    this.factories.set(name, factory);
    return this;
  }

  has(name: string): boolean {
    return this.factories.has(name);
  }

  names(): string[] {
    return [...this.factories.keys()];
  }

  /** The factory for `name`; ConfigError at `path` when there is none. */
  get(name: string, path: string): F {
    const f = this.factories.get(name);
    if (f === undefined) {
      throw new ConfigError(path, `unknown ${this.kind} type "${name}" (known: ${this.names().join(', ')})`);
    }
    return f;
  }
}
