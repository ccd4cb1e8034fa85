import { NsProcess, Topology } from './netns.js';

/** Keepalive of both tunnel ends in the matrix: NOP every 500 ms, dead after 2 s of silence. */
export const KEEPALIVE_INTERVAL_MS = 500;
export const KEEPALIVE_TIMEOUT_MS = 2000;
const MUX = `muxKeepAliveInterval=${KEEPALIVE_INTERVAL_MS}ms&muxKeepAliveTimeout=${KEEPALIVE_TIMEOUT_MS}ms`;
const TUNNEL_PORT = 8443;
const PROXY_PORT = 8080;

/** The faults that need the network between the two ends. */
export const NETWORK_FAULTS = ['link-down', 'drop', 'freeze', 'kill', 'reset'] as const;
export type NetworkFault = (typeof NETWORK_FAULTS)[number];

export interface CycleResult {
  fault: NetworkFault;
  /** How each application download ended. */
  endings: string[];
  /** ms from the fault to the last download's end. */
  failMs: number;
  /** ms from recovery to the first successful dial. */
  recoverMs: number;
}

/**
 * gost-ts client (namespace C, HTTP proxy on 127.0.0.1:8080, plus the application) and gost-ts
 * server (namespace S, mws on 10.254.N.1:8443, plus an endless-download target), joined by a veth.
 */
export class FaultBench {
  readonly topo: Topology;
  server!: NsProcess;
  client!: NsProcess;
  private source!: NsProcess;
  private app!: NsProcess;
  private sourcePort = 0;

  private constructor() {
    this.topo = new Topology();
  }

  static async start(): Promise<FaultBench> {
    const b = new FaultBench();
    try {
      b.source = NsProcess.agent(b.topo.server, ['source', b.topo.serverIp]);
      const [ready] = await b.source.event('ready', 0, 20_000);
      b.sourcePort = Number(ready?.['port']);
      await b.startServer();
      b.client = NsProcess.cli(b.topo.client, [
        ...(process.env['GTSF_DEBUG'] !== undefined ? ['-D'] : []),
        '-L',
        `http://127.0.0.1:${PROXY_PORT}`,
        '-F',
        `http+mws://${b.topo.serverIp}:${TUNNEL_PORT}?path=/ws&${MUX}`,
      ]);
      await b.client.waitFor(
        () => b.client.lines.some((l) => l.includes('gost-ts started')),
        20_000,
        'the client',
      );
      b.app = NsProcess.agent(b.topo.client, [
        'app',
        `127.0.0.1:${PROXY_PORT}`,
        `${b.topo.serverIp}:${b.sourcePort}`,
      ]);
      await b.app.event('ready', 0, 20_000);
      return b;
    } catch (err) {
      await b.stop();
      throw err;
    }
  }

  private async startServer(): Promise<void> {
    this.server = NsProcess.cli(this.topo.server, [
      '-L',
      `http+mws://${this.topo.serverIp}:${TUNNEL_PORT}?path=/ws&${MUX}`,
    ]);
    await this.server.waitFor(
      () => this.server.lines.some((l) => l.includes('gost-ts started')),
      20_000,
      'the server',
    );
  }

  /** One fault: downloads flowing, the fault, every download ends, recovery, a successful dial. */
  async cycle(fault: NetworkFault, downloads = 2): Promise<CycleResult> {
    const from = this.app.mark();
    this.app.send({ cmd: 'open', n: downloads });
    await this.app.event('flowing', from, 20_000);
    const t0 = Date.now();
    await this.apply(fault);
    const ended = await this.app.event('ended', from, 2 * KEEPALIVE_TIMEOUT_MS + 10_000, downloads);
    const failMs = Date.now() - t0;
    const t1 = Date.now();
    await this.recover(fault);
    await this.probeUntilOk(20_000);
    if (this.client.exited)
      throw new Error(`the client process exited:\n${this.client.lines.slice(-20).join('\n')}`);
    return { fault, endings: ended.map((e) => String(e['kind'])), failMs, recoverMs: Date.now() - t1 };
  }

  private async apply(fault: NetworkFault): Promise<void> {
    switch (fault) {
      case 'link-down':
        this.topo.link(false);
        return;
      case 'drop':
        this.topo.iptables(true, TUNNEL_PORT, 'DROP');
        return;
      case 'freeze':
        this.server.signal('SIGSTOP');
        return;
      case 'kill':
        await this.server.stop();
        return;
      case 'reset':
        this.topo.iptables(true, TUNNEL_PORT, 'RESET');
        return;
    }
  }

  private async recover(fault: NetworkFault): Promise<void> {
    switch (fault) {
      case 'link-down':
        this.topo.link(true);
        return;
      case 'drop':
        this.topo.iptables(false, TUNNEL_PORT, 'DROP');
        return;
      case 'freeze':
        this.server.signal('SIGCONT');
        return;
      case 'kill':
        await this.startServer();
        return;
      case 'reset':
        this.topo.iptables(false, TUNNEL_PORT, 'RESET');
        return;
    }
  }

  /** Dials until one succeeds (the link may take a moment to carry traffic again). */
  private async probeUntilOk(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    let last = '';
    while (Date.now() < deadline) {
      const from = this.app.mark();
      this.app.send({ cmd: 'probe' });
      const [p] = await this.app.event('probe', from, 15_000);
      if (p?.['ok'] === true) return;
      last = String(p?.['err']);
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no successful dial within ${ms} ms after recovery (last: ${last})`);
  }

  async stop(): Promise<void> {
    for (const p of [this.app, this.client, this.server, this.source]) {
      if (p === undefined) continue;
      if (p === this.server) p.signal('SIGCONT');
      await p.stop().catch(() => {});
    }
    this.topo.destroy();
  }
}

/** Client descriptors and RSS after `warm` cycles and after all `total`, cycling through `faults`. */
export async function cycles(
  bench: FaultBench,
  total: number,
  warm: number,
  faults: readonly NetworkFault[],
  log: (line: string) => void = () => {},
): Promise<{ fdsWarm: number; fdsEnd: number; rssWarm: number; rssEnd: number; results: CycleResult[] }> {
  const results: CycleResult[] = [];
  let fdsWarm = 0;
  let rssWarm = 0;
  for (let i = 0; i < total; i++) {
    const r = await bench.cycle(faults[i % faults.length] as NetworkFault);
    results.push(r);
    if (i + 1 === warm) {
      await new Promise((res) => setTimeout(res, 300));
      fdsWarm = bench.client.fds();
      rssWarm = bench.client.rss();
    }
    if ((i + 1) % 50 === 0)
      log(`cycle ${i + 1}: fds ${bench.client.fds()}, rss ${Math.round(bench.client.rss() / 1048576)} MB`);
  }
  await new Promise((res) => setTimeout(res, 300));
  return { fdsWarm, fdsEnd: bench.client.fds(), rssWarm, rssEnd: bench.client.rss(), results };
}
