import net from 'node:net';
import { silentLogger } from '../../src/core/logger.js';
import { Metadata } from '../../src/core/metadata.js';
import type { Conn, DialContext } from '../../src/core/types.js';
import { MwsDialer } from '../../src/dialer/mws/dialer.js';
import { parseMwsDialerMetadata } from '../../src/dialer/mws/metadata.js';
import { MwsListener } from '../../src/listener/mws/listener.js';
import { parseMwsListenerMetadata } from '../../src/listener/mws/metadata.js';

/** A DialContext whose connect is a plain TCP connect (the first hop of a chain). */
export function tcpDialContext(): DialContext {
  return {
    log: silentLogger,
    connect: (addr, opts) =>
      new Promise<Conn>((resolve, reject) => {
        const i = addr.lastIndexOf(':');
        const s = net.connect({ host: addr.slice(0, i) || '127.0.0.1', port: Number(addr.slice(i + 1)) });
        const onAbort = (): void => {
          s.destroy();
          reject(new Error('aborted'));
        };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        s.once('connect', () => {
          opts.signal?.removeEventListener('abort', onAbort);
          s.setNoDelay(true);
          resolve(s);
        });
        s.once('error', reject);
      }),
  };
}

/** An mws dialer from GOST metadata (as `?k=v` or `metadata:` would give). */
export function mwsDialer(md: Record<string, unknown> = {}): MwsDialer {
  return new MwsDialer(parseMwsDialerMetadata(new Metadata(md)));
}

/** An mws listener on 127.0.0.1:0 from GOST metadata, handing streams to onConn. */
export async function mwsListener(
  md: Record<string, unknown>,
  onConn: (c: Conn) => void,
): Promise<MwsListener> {
  const l = new MwsListener({
    ...parseMwsListenerMetadata(new Metadata(md)),
    addr: '127.0.0.1:0',
    log: silentLogger,
  });
  await l.listen(onConn);
  return l;
}
