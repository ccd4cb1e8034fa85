import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry, Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConnectionObserver, UdpDropReason, UdpObserver } from '../core/types.js';
import type { Logger } from '../core/logger.js';
import { listenOn } from '../common/listen.js';
import { limitHitCounts } from '../common/limits.js';

/** Live figures read at scrape time (sessions held by mws dialers and listeners). */
export interface SessionSource {
  sessionCounts(): { client: number; server: number };
}

/**
 * Prometheus metrics with GOST's names (`gost_service_*`), plus `gost_mws_sessions` and Node's
 * process metrics, served at `addr` + `path` (GOST: `-metrics :9000`, path `/metrics`).
 */
export class PrometheusMetrics implements ConnectionObserver {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'gost_service_requests_total',
    help: 'Connections accepted by a service',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  private readonly inFlight = new Gauge({
    name: 'gost_service_requests_in_flight',
    help: 'Connections being handled',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  private readonly input = new Counter({
    name: 'gost_service_transfer_input_bytes_total',
    help: 'Bytes read from clients',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  private readonly output = new Counter({
    name: 'gost_service_transfer_output_bytes_total',
    help: 'Bytes written to clients',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  private readonly errors = new Counter({
    name: 'gost_service_handler_errors_total',
    help: 'Connections whose handler failed',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  private readonly udpSessions = new Gauge({
    name: 'gost_udp_sessions',
    help: 'UDP sessions open (udp/rudp listener peers, UDP binds of the socks5/relay handlers)',
    labelNames: ['service'] as const,
    registers: [this.registry],
  });
  private readonly udpDropped = new Counter({
    name: 'gost_udp_datagrams_dropped_total',
    help: 'Datagrams dropped: too_large, queue_full, tunnel_busy, session_limit, bad_datagram, send_failed',
    labelNames: ['service', 'reason'] as const,
    registers: [this.registry],
  });
  private server: http.Server | undefined;

  constructor(sessions?: SessionSource) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'gost_mws_sessions',
      help: 'Live mws/mwss smux sessions',
      labelNames: ['side'] as const,
      registers: [this.registry],
      collect() {
        const counts = sessions?.sessionCounts() ?? { client: 0, server: 0 };
        this.set({ side: 'client' }, counts.client);
        this.set({ side: 'server' }, counts.server);
      },
    });
    // Refusals by the built-in limits (common/limits.ts), counted process-wide.
    new Counter({
      name: 'gost_ts_limit_hits_total',
      help: 'Connections, sessions or streams refused because a limit was reached',
      labelNames: ['limit'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [limit, n] of limitHitCounts()) this.inc({ limit }, n);
      },
    });
  }

  connectionOpened(service: string): void {
    this.requests.inc({ service });
    this.inFlight.inc({ service });
  }

  connectionClosed(service: string, stats: { bytesIn: number; bytesOut: number; failed: boolean }): void {
    this.inFlight.dec({ service });
    this.input.inc({ service }, stats.bytesIn);
    this.output.inc({ service }, stats.bytesOut);
    if (stats.failed) this.errors.inc({ service });
  }

  udp(service: string): UdpObserver {
    return {
      sessionOpened: () => this.udpSessions.inc({ service }),
      sessionClosed: () => this.udpSessions.dec({ service }),
      dropped: (reason: UdpDropReason) => this.udpDropped.inc({ service, reason }),
    };
  }

  /** Serves the metrics over HTTP; resolves with the bound address. */
  async serve(addr: string, path: string, log: Logger): Promise<string> {
    const { server, address } = await serveMetrics(addr, path, log, this.registry.contentType, () =>
      this.registry.metrics(),
    );
    this.server = server;
    return address;
  }

  /**
   * In a worker process: answer the primary's scrape requests with this registry (prom-client's
   * cluster protocol over the IPC channel), so the primary serves the sum over all workers.
   */
  shareWithPrimary(): void {
    new AggregatorRegistry(); // installs the worker's IPC listener
    AggregatorRegistry.setRegistries([this.registry]);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * The metrics endpoint of the primary process when the services run in several workers: each
 * scrape asks every worker for its registry and serves them aggregated (counters and gauges
 * summed, as prom-client's AggregatorRegistry does per metric).
 */
export class ClusterMetrics {
  private readonly aggregator = new AggregatorRegistry();
  private server: http.Server | undefined;

  async serve(addr: string, path: string, log: Logger): Promise<string> {
    const { server, address } = await serveMetrics(addr, path, log, this.aggregator.contentType, () =>
      this.aggregator.clusterMetrics(),
    );
    this.server = server;
    return address;
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

async function serveMetrics(
  addr: string,
  path: string,
  log: Logger,
  contentType: string,
  render: () => Promise<string>,
): Promise<{ server: http.Server; address: string }> {
  const server = http.createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== path) {
      res.writeHead(404).end('404 page not found\n');
      return;
    }
    render().then(
      (text) => res.writeHead(200, { 'Content-Type': contentType }).end(text),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  await listenOn(server, addr);
  const a = server.address() as AddressInfo;
  log.info({ addr: `${a.address}:${a.port}`, path }, 'metrics: serving');
  return { server, address: `${a.address}:${a.port}` };
}
