// Small helpers shared by the TLS, tls/ws listener+dialer and TLS interop tests.
import type { Duplex } from 'node:stream';
import type { Logger } from '../../src/core/logger.js';
import type { Conn } from '../../src/core/types.js';

export interface LogEntry {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

/** A Logger that records every entry (child loggers share the record). */
export function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const fn =
    (level: string) =>
    (a: object | string, msg?: string): void => {
      entries.push(
        typeof a === 'string'
          ? { level, obj: {}, msg: a }
          : { level, obj: a as Record<string, unknown>, msg },
      );
    };
  const log = {
    entries,
    trace: fn('trace'),
    debug: fn('debug'),
    info: fn('info'),
    warn: fn('warn'),
    error: fn('error'),
    child: () => log,
  };
  return log;
}

/** Handler that echoes every byte back (errors swallowed: the test side reports failures). */
export function echoConn(conn: Conn): void {
  conn.on('error', () => {});
  conn.pipe(conn);
}

/**
 * Writes `data`, waits for as many bytes back, then ends the stream; resolves with what came back.
 * Rejects on error, on a premature end, or after `timeoutMs`.
 */
export function echoRoundTrip(s: Duplex, data: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(
      () => reject(new Error(`echo timed out after ${got} of ${data.length} bytes`)),
      timeoutMs,
    );
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= data.length) {
        clearTimeout(timer);
        s.end();
        resolve(Buffer.concat(chunks));
      }
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.once('close', () => {
      clearTimeout(timer);
      if (got < data.length) reject(new Error(`closed after ${got} of ${data.length} bytes`));
    });
    s.write(data);
  });
}

/**
 * Resolves with how a connection that should be refused ended: 'error' (with the error), or 'closed'
 * when it closed without delivering any data. Rejects if data arrives or nothing happens in time.
 */
export function expectRefused(s: Duplex, timeoutMs = 5_000): Promise<Error | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connection was not refused in time')), timeoutMs);
    s.on('data', (c: Buffer) => {
      clearTimeout(timer);
      s.destroy();
      reject(new Error(`refused connection delivered data: ${c.toString('hex').slice(0, 40)}`));
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      resolve(err);
    });
    s.once('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    s.write('ping');
  });
}
