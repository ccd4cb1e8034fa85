/**
 * The tunnel setups under test. Each one is an HTTP CONNECT proxy port on loopback whose traffic
 * rides one `http+mws` session (smux over WebSocket) to a server that dials the target:
 *
 * | setup      | client (proxy port)  | server               |
 * |------------|----------------------|----------------------|
 * | direct     | none: the load tool connects to the target itself (the limit) |
 * | gost-ts    | gost-ts              | gost-ts              |
 * | gost       | GOST v3 (`gost`)     | GOST v3 (`gost`)     |
 * | ts-to-gost | gost-ts              | GOST                 |
 * | gost-to-ts | GOST                 | gost-ts              |
 * | go-pair    | go-peer client       | go-peer server       |
 * | ts-go      | gost-ts              | go-peer server       |
 * | go-ts      | go-peer client       | gost-ts              |
 *
 * Every implementation runs with its defaults, which are GOST's: smux v1 with xtaci's
 * DefaultConfig, gorilla's 4096-byte client write buffer (so large messages fragment). GOST also
 * keeps its default logging (info: a few JSON lines per connection on each side), as a user runs
 * it. Only the smux version can be changed, on both ends at once. The real GOST is the reference;
 * the go-peer pair (GOST's libraries without GOST's handlers, chain and logging) is a second one.
 *
 * The reverse tunnels (`startRtcpSetup`, below) reuse the names of the gost-ts, GOST and mixed pairs.
 */
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Child } from './children.js';
import { NODE_STDIN_GUARD, spawnChild } from './children.js';

export const SETUP_NAMES = [
  'direct',
  'gost-ts',
  'gost',
  'ts-to-gost',
  'gost-to-ts',
  'go-pair',
  'ts-go',
  'go-ts',
] as const;
export type SetupName = (typeof SETUP_NAMES)[number];

/** Column titles of the table. */
export const SETUP_LABELS: Readonly<Record<SetupName, string>> = {
  direct: 'direct',
  'gost-ts': 'gost-ts',
  gost: 'gost',
  'ts-to-gost': 'ts→gost',
  'gost-to-ts': 'gost→ts',
  'go-pair': 'go-pair',
  'ts-go': 'ts→go',
  'go-ts': 'go→ts',
};

/** Paths of the two programs. */
export interface Programs {
  /** The go-peer binary (server, client, target and load modes). */
  goPeer: string;
  /** The real GOST v3 binary (`.cache/gost/gost`, built by scripts/setup.sh). */
  gost: string;
  /** gost-ts's built CLI (`dist/cli/main.js`). */
  gostTs: string;
}

/** A started setup. `stop()` ends its processes; it is safe to call more than once. */
export interface RunningSetup {
  name: SetupName;
  /** HOST:PORT of the HTTP CONNECT proxy; undefined for direct and for reverse tunnels. */
  proxy: string | undefined;
  /**
   * Reverse tunnels: the published HOST:PORT the load tool dials instead of the target (the server
   * end listens there and sends each connection back through the tunnel to the target).
   */
  entry?: string;
  /** The proxy-side process (holds the app connections). */
  client: Child | undefined;
  /** The server-side process (dials the target). */
  server: Child | undefined;
  stop(): Promise<void>;
}

type Impl = 'ts' | 'gost' | 'go';

/** Which implementation runs each end of a tunnel setup. */
export const SIDES: Readonly<Record<Exclude<SetupName, 'direct'>, { client: Impl; server: Impl }>> = {
  'gost-ts': { client: 'ts', server: 'ts' },
  gost: { client: 'gost', server: 'gost' },
  'ts-to-gost': { client: 'ts', server: 'gost' },
  'gost-to-ts': { client: 'gost', server: 'ts' },
  'go-pair': { client: 'go', server: 'go' },
  'ts-go': { client: 'ts', server: 'go' },
  'go-ts': { client: 'go', server: 'ts' },
};

/** How long a process may take to report its listening address (ms). */
const READY_TIMEOUT_MS = 15_000;
const WS_PATH = '/ws';

/** Starts `go-peer target` and resolves with it and its HOST:PORT. */
export async function startTarget(progs: Programs): Promise<{ child: Child; addr: string }> {
  const child = startGoPeer(progs, 'target', ['target', '-listen', '127.0.0.1:0']);
  try {
    return { child, addr: await waitGoListen(child) };
  } catch (err) {
    await child.stop();
    throw err;
  }
}

/** Starts the processes of one setup and waits until its proxy port accepts connections. */
export async function startSetup(name: SetupName, progs: Programs, muxVersion: 1 | 2): Promise<RunningSetup> {
  const started: Child[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((c) => c.stop()));
  };
  const track = (c: Child): Child => {
    started.push(c);
    return c;
  };
  try {
    if (name === 'direct') {
      return { name, proxy: undefined, client: undefined, server: undefined, stop };
    }
    const side = SIDES[name];
    const mux = muxVersion === 2 ? '&mux.version=2' : '';

    let server: Child;
    let serverAddr: string;
    if (side.server === 'ts') {
      server = track(startGostTs(progs, 'ts-server', ['-L', `http+mws://127.0.0.1:0?path=${WS_PATH}${mux}`]));
      serverAddr = await waitGostTsListen(server);
    } else if (side.server === 'gost') {
      serverAddr = `127.0.0.1:${String(await freePort())}`;
      server = track(
        startGost(progs, 'gost-server', ['-L', `http+mws://${serverAddr}?path=${WS_PATH}${mux}`]),
      );
      await waitGostListen(server);
    } else {
      server = track(
        startGoPeer(progs, 'go-server', [
          'server',
          '-listen',
          '127.0.0.1:0',
          '-path',
          WS_PATH,
          '-mux-version',
          String(muxVersion),
        ]),
      );
      serverAddr = await waitGoListen(server);
    }

    const forward = `http+mws://${serverAddr}?path=${WS_PATH}${mux}`;
    let client: Child;
    let proxy: string;
    if (side.client === 'ts') {
      client = track(startGostTs(progs, 'ts-client', ['-L', '127.0.0.1:0', '-F', forward]));
      proxy = await waitGostTsListen(client);
    } else if (side.client === 'gost') {
      proxy = `127.0.0.1:${String(await freePort())}`;
      client = track(startGost(progs, 'gost-client', ['-L', `http://${proxy}`, '-F', forward]));
      await waitGostListen(client);
    } else {
      client = track(
        startGoPeer(progs, 'go-client', [
          'client',
          '-listen',
          '127.0.0.1:0',
          '-server',
          serverAddr,
          '-path',
          WS_PATH,
          '-mux-version',
          String(muxVersion),
        ]),
      );
      proxy = await waitGoListen(client);
    }
    return { name, proxy, client, server, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function startGoPeer(progs: Programs, name: string, args: string[]): Child {
  return spawnChild({
    name,
    command: progs.goPeer,
    args,
    env: { ...process.env, GO_PEER_EXIT_ON_STDIN_EOF: '1' },
  });
}

function startGostTs(progs: Programs, name: string, args: string[]): Child {
  return spawnChild({
    name,
    command: process.execPath,
    args: ['--import', NODE_STDIN_GUARD, progs.gostTs, ...args],
  });
}

/**
 * GOST cannot watch its stdin, so a shell beside it holds the pipe instead: when the runner is gone
 * (even SIGKILLed) `read` sees EOF and the shell kills GOST. Its own stdin/stdout/stderr are GOST's
 * log (JSON lines on stderr).
 */
function startGost(progs: Programs, name: string, args: string[]): Child {
  const child = spawnChild({ name, command: progs.gost, args });
  const guard = spawnChild({
    name: `${name}-guard`,
    command: 'sh',
    args: ['-c', `read _ ; kill -9 ${String(child.pid)} 2>/dev/null`],
  });
  void child.exited.then(() => guard.stop());
  return child;
}

/** GOST logs `listening on ADDR` for each service once it is bound; after that its log is drained unread. */
async function waitGostListen(child: Child): Promise<void> {
  await child.waitFor((line) => (line.includes('listening on') ? true : undefined), READY_TIMEOUT_MS);
  // GOST logs several lines per connection: reading them would cost the runner's CPU during a run.
  child.muteOutput();
}

/** A port that was free a moment ago (GOST logs the address it was given, not the one bound). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** go-peer prints `LISTEN host:port` on stdout once it listens. */
function waitGoListen(child: Child): Promise<string> {
  return child.waitFor(
    (line, stream) => (stream === 'stdout' ? /^LISTEN (\S+)$/.exec(line)?.[1] : undefined),
    READY_TIMEOUT_MS,
  );
}

/**
 * gost-ts logs a JSON line `{"msg":"gost-ts started","services":["service-0@127.0.0.1:PORT"]}` on
 * stderr once every service listens; with port 0 it names the port actually bound.
 */
function waitGostTsListen(child: Child): Promise<string> {
  return child.waitFor((line, stream) => {
    if (stream !== 'stderr' || !line.includes('gost-ts started')) return undefined;
    const entry = JSON.parse(line) as { services?: unknown };
    const first = Array.isArray(entry.services) ? (entry.services[0] as unknown) : undefined;
    if (typeof first !== 'string' || !first.includes('@')) {
      throw new Error(`${child.name}: no service address in ${line}`);
    }
    return first.slice(first.lastIndexOf('@') + 1);
  }, READY_TIMEOUT_MS);
}

/**
 * The reverse tunnels (`rtcp`) measured beside the forward proxy: the server end listens on
 * `socks5+mws` or `relay+mws` with `bind=true`; the client end runs `-L rtcp://PUB/TARGET -F
 * PROTO+mws://SERVER`, so the server publishes PUB and every connection made there comes back
 * through one bind stream (TLS-wrapped for socks5, GOST's method 0x80, then an smux session inside
 * it) to the client, which dials the target. Defaults everywhere, as a user runs them.
 */
export const RTCP_KINDS = ['socks5', 'relay'] as const;
export type RtcpKind = (typeof RTCP_KINDS)[number];

/** The setups that have a reverse variant: direct and the pairs of gost-ts and GOST (go-peer has no bind). */
export const RTCP_SETUPS = [
  'direct',
  'gost-ts',
  'gost',
  'ts-to-gost',
  'gost-to-ts',
] as const satisfies readonly SetupName[];

export function hasRtcp(name: SetupName): boolean {
  return (RTCP_SETUPS as readonly SetupName[]).includes(name);
}

/**
 * Starts the reverse variant of a setup for `kind` towards `target` (HOST:PORT) and waits until an
 * echo goes through the published port. `direct` starts nothing: the load tool dials the target.
 */
export async function startRtcpSetup(
  name: SetupName,
  kind: RtcpKind,
  progs: Programs,
  target: string,
): Promise<RunningSetup> {
  const started: Child[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((c) => c.stop()));
  };
  const track = (c: Child): Child => {
    started.push(c);
    return c;
  };
  try {
    if (name === 'direct') return { name, proxy: undefined, client: undefined, server: undefined, stop };
    if (!hasRtcp(name)) throw new Error(`${name} has no reverse tunnel`);
    const side = SIDES[name];
    const listen = (addr: string): string => `${kind}+mws://${addr}?path=${WS_PATH}&bind=true`;
    let server: Child;
    let serverAddr: string;
    if (side.server === 'ts') {
      server = track(startGostTs(progs, 'ts-server', ['-L', listen('127.0.0.1:0')]));
      serverAddr = await waitGostTsListen(server);
    } else {
      serverAddr = `127.0.0.1:${String(await freePort())}`;
      server = track(startGost(progs, 'gost-server', ['-L', listen(serverAddr)]));
      await waitGostListen(server);
    }
    const entry = `127.0.0.1:${String(await freePort())}`;
    const args = ['-L', `rtcp://${entry}/${target}`, '-F', `${kind}+mws://${serverAddr}?path=${WS_PATH}`];
    const client = track(
      side.client === 'ts' ? startGostTs(progs, 'ts-client', args) : startGost(progs, 'gost-client', args),
    );
    await waitEcho(entry, [server, client]);
    // Both ends log per connection (GOST at info, gost-ts for binds): drain it unread from now on.
    server.muteOutput();
    client.muteOutput();
    return { name, proxy: undefined, entry, client, server, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** How often the published port is tried while the tunnel comes up (ms). */
const ENTRY_POLL_MS = 100;

/**
 * Waits until one echo round trip succeeds through `entry` (the bind reached the server and the
 * client dials the target), within READY_TIMEOUT_MS; fails early if a process exits.
 */
async function waitEcho(entry: string, procs: readonly Child[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    const dead = procs.find((c) => c.hasExited);
    if (dead !== undefined) throw new Error(`${dead.name}: exited\n${dead.tail()}`);
    try {
      await echoOnce(entry);
      return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(ENTRY_POLL_MS);
  }
  throw new Error(`reverse tunnel: no echo through ${entry} after ${String(READY_TIMEOUT_MS)} ms (${last})`);
}

/** One echo through `addr` to a `go-peer target` (header 'E' + size 0, then 4 bytes back). */
function echoOnce(addr: string): Promise<void> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  const probe = Buffer.from('ping');
  return new Promise((resolve, reject) => {
    const sock = connect(port, host);
    let got = 0;
    const done = (err?: Error): void => {
      sock.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };
    sock.setTimeout(2000, () => done(new Error('no echo within 2 s')));
    sock.once('error', done);
    sock.once('close', () => done(new Error(`closed after ${String(got)} echoed bytes`)));
    sock.on('data', (b: Buffer) => {
      got += b.length;
      if (got >= probe.length) done();
    });
    sock.write(Buffer.concat([Buffer.from('E'), Buffer.alloc(8), probe]));
  });
}
