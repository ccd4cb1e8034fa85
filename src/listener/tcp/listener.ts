import net from 'node:net';
import type { Conn, Listener } from '../../core/types.js';
import { boundAddress, listenOn, trackSockets } from '../../common/listen.js';

export interface TcpListenerOptions {
  addr: string;
  /** TCP keepalive on accepted connections (GOST `keepalive`), with its idle time in ms. */
  keepAlive?: boolean | undefined;
  keepAliveIdle?: number | undefined;
}

/** GOST's `tcp` listener: every accepted TCP connection goes to the handler as is. */
export class TcpListener implements Listener {
  private readonly opts: TcpListenerOptions;
  // allowHalfOpen: a client's FIN must not end our side too; the handler passes it on and the
  // reply can still come back (half-close). The handler closes the connection when it is done.
  private readonly server = net.createServer({ noDelay: true, allowHalfOpen: true });
  private readonly tracked = trackSockets(this.server);

  constructor(opts: TcpListenerOptions) {
    this.opts = opts;
  }

  async listen(onConn: (conn: Conn) => void): Promise<void> {
    this.server.on('connection', (socket) => {
      if (this.opts.keepAlive) socket.setKeepAlive(true, this.opts.keepAliveIdle ?? 0);
      onConn(socket);
    });
    await listenOn(this.server, this.opts.addr);
  }

  address(): string {
    return boundAddress(this.server);
  }

  stopAccepting(): void {
    this.tracked.stopAccepting();
  }

  close(): Promise<void> {
    return this.tracked.close();
  }
}
