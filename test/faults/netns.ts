import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliPath = resolve(repoRoot, 'dist', 'cli', 'main.js');
const agentPath = resolve(repoRoot, 'test', 'faults', 'ns-agent.ts');

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Whether namespaces can be made here (root, iproute2 and iptables present). */
export function netnsUsable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const tool of ['ip', 'iptables']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} missing (scripts/setup.sh --with-go installs it)`;
    }
  }
  return undefined;
}

let counter = 0;
const live = new Set<string>();
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const ns of live) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
});

/**
 * Two network namespaces joined by a veth pair: the server end (`server`, 10.254.N.1) and the
 * client end (`client`, 10.254.N.2). Names are unique per process and call (`gtsf-<pid>-<n>-s/c`);
 * destroy() removes both, and so does process exit.
 */
export class Topology {
  readonly server: string;
  readonly client: string;
  readonly serverIp: string;
  readonly clientIp: string;

  constructor() {
    counter += 1;
    const base = `gtsf-${process.pid}-${counter}`;
    this.server = `${base}-s`;
    this.client = `${base}-c`;
    const net = 200 + (counter % 50);
    this.serverIp = `10.254.${net}.1`;
    this.clientIp = `10.254.${net}.2`;
    for (const ns of [this.server, this.client]) {
      ip('netns', 'add', ns);
      live.add(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    ip('-n', this.server, 'link', 'add', 'vs', 'type', 'veth', 'peer', 'name', 'vc', 'netns', this.client);
    ip('-n', this.server, 'addr', 'add', `${this.serverIp}/30`, 'dev', 'vs');
    ip('-n', this.client, 'addr', 'add', `${this.clientIp}/30`, 'dev', 'vc');
    ip('-n', this.server, 'link', 'set', 'vs', 'up');
    ip('-n', this.client, 'link', 'set', 'vc', 'up');
  }

  /** Link of the server end down (or up again): a silent partition. */
  link(up: boolean): void {
    ip('-n', this.server, 'link', 'set', 'vs', up ? 'up' : 'down');
  }

  /** Adds (or deletes) iptables rules in the server namespace for TCP port `port`. */
  iptables(add: boolean, port: number, target: 'DROP' | 'RESET'): void {
    const op = add ? '-A' : '-D';
    const jump = target === 'DROP' ? ['-j', 'DROP'] : ['-j', 'REJECT', '--reject-with', 'tcp-reset'];
    execFileSync('ip', [
      'netns',
      'exec',
      this.server,
      'iptables',
      op,
      'INPUT',
      '-p',
      'tcp',
      '--dport',
      String(port),
      ...jump,
    ]);
    if (target === 'DROP')
      execFileSync('ip', [
        'netns',
        'exec',
        this.server,
        'iptables',
        op,
        'OUTPUT',
        '-p',
        'tcp',
        '--sport',
        String(port),
        '-j',
        'DROP',
      ]);
  }

  destroy(): void {
    for (const ns of [this.server, this.client]) {
      if (!live.has(ns)) continue;
      live.delete(ns);
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  }
}

/** A process in a namespace, with its stdout JSON events and stderr lines. */
export class NsProcess {
  readonly proc: ChildProcess;
  readonly events: Record<string, unknown>[] = [];
  readonly lines: string[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(ns: string, argv: string[], env?: NodeJS.ProcessEnv) {
    this.proc = spawn('ip', ['netns', 'exec', ns, ...argv], {
      cwd: repoRoot,
      env: env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(this.proc);
    this.proc.once('exit', () => {
      children.delete(this.proc);
      this.wake();
    });
    let out = '';
    this.proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const parts = out.split('\n');
      out = parts.pop() ?? '';
      for (const p of parts) {
        try {
          this.events.push(JSON.parse(p) as Record<string, unknown>);
        } catch {
          this.lines.push(p);
        }
      }
      this.wake();
    });
    let err = '';
    this.proc.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      const parts = err.split('\n');
      err = parts.pop() ?? '';
      this.lines.push(...parts);
      this.wake();
    });
  }

  static cli(ns: string, args: string[], env?: NodeJS.ProcessEnv): NsProcess {
    return new NsProcess(ns, [process.execPath, cliPath, ...args], env);
  }

  static agent(ns: string, args: string[]): NsProcess {
    return new NsProcess(ns, [process.execPath, '--import', 'tsx', agentPath, ...args]);
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  /** Resolves once `pred` holds for the process's output; fails after `ms` or on exit. */
  waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolvePromise, reject) => {
      const check = (): void => {
        if (pred()) {
          done();
          resolvePromise();
        } else if (this.exited) {
          done();
          reject(new Error(`process exited before ${what}:\n${this.lines.slice(-20).join('\n')}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`timed out after ${ms} ms waiting for ${what}:\n${this.lines.slice(-20).join('\n')}`),
        );
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Index of the next event, for waiting on events that arrive after it. */
  mark(): number {
    return this.events.length;
  }

  async event(name: string, from: number, ms: number, count = 1): Promise<Record<string, unknown>[]> {
    const pick = (): Record<string, unknown>[] => this.events.slice(from).filter((e) => e['event'] === name);
    await this.waitFor(() => pick().length >= count, ms, `${count} "${name}" event(s)`);
    return pick().slice(0, count);
  }

  send(cmd: Record<string, unknown>): void {
    this.proc.stdin?.write(`${JSON.stringify(cmd)}\n`);
  }

  signal(sig: NodeJS.Signals): void {
    this.proc.kill(sig);
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.proc.kill('SIGKILL');
    await once(this.proc, 'exit');
  }

  rss(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.proc.pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]) * 1024;
  }

  fds(): number {
    return readdirSync(`/proc/${this.proc.pid}/fd`).length;
  }
}
