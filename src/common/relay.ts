import type { Conn } from '../core/types.js';
import { resetConn } from './reset.js';

export interface RelayOptions {
  /** Aborting destroys both connections; the relay then resolves once they are closed. */
  signal?: AbortSignal | undefined;
  /**
   * After the first direction ends (its source sent EOF and the FIN was passed on with `end()`), how
   * long the other direction may keep going before both connections are destroyed. Default 10000,
   * GOST's `tcpWaitTimeout` (x/internal/net/pipe.go).
   */
  lingerMs?: number | undefined;
}

export interface RelayResult {
  /** Bytes read from `a` and written to `b`. */
  aToB: number;
  /** Bytes read from `b` and written to `a`. */
  bToA: number;
  /** The first error either side emitted, if any (for the caller's log). */
  error?: Error;
}

const DEFAULT_LINGER_MS = 10_000;

function isClosed(s: Conn): boolean {
  return s.closed;
}

/**
 * Copies bytes both ways between `a` and `b` until both are closed.
 *
 * - Backpressure: when a destination's `write()` returns false its source is paused until 'drain',
 *   so at most about one highWaterMark per direction is buffered here.
 * - Half-close: when one source ends, the other side's writable is ended (FIN passed on); the
 *   opposite direction may continue for `lingerMs`, then both are destroyed.
 * - Data arriving for a side that can no longer be written, or the linger running out, destroys both.
 * - Any error, a premature close of either side, or aborting `signal` is a broken relay: both are
 *   reset (TCP RST via resetConn), never ended, so an application cannot take a broken tunnel for a
 *   finished transfer.
 *
 * It takes over both Conns: when it resolves both are closed. It never rejects; the first error is
 * reported in the result. Both Conns must emit 'close' (the Duplex default).
 */
export function relay(a: Conn, b: Conn, opts: RelayOptions = {}): Promise<RelayResult> {
  const lingerMs = opts.lingerMs ?? DEFAULT_LINGER_MS;
  const { signal } = opts;

  return new Promise<RelayResult>((resolve) => {
    const counts = { aToB: 0, bToA: 0 };
    let firstError: Error | undefined;
    let lingerTimer: NodeJS.Timeout | undefined;
    let settled = false;
    const state = {
      aEnded: a.readableEnded,
      bEnded: b.readableEnded,
      aFinished: a.writableFinished,
      bFinished: b.writableFinished,
      aClosed: isClosed(a),
      bClosed: isClosed(b),
    };

    const destroyBoth = (err?: Error, broken = err !== undefined): void => {
      if (err && !firstError) firstError = err;
      if (broken) {
        resetConn(a);
        resetConn(b);
        return;
      }
      if (!a.destroyed) a.destroy();
      if (!b.destroyed) b.destroy();
    };

    const armLinger = (): void => {
      if (lingerTimer || settled) return;
      lingerTimer = setTimeout(() => destroyBoth(), lingerMs);
      lingerTimer.unref?.();
    };

    const maybeComplete = (): void => {
      if (state.aEnded && state.bEnded && state.aFinished && state.bFinished) destroyBoth();
    };

    const maybeSettle = (): void => {
      if (settled || !state.aClosed || !state.bClosed) return;
      settled = true;
      if (lingerTimer) clearTimeout(lingerTimer);
      a.off('data', aOnData);
      b.off('data', bOnData);
      a.off('end', aOnEnd);
      b.off('end', bOnEnd);
      a.off('drain', aOnDrain);
      b.off('drain', bOnDrain);
      a.off('finish', aOnFinish);
      b.off('finish', bOnFinish);
      a.off('close', aOnClose);
      b.off('close', bOnClose);
      // The 'error' listeners stay: a late error on a closed stream must not crash the process.
      signal?.removeEventListener('abort', onAbort);
      const result: RelayResult = { aToB: counts.aToB, bToA: counts.bToA };
      if (firstError) result.error = firstError;
      resolve(result);
    };

    const forward = (dst: Conn, chunk: Buffer, src: Conn, key: 'aToB' | 'bToA'): void => {
      if (dst.destroyed || dst.writableEnded) {
        // The destination can no longer take bytes (closed, or it ended its writable on its own,
        // e.g. a socket without allowHalfOpen): the data cannot be delivered.
        destroyBoth();
        return;
      }
      counts[key] += chunk.length;
      if (!dst.write(chunk)) src.pause();
    };

    function aOnData(chunk: Buffer): void {
      forward(b, chunk, a, 'aToB');
    }
    function bOnData(chunk: Buffer): void {
      forward(a, chunk, b, 'bToA');
    }
    // 'drain' on a destination resumes its source.
    function aOnDrain(): void {
      if (!b.readableEnded) b.resume();
    }
    function bOnDrain(): void {
      if (!a.readableEnded) a.resume();
    }
    function aOnEnd(): void {
      state.aEnded = true;
      if (!b.destroyed && !b.writableEnded) b.end();
      armLinger();
      maybeComplete();
    }
    function bOnEnd(): void {
      state.bEnded = true;
      if (!a.destroyed && !a.writableEnded) a.end();
      armLinger();
      maybeComplete();
    }
    function aOnFinish(): void {
      state.aFinished = true;
      maybeComplete();
    }
    function bOnFinish(): void {
      state.bFinished = true;
      maybeComplete();
    }
    function aOnClose(): void {
      state.aClosed = true;
      // A close before both of a's directions completed means the other side cannot go on either.
      if (!(state.aEnded && state.aFinished)) destroyBoth(undefined, true);
      maybeSettle();
    }
    function bOnClose(): void {
      state.bClosed = true;
      if (!(state.bEnded && state.bFinished)) destroyBoth(undefined, true);
      maybeSettle();
    }
    function onError(err: Error): void {
      destroyBoth(err);
    }
    function onAbort(): void {
      destroyBoth(undefined, true);
    }

    a.on('error', onError);
    b.on('error', onError);
    a.on('close', aOnClose);
    b.on('close', bOnClose);
    a.on('finish', aOnFinish);
    b.on('finish', bOnFinish);
    a.on('drain', aOnDrain);
    b.on('drain', bOnDrain);
    a.on('end', aOnEnd);
    b.on('end', bOnEnd);
    a.on('data', aOnData);
    b.on('data', bOnData);
    // A stream paused earlier (e.g. by a head reader) does not start flowing from on('data') alone.
    a.resume();
    b.resume();

    if (state.aClosed || state.bClosed || a.destroyed || b.destroyed) destroyBoth(undefined, true);
    if (state.aEnded) aOnEnd();
    if (state.bEnded) bOnEnd();
    if (signal?.aborted) destroyBoth(undefined, true);
    else signal?.addEventListener('abort', onAbort, { once: true });
    maybeSettle();
  });
}
