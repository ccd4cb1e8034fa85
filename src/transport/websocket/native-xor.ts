import { createRequire } from 'node:module';

/** What `bufferutil` offers (the native XOR `ws` uses too). */
export interface NativeXor {
  mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, mask: Buffer): void;
}

/** bufferutil when its native build loads; undefined means masking falls back to JavaScript. */
export const nativeXor: NativeXor | undefined = (() => {
  try {
    const mod = createRequire(import.meta.url)('bufferutil') as Partial<NativeXor>;
    return typeof mod.mask === 'function' && typeof mod.unmask === 'function'
      ? (mod as NativeXor)
      : undefined;
  } catch {
    return undefined;
  }
})();
