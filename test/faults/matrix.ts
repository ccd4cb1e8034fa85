import { heapSample, probeEnv, type HeapSample } from '../helpers/heap-probe.js';
import { NsProcess, Topology } from './netns.js';

/** Keepalive of both tunnel ends in the matrix by default: NOP every 500 ms, dead after 2 s of silence. */
export const KEEPALIVE_INTERVAL_MS = 500;
export const KEEPALIVE_TIMEOUT_MS = 2000;
const TUNNEL_PORT = 8443;
const PROXY_PORT = 8080;

/** The faults that need the network between the two ends (the far end is a gost-ts server). */
export const NETWORK_FAULTS = ['link-down', 'drop', 'freeze', 'kill', 'reset'] as const;
/** The faults a network cannot make (the far end is a raw WebSocket peer, ns-agent.ts rawws). */
export const WS_FAULTS = ['close-frame', 'keepalive-expiry'] as const;
export const FAULTS = [...NETWORK_FAULTS, ...WS_FAULTS] as const;
export type NetworkFault = (typeof NETWORK_FAULTS)[number];
export type WsFault = (typeof WS_FAULTS)[number];
export type Fault = NetworkFault | WsFault;

/** Which far end a fault needs. */
export function peerFor(fault: Fault): 'gost-ts' | 'raw-ws' {
  return (WS_FAULTS as readonly string[]).includes(fault) ? 'raw-ws' : 'gost-ts';
}

export interface BenchOptions {
  /** The far end: a gost-ts server (network faults) or a raw WebSocket peer (WebSocket faults). */
  peer?: 'gost-ts' | 'raw-ws';
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  /** Preload the heap probe into the gost-ts processes (heap after GC, active handles). */
  probe?: boolean;
}

export interface CycleResult {
  fault: Fault;
  /** How each application download ended. */
  endings: string[];
  /** ms from the fault to the last download's end. */
  failMs: number;
  /** ms from recovery to the first successful dial. */
  recoverMs: number;
}

/**
 * gost-ts client (namespace C, HTTP proxy on 127.0.0.1:8080, plus the application) and, in
 * namespace S on 10.254.N.1:8443, either a gost-ts server (mws, plus an endless-download target)
 * or a raw WebSocket peer that serves downloads itself; joined by a veth.
 */
export class FaultBench {
  readonly topo: Topology;
  readonly peer: 'gost-ts' | 'raw-ws';
  readonly keepaliveTimeoutMs: number;
  /** The gost-ts server (peer 'gost-ts') or the raw WebSocket peer (peer 'raw-ws'). */
  server!: NsProcess;
  client!: NsProcess;
  private source?: NsProcess;
  private app!: NsProcess;
  private target = 'origin.test:80';
  private readonly mux: string;
  private readonly nopMs: number;
  private readonly env: NodeJS.ProcessEnv | undefined;

  private constructor(o: BenchOptions) {
    this.peer = o.peer ?? 'gost-ts';
    this.nopMs = o.keepaliveIntervalMs ?? KEEPALIVE_INTERVAL_MS;
    this.keepaliveTimeoutMs = o.keepaliveTimeoutMs ?? KEEPALIVE_TIMEOUT_MS;
    this.mux = `muxKeepAliveInterval=${this.nopMs}ms&muxKeepAliveTimeout=${this.keepaliveTimeoutMs}ms`;
    this.env = o.probe === true ? probeEnv() : undefined;
    this.topo = new Topology();
  }

  static async start(o: BenchOptions = {}): Promise<FaultBench> {
    const b = new FaultBench(o);
    try {
      if (b.peer === 'gost-ts') {
        b.source = NsProcess.agent(b.topo.server, ['source', b.topo.serverIp]);
        const [ready] = await b.source.event('ready', 0, 20_000);
        b.target = `${b.topo.serverIp}:${Number(ready?.['port'])}`;
      }
      await b.startServer();
      b.client = NsProcess.cli(
        b.topo.client,
        [
          ...(process.env['GTSF_DEBUG'] !== undefined ? ['-D'] : []),
          '-L',
          `http://127.0.0.1:${PROXY_PORT}`,
          '-F',
          `http+mws://${b.topo.serverIp}:${TUNNEL_PORT}?path=/ws&${b.mux}`,
        ],
        b.env,
      );
      await b.client.waitFor(
        () => b.client.lines.some((l) => l.includes('gost-ts started')),
        20_000,
        'the client',
      );
      b.app = NsProcess.agent(b.topo.client, ['app', `127.0.0.1:${PROXY_PORT}`, b.target]);
      await b.app.event('ready', 0, 20_000);
      return b;
    } catch (err) {
      await b.stop();
      throw err;
    }
  }

  private async startServer(): Promise<void> {
    if (this.peer === 'raw-ws') {
      this.server = NsProcess.agent(this.topo.server, [
        'rawws',
        this.topo.serverIp,
        String(TUNNEL_PORT),
        String(this.nopMs),
      ]);
      await this.server.event('ready', 0, 20_000);
      return;
    }
    this.server = NsProcess.cli(
      this.topo.server,
      ['-L', `http+mws://${this.topo.serverIp}:${TUNNEL_PORT}?path=/ws&${this.mux}`],
      this.env,
    );
    await this.server.waitFor(
      () => this.server.lines.some((l) => l.includes('gost-ts started')),
      20_000,
      'the server',
    );
  }

  /** One fault: downloads flowing, the fault, every download ends, recovery, a successful dial. */
  async cycle(fault: Fault, downloads = 2): Promise<CycleResult> {
    if (peerFor(fault) !== this.peer) throw new Error(`fault ${fault} needs a ${peerFor(fault)} bench`);
    const from = this.app.mark();
    this.app.send({ cmd: 'open', n: downloads });
    await this.app.event('flowing', from, 20_000);
    const t0 = Date.now();
    await this.apply(fault);
    const ended = await this.app.event('ended', from, 2 * this.keepaliveTimeoutMs + 10_000, downloads);
    const failMs = Date.now() - t0;
    const t1 = Date.now();
    await this.recover(fault);
    await this.probeUntilOk(20_000);
    if (this.client.exited)
      throw new Error(`the client process exited:\n${this.client.lines.slice(-20).join('\n')}`);
    return { fault, endings: ended.map((e) => String(e['kind'])), failMs, recoverMs: Date.now() - t1 };
  }

  private async apply(fault: Fault): Promise<void> {
    switch (fault) {
      case 'close-frame':
      case 'keepalive-expiry': {
        const from = this.server.mark();
        this.server.send({ cmd: fault === 'close-frame' ? 'close-frame' : 'silent' });
        await this.server.event('done', from, 10_000);
        return;
      }
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

  private async recover(fault: Fault): Promise<void> {
    switch (fault) {
      case 'close-frame':
      case 'keepalive-expiry':
        // The peer serves the next connection as usual.
        return;
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

/** One gost-ts process at one moment: RSS and descriptors from /proc, heap and handles from the probe. */
export interface ProcessSample {
  rss: number;
  fds: number;
  heap?: HeapSample;
}

export interface CycleReport {
  results: CycleResult[];
  /** Every gost-ts process that lives through all the cycles, after `warm` cycles and at the end. */
  processes: { role: 'client' | 'server'; warm: ProcessSample; end: ProcessSample }[];
}

/** The gost-ts processes of `bench` that survive `faults` (a killed server is a new process). */
function survivors(
  bench: FaultBench,
  faults: readonly Fault[],
): { role: 'client' | 'server'; p: NsProcess }[] {
  const out: { role: 'client' | 'server'; p: NsProcess }[] = [{ role: 'client', p: bench.client }];
  if (bench.peer === 'gost-ts' && !faults.includes('kill')) out.push({ role: 'server', p: bench.server });
  return out;
}

async function sample(p: NsProcess, probe: boolean): Promise<ProcessSample> {
  const heap = probe ? await heapSample(p.proc.pid as number, p.lines) : undefined;
  return { rss: p.rss(), fds: p.fds(), ...(heap !== undefined ? { heap } : {}) };
}

/**
 * Cycles through `faults` `total` times; samples every surviving gost-ts process after `warm`
 * cycles and after the last (each time once the cycle's connections have settled). `probe`: the
 * bench was started with the heap probe.
 */
export async function cycles(
  bench: FaultBench,
  total: number,
  warm: number,
  faults: readonly Fault[],
  o: { probe?: boolean; log?: (line: string) => void } = {},
): Promise<CycleReport> {
  const results: CycleResult[] = [];
  const watched = survivors(bench, faults);
  const probe = o.probe === true;
  const settle = (): Promise<void> => new Promise((res) => setTimeout(res, 500));
  let warmSamples: ProcessSample[] = [];
  for (let i = 0; i < total; i++) {
    const r = await bench.cycle(faults[i % faults.length] as Fault);
    results.push(r);
    if (i + 1 === warm) {
      await settle();
      warmSamples = [];
      for (const w of watched) warmSamples.push(await sample(w.p, probe));
    }
    if ((i + 1) % 50 === 0)
      o.log?.(
        `${faults.join(',')} cycle ${i + 1}: ` +
          watched
            .map((w) => `${w.role} fds ${w.p.fds()} rss ${(w.p.rss() / 1048576).toFixed(1)} MB`)
            .join('; ') +
          `; last failure after ${r.failMs} ms`,
      );
  }
  await settle();
  const processes: CycleReport['processes'] = [];
  for (const [i, w] of watched.entries())
    processes.push({ role: w.role, warm: warmSamples[i] as ProcessSample, end: await sample(w.p, probe) });
  return { results, processes };
}
