import type { Readable } from 'node:stream';
import { TunnelError, type ErrorCode } from '../core/errors.js';

/** A successful incremental parse: the value and how many bytes of the input it used. */
export interface Parsed<T> {
  value: T;
  consumed: number;
}

/**
 * A sans-IO head parser: given every byte received so far, returns the parsed value, or undefined
 * when it needs more bytes. It throws (a ProtocolError) when the bytes can never become valid.
 * `previousLength` is how many of these bytes the previous (incomplete) call saw, so a parser can
 * resume its scan there instead of rescanning (a byte-at-a-time sender would otherwise cost O(n²)).
 */
export type HeadParser<T> = (buf: Buffer, previousLength: number) => Parsed<T> | undefined;

export interface ReadUntilOptions {
  /** Give up (reason `too-large`) once this many bytes arrived without a complete head. */
  maxBytes: number;
  /** Code of the ReadHeadError for every reason but `aborted` (which is always ERR_ABORTED). */
  errorCode: ErrorCode;
  signal?: AbortSignal | undefined;
  /** Reason `timeout` after this many milliseconds without a complete head. */
  timeoutMs?: number | undefined;
}

export type ReadHeadFailure = 'eof' | 'closed' | 'error' | 'too-large' | 'timeout' | 'aborted';

/** Reading a head failed for a transport reason (parser errors are rethrown unchanged). */
export class ReadHeadError extends TunnelError {
  readonly reason: ReadHeadFailure;
  /** Bytes taken from the stream before the failure (they are not given back). */
  readonly bytesRead: number;
  constructor(code: ErrorCode, reason: ReadHeadFailure, message: string, bytesRead: number, cause?: unknown) {
    super(code, message, cause === undefined ? undefined : { cause });
    this.name = 'ReadHeadError';
    this.reason = reason;
    this.bytesRead = bytesRead;
  }
}

/**
 * Reads from `conn` until `parse` recognises a complete head, without losing a byte: whatever
 * arrived after the head is put back with `unshift()` before the promise resolves, so the next
 * reader (another readUntil, a relay, a pipe) sees the stream exactly from the end of the head.
 *
 * It reads in paused mode through a temporary 'readable' listener; once it is removed the stream is
 * back in its initial state (neither flowing nor explicitly paused), so a later `on('data')` or
 * `pipe()` starts it as usual. The caller must not have 'data' listeners attached meanwhile.
 *
 * On rejection the bytes already taken are gone (see `bytesRead`); the caller should destroy
 * `conn`. It never destroys `conn` itself.
 */
export function readUntil<T>(
  conn: Readable,
  parse: HeadParser<T>,
  opts: ReadUntilOptions,
): Promise<Parsed<T>> {
  return new Promise<Parsed<T>>((resolve, reject) => {
    const { signal } = opts;
    // One growing buffer (capacity doubles), so accumulating n bytes copies O(n) in total.
    let store = Buffer.alloc(0);
    let total = 0;
    let scanned = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;

    const fail = (reason: ReadHeadFailure, message: string, cause?: unknown): void => {
      const code: ErrorCode = reason === 'aborted' ? 'ERR_ABORTED' : opts.errorCode;
      finish();
      reject(new ReadHeadError(code, reason, message, total, cause));
    };

    const finish = (): void => {
      done = true;
      conn.off('readable', onReadable);
      conn.off('end', onEnd);
      conn.off('close', onClose);
      conn.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      if (timer) clearTimeout(timer);
    };

    function onReadable(): void {
      let chunk: unknown;
      while (!done && (chunk = conn.read()) !== null) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer);
        if (total + b.length > store.length) {
          const grown = Buffer.allocUnsafe(Math.max(store.length * 2, total + b.length, 256));
          store.copy(grown, 0, 0, total);
          store = grown;
        }
        b.copy(store, total);
        total += b.length;
        const buf = store.subarray(0, total);
        let result: Parsed<T> | undefined;
        try {
          result = parse(buf, scanned);
        } catch (err) {
          finish();
          reject(err instanceof Error ? err : new TunnelError(opts.errorCode, String(err)));
          return;
        }
        if (result) {
          if (result.consumed > opts.maxBytes) {
            fail('too-large', `head larger than ${opts.maxBytes} bytes`);
            return;
          }
          finish();
          const rest = buf.subarray(result.consumed);
          if (rest.length > 0) conn.unshift(rest);
          resolve(result);
          return;
        }
        scanned = total;
        if (total >= opts.maxBytes) {
          fail('too-large', `no complete head within ${opts.maxBytes} bytes`);
          return;
        }
      }
    }
    function onEnd(): void {
      fail('eof', `connection ended after ${total} bytes, before a complete head`);
    }
    function onClose(): void {
      fail('closed', `connection closed after ${total} bytes, before a complete head`);
    }
    function onError(err: Error): void {
      fail('error', `read failed: ${err.message}`, err);
    }
    function onAbort(): void {
      fail('aborted', 'aborted while reading head', signal?.reason);
    }

    if (signal?.aborted) {
      reject(new ReadHeadError('ERR_ABORTED', 'aborted', 'aborted while reading head', 0, signal.reason));
      return;
    }
    if (conn.readableEnded) {
      reject(new ReadHeadError(opts.errorCode, 'eof', 'connection already ended', 0));
      return;
    }
    if (conn.destroyed) {
      reject(new ReadHeadError(opts.errorCode, 'closed', 'connection already closed', 0));
      return;
    }
    conn.on('end', onEnd);
    conn.on('close', onClose);
    conn.on('error', onError);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs !== undefined && opts.timeoutMs > 0 && Number.isFinite(opts.timeoutMs)) {
      timer = setTimeout(
        () => fail('timeout', `no complete head within ${opts.timeoutMs} ms`),
        opts.timeoutMs,
      );
    }
    conn.on('readable', onReadable);
  });
}

export interface PeekOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
  errorCode?: ErrorCode | undefined;
}

/**
 * Resolves with a copy of the first `n` bytes of `conn` while leaving them (and anything after) in
 * the stream. Rejects with a ReadHeadError when the stream ends first.
 */
export async function peek(conn: Readable, n: number, opts: PeekOptions = {}): Promise<Buffer> {
  const res = await readUntil(
    conn,
    (buf) => (buf.length >= n ? { value: Buffer.from(buf.subarray(0, n)), consumed: 0 } : undefined),
    {
      maxBytes: Math.max(n, 1),
      errorCode: opts.errorCode ?? 'ERR_ABORTED',
      signal: opts.signal,
      timeoutMs: opts.timeoutMs,
    },
  );
  return res.value;
}

/** Puts `data` back at the front of `conn`'s readable side (no-op when empty). */
export function prepend(conn: Readable, data: Uint8Array): void {
  if (data.length > 0) conn.unshift(data);
}
