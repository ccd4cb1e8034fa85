import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { once } from 'node:events';
import { silentLogger } from '../../src/core/logger.js';
import { resolveServerTls } from '../../src/common/tls-server.js';

export interface Origin {
  port: number;
  url: string;
  close: () => void;
}

/** A local web server answering `hello <path>` (HTTP, or HTTPS with a self-signed certificate). */
export async function webOrigin(secure = false): Promise<Origin> {
  const handler: http.RequestListener = (req, res) => res.end(`hello ${req.url ?? ''}\n`);
  const server = secure
    ? https.createServer({ ...(await resolveServerTls(undefined, silentLogger)) }, handler)
    : http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `${secure ? 'https' : 'http'}://127.0.0.1:${port}/`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
