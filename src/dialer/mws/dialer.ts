import type { Duplex } from 'node:stream';
import { ProtocolError, TunnelError, hasCode } from '../../core/errors.js';
import type { ClientTlsOptions, Conn, DialContext, Dialer } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';
import { SmuxSession } from '../../mux/smux/session.js';
import { websocketConnect } from '../../transport/websocket/client.js';
import { tlsClientConnect } from '../../common/tls-client.js';
import type { MwsDialerMetadata } from './metadata.js';

export interface MwsDialerOptions extends MwsDialerMetadata {
  /** Set for `mwss`: TLS under the WebSocket. */
  tls?: ClientTlsOptions | undefined;
  /** Bound on connect + TLS + upgrade of a new session (ms); GOST's router allows 15 s. */
  sessionTimeout?: number | undefined;
}

/**
 * GOST's `mws`/`mwss` dialer: ONE WebSocket + smux client session per node address, reused for every
 * stream. Concurrent dials during the handshake share that handshake (a pooled promise, not a lock
 * held across it). A closed session leaves the pool at once, and a dial that finds its session dead
 * when opening the stream redials before failing the caller.
 */
export class MwsDialer implements Dialer {
  private readonly opts: MwsDialerOptions;
  private readonly sessions = new Map<string, Promise<SmuxSession>>();

  constructor(opts: MwsDialerOptions) {
    this.opts = opts;
  }

  async dial(addr: string, ctx: DialContext): Promise<Conn> {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      const session = await this.session(addr, ctx);
      if (session.isClosed) {
        this.drop(addr, session);
        continue;
      }
      try {
        return session.openStream();
      } catch (err) {
        lastErr = err;
        this.drop(addr, session);
        if (!hasCode(err, 'ERR_SMUX_SESSION_CLOSED') && !hasCode(err, 'ERR_SMUX_GO_AWAY')) throw err;
      }
    }
    throw new TunnelError('ERR_DIAL', `mws: no usable session to ${addr}`, { cause: lastErr });
  }

  /** Live sessions, for metrics and tests. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    const pending = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.allSettled(pending.map(async (p) => (await p).close()));
  }

  private session(addr: string, ctx: DialContext): Promise<SmuxSession> {
    const existing = this.sessions.get(addr);
    if (existing !== undefined) return existing;
    const created = this.createSession(addr, ctx);
    this.sessions.set(addr, created);
    created.then(
      (s) => {
        s.once('close', (err) => {
          this.drop(addr, s);
          if (err instanceof ProtocolError)
            ctx.log.warn({ addr, err: err.message }, 'mws: session closed on a protocol error');
          else ctx.log.debug({ addr, err: err?.message }, 'mws: session closed');
        });
        if (s.isClosed) this.drop(addr, s);
      },
      () => {
        if (this.sessions.get(addr) === created) this.sessions.delete(addr);
      },
    );
    return created;
  }

  private drop(addr: string, session: SmuxSession): void {
    const current = this.sessions.get(addr);
    if (current === undefined) return;
    // Compare by identity once settled: the entry may already be a newer session.
    void current.then(
      (s) => {
        if (s === session && this.sessions.get(addr) === current) this.sessions.delete(addr);
      },
      () => {},
    );
    session.close();
  }

  private async createSession(addr: string, ctx: DialContext): Promise<SmuxSession> {
    // Shared by every waiter, so bounded by its own deadline rather than one caller's signal.
    const signal = AbortSignal.timeout(this.opts.sessionTimeout ?? 15_000);
    const log: Logger = ctx.log;
    let carrier: Duplex = await ctx.connect(addr, { signal });
    if (this.opts.tls !== undefined) {
      carrier = await tlsClientConnect(carrier, {
        ...this.opts.tls,
        addr,
        hostSetting: this.opts.host,
        signal,
      });
    }
    const ws = await websocketConnect(carrier, {
      ...this.opts.ws,
      host: this.opts.host ?? addr,
      pingInterval: this.opts.pingInterval,
      signal,
      log: ctx.log,
    });
    ws.on('error', (err: Error) => log.debug({ addr, err: err.message }, 'mws: websocket error'));
    const session = new SmuxSession(ws, {
      ...this.opts.mux,
      client: true,
      remoteAddress: ws.remoteAddress,
      remotePort: ws.remotePort,
      localAddress: ws.localAddress,
      localPort: ws.localPort,
    });
    log.debug({ addr, version: session.config.version }, 'mws: session established');
    return session;
  }
}
