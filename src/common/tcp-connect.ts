import net from 'node:net';
import { TunnelError } from '../core/errors.js';
import type { AbortOptions, Conn } from '../core/types.js';
import { parseHostPort } from './addr.js';

/**
 * Opens a TCP connection to `host:port`. An empty host (`:8443`, as GOST writes local addresses)
 * means this machine. Both address families are tried (Node's happy eyeballs).
 * Rejects with ERR_DIAL (cause: the OS error) or ERR_ABORTED.
 */
export function tcpConnect(addr: string, opts: AbortOptions = {}): Promise<Conn> {
  const hp = parseHostPort(addr);
  if (hp === undefined) return Promise.reject(new TunnelError('ERR_DIAL', `dial ${addr}: invalid address`));
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: hp.host || 'localhost',
      port: hp.port,
      autoSelectFamily: true,
      noDelay: true,
      // A target's FIN must not end what we still send it (half-close); relay() ends it in turn.
      allowHalfOpen: true,
    });
    const cleanup = (): void => {
      opts.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.off('connect', onConnect);
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(new TunnelError('ERR_ABORTED', `dial ${addr}: aborted`, { cause: opts.signal?.reason }));
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(new TunnelError('ERR_DIAL', `dial ${addr}: ${err.message}`, { cause: err }));
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once('connect', onConnect);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
