import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ConfigError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { Metadata } from '../core/metadata.js';
import type { Authenticator, Handler, Listener } from '../core/types.js';
import { createAuthenticator } from '../common/auth.js';
import { createBuiltinRegistries } from '../registry/builtins.js';
import { Service, type ServiceStats } from '../service/service.js';
import { MwsSessions } from '../listener/mws/sessions.js';
import { limitReporter } from '../common/limits.js';
import {
  createUpgradeAcceptor,
  pathMatches,
  upgradePath,
  type UpgradeAcceptor,
} from '../transport/websocket/server.js';
import { endpointRouter, type EndpointRouter } from './chain.js';
import {
  rejectUnusedKeys,
  resolveListenerOptions,
  type MwsEndpointHandler,
  type MwsEndpointOptions,
} from './options.js';

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

const UNAVAILABLE = 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

function authenticatorOf(auth: Exclude<MwsEndpointHandler, string>['auth']): Authenticator | undefined {
  if (auth === undefined) return undefined;
  if ('authenticate' in auth) return auth;
  return createAuthenticator(Array.isArray(auth) ? auth : [auth as { username: string; password: string }]);
}

function createHandler(spec: MwsEndpointHandler, log: Logger): Handler {
  const { type, metadata, auth, targets } =
    typeof spec === 'string' ? { type: spec, metadata: {}, auth: undefined, targets: undefined } : spec;
  const entry = createBuiltinRegistries().handlers.get(type, 'endpoint.handler.type');
  if ((type === 'tcp' || type === 'forward') && (targets ?? []).length === 0)
    throw new ConfigError('endpoint.handler.targets', `handler "${type}" needs targets (["host:port"])`);
  const md = new Metadata(metadata ?? {}, 'endpoint.handler.metadata');
  const handler = entry.create({
    metadata: md,
    authenticator: authenticatorOf(auth),
    targets: [...(targets ?? [])],
    log,
  });
  rejectUnusedKeys(md, `handler "${type}"`);
  return handler;
}

/**
 * An mws endpoint mounted in an application's own http(s) server: it takes the WebSocket upgrades
 * for its path (GOST's replies for bad ones), runs an smux server session on each, and serves every
 * stream with a proxy handler, exactly as `gost -L http+mws://` would. It never touches plain
 * requests or upgrades for other paths, so the application's routes and other WebSocket endpoints
 * on the same server keep working.
 */
export class MwsEndpoint {
  /** The path pattern it answers (`/ws`, or `/tunnel/` for a subtree). */
  readonly path: string;
  private readonly acceptUpgrade: UpgradeAcceptor;
  private readonly sessions: MwsSessions;
  private readonly service: Service;
  private readonly router: EndpointRouter;
  private readonly log: Logger;
  private readonly attached = new Map<HttpServer, UpgradeListener>();
  private upgrades = 0;
  private closing: Promise<void> | undefined;

  constructor(opts: MwsEndpointOptions = {}) {
    const log = opts.log ?? silentLogger;
    const name = opts.name ?? 'mws-endpoint';
    const { ws, mux, keepAlive, keepAliveIdle, sessionLimits } = resolveListenerOptions(opts);
    const handler = createHandler(opts.handler ?? 'http', log.child({ service: name }));
    this.log = log.child({ service: name });
    this.path = ws.path;
    this.sessions = new MwsSessions({
      mux,
      log: this.log,
      ...sessionLimits,
      onLimit: limitReporter(this.log),
    });
    this.acceptUpgrade = createUpgradeAcceptor(
      ws,
      (accepted) => {
        this.upgrades += 1;
        accepted.conn.on('error', (err: Error) => this.log.debug({ err: err.message }, 'websocket: error'));
        this.sessions.start(accepted);
      },
      // GOST's listener `keepalive`: TCP keepalive on the upgraded connection (the host's others untouched).
      (socket) => {
        if (keepAlive) socket.setKeepAlive(true, keepAliveIdle);
      },
    );
    this.router = endpointRouter(opts.chain, this.log);
    const sessions = this.sessions;
    const listener: Listener = {
      listen: (onConn) => Promise.resolve(sessions.accept(onConn)),
      address: () => this.path,
      close: () => Promise.resolve(sessions.close()),
    };
    this.service = new Service({
      name,
      listener,
      handler,
      router: this.router,
      log: this.log,
      observer: opts.observer,
    });
    // Binds nothing: the sessions start taking streams at once, so this cannot fail.
    void this.service.start();
  }

  /** Settles once the chain (if any) is built; rejects with the reason a chain cannot be built. */
  ready(): Promise<void> {
    return this.router.ready;
  }

  /** WebSocket upgrades accepted so far (each one an smux session). */
  get upgradeCount(): number {
    return this.upgrades;
  }

  /** Live smux sessions. */
  get sessionCount(): number {
    return this.sessions.count;
  }

  /** Streams served since start, and being served now. */
  get stats(): ServiceStats {
    return this.service.stats;
  }

  /**
   * Listens for upgrades on `server` (http.Server or https.Server: Express's `app.listen()`, Fastify's
   * `fastify.server`, ...). Another endpoint's upgrades are left to it. Returns this endpoint.
   */
  attach(server: HttpServer): this {
    if (this.closing !== undefined) throw new ConfigError('endpoint', 'attach() after close()');
    if (this.attached.has(server)) return this;
    const onUpgrade: UpgradeListener = (req, socket, head) => {
      this.handleUpgrade(req, socket, head);
    };
    server.on('upgrade', onUpgrade);
    this.attached.set(server, onUpgrade);
    return this;
  }

  /**
   * For servers that route upgrades themselves: takes the upgrade and returns true when the request
   * is for this endpoint's path (upgraded, or answered with GOST's error reply), and returns false,
   * leaving the socket untouched, when it is not. After close() its own path gets a 503.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = upgradePath(req);
    if (path === undefined || !pathMatches(this.path, path)) return false;
    if (this.closing !== undefined) {
      socket.on('error', () => socket.destroy());
      socket.end(UNAVAILABLE);
      return true;
    }
    this.acceptUpgrade(req, socket as Socket, head);
    return true;
  }

  /**
   * Stops taking upgrades, ends its own sessions and streams, and closes the chain's sessions. The
   * host server, its other connections and its other upgrade listeners are left running.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const [server, onUpgrade] of this.attached) server.off('upgrade', onUpgrade);
      this.attached.clear();
      await this.service.close();
      await this.router.close();
      this.log.debug('mws endpoint closed');
    })();
    return this.closing;
  }
}

/** A mountable mws endpoint; see MwsEndpoint. Throws ConfigError for an option nothing understands. */
export function createMwsEndpoint(opts: MwsEndpointOptions = {}): MwsEndpoint {
  return new MwsEndpoint(opts);
}
