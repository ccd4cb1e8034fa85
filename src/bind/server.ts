import net from 'node:net';
import type { Conn } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { toError } from '../core/errors.js';
import { relay } from '../common/relay.js';
import { boundAddress, listenOn } from '../common/listen.js';
import { splitHostPort } from '../common/addr.js';
import { SmuxSession, type SmuxConfig } from '../mux/smux/index.js';

/** The OS error of a failed listen, as one sentence naming the cause. */
export function describeListenError(err: Error & { code?: unknown }, address: string): string {
  const { port } = splitHostPort(address);
  switch (err.code) {
    case 'EADDRINUSE':
      return `${address}: port ${port} is already in use`;
    case 'EACCES':
      return port > 0 && port < 1024
        ? `${address}: port ${port} is privileged (below 1024) and this process may not bind it`
        : `${address}: permission denied`;
    case 'EADDRNOTAVAIL':
      return `${address}: address not available on this host`;
    default:
      return `${address}: ${err.message}`;
  }
}

/**
 * Listens on `address` for a bind request, strictly (a port in use fails, as GOST's listen).
 * Rejects with the OS error; `describeListenError` words it.
 */
export async function listenForBind(address: string): Promise<net.Server> {
  const server = net.createServer({ pauseOnConnect: true });
  await listenOn(server, address);
  return server;
}

/** The bound address of a bind listener, `host:port`. */
export function bindServerAddress(server: net.Server): { host: string; port: number } {
  const a = server.address();
  if (a === null || typeof a === 'string') return { host: '0.0.0.0', port: 0 };
  return { host: a.address, port: a.port };
}

/** An IPv4-mapped IPv6 peer (`::ffff:1.2.3.4` from a dual-stack socket) as Go reports it: `1.2.3.4`. */
export function unmapIPv4(host: string): string {
  return host.toLowerCase().startsWith('::ffff:') && net.isIPv4(host.slice(7)) ? host.slice(7) : host;
}

export interface ServeMuxBindOptions {
  server: net.Server;
  mux: Partial<SmuxConfig>;
  /** The header each inner stream starts with, naming the peer (null: none, GOST's `comp` mode). */
  peerHeader(host: string, port: number): Buffer | null;
  log: Logger;
  signal: AbortSignal;
  lingerMs?: number | undefined;
}

/**
 * The server end of GOST's multiplexed bind, after the success reply: `conn` now carries an smux
 * session in which this end is the CLIENT — it opens one stream per peer accepted on `server`,
 * writes the peer header, then relays. Streams the other end opens are refused (GOST ignores them).
 * Resolves when the session or the listener ends; both are closed then.
 */
export function serveMuxBind(conn: Conn, opts: ServeMuxBindOptions): Promise<void> {
  const { server, log } = opts;
  const session = new SmuxSession(conn, { ...opts.mux, client: true, acceptStreams: false });
  const peers = new Set<net.Socket>();
  return new Promise<void>((resolve) => {
    const finish = (err?: Error): void => {
      opts.signal.removeEventListener('abort', onAbort);
      server.off('connection', onPeer);
      server.close();
      for (const s of peers) s.destroy();
      if (!session.isClosed) session.close(err);
      resolve();
    };
    const onAbort = (): void => finish();
    const onPeer = (sock: net.Socket): void => {
      const host = unmapIPv4(sock.remoteAddress ?? '');
      const port = sock.remotePort ?? 0;
      sock.on('error', (err: Error) =>
        log.debug({ err: err.message, peer: `${host}:${port}` }, 'bind: peer error'),
      );
      let stream: Conn;
      try {
        stream = session.openStream();
      } catch (err) {
        log.warn({ err: toError(err).message }, 'bind: cannot open a stream for a peer');
        sock.destroy();
        return;
      }
      peers.add(sock);
      log.debug({ peer: `${host}:${port}` }, 'bind: peer accepted');
      const header = opts.peerHeader(host, port);
      if (header !== null) stream.write(header);
      void relay(sock, stream, { signal: opts.signal, lingerMs: opts.lingerMs }).then((res) => {
        peers.delete(sock);
        log.debug({ peer: `${host}:${port}`, up: res.aToB, down: res.bToA }, 'bind: peer closed');
      });
    };
    server.on('connection', onPeer);
    server.once('error', (err) => {
      log.warn({ err: err.message, bind: boundAddress(server) }, 'bind: listener failed');
      finish(err);
    });
    session.once('close', (err) => {
      log.info({ bind: boundAddress(server), reason: err?.message }, 'bind: tunnel closed, port released');
      finish();
    });
    if (opts.signal.aborted) finish();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  });
}
