/**
 * The tunnel setups under test. Each one is an HTTP CONNECT proxy port on loopback whose traffic
 * rides one `http+mws` session (smux over WebSocket) to a server that dials the target:
 *
 * | setup   | client (proxy port)  | server               |
 * |---------|----------------------|----------------------|
 * | direct  | none: the load tool connects to the target itself (the limit) |
 * | gost-ts | gost-ts              | gost-ts              |
 * | go-pair | go-peer client       | go-peer server       |
 * | ts-go   | gost-ts              | go-peer server       |
 * | go-ts   | go-peer client       | gost-ts              |
 *
 * Both implementations run with their defaults, which are GOST's: smux v1 with xtaci's
 * DefaultConfig, gorilla's 4096-byte client write buffer (so large messages fragment). Only the
 * smux version can be changed, on both ends at once.
 */
import type { Child } from './children.js';
import { NODE_STDIN_GUARD, spawnChild } from './children.js';

export const SETUP_NAMES = ['direct', 'gost-ts', 'go-pair', 'ts-go', 'go-ts'] as const;
export type SetupName = (typeof SETUP_NAMES)[number];

/** Column titles of the table. */
export const SETUP_LABELS: Readonly<Record<SetupName, string>> = {
  direct: 'direct',
  'gost-ts': 'gost-ts',
  'go-pair': 'go-pair',
  'ts-go': 'ts→go',
  'go-ts': 'go→ts',
};

/** Paths of the two programs. */
export interface Programs {
  /** The go-peer binary (server, client, target and load modes). */
  goPeer: string;
  /** gost-ts's built CLI (`dist/cli/main.js`). */
  gostTs: string;
}

/** A started setup. `stop()` ends its processes; it is safe to call more than once. */
export interface RunningSetup {
  name: SetupName;
  /** HOST:PORT of the HTTP CONNECT proxy; undefined for direct. */
  proxy: string | undefined;
  /** The proxy-side process (holds the app connections). */
  client: Child | undefined;
  /** The server-side process (dials the target). */
  server: Child | undefined;
  stop(): Promise<void>;
}

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
    const tsServer = name === 'gost-ts' || name === 'go-ts';
    const tsClient = name === 'gost-ts' || name === 'ts-go';

    let server: Child;
    let serverAddr: string;
    if (tsServer) {
      const mux = muxVersion === 2 ? '&mux.version=2' : '';
      server = track(startGostTs(progs, 'ts-server', ['-L', `http+mws://127.0.0.1:0?path=${WS_PATH}${mux}`]));
      serverAddr = await waitGostTsListen(server);
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

    let client: Child;
    let proxy: string;
    if (tsClient) {
      const mux = muxVersion === 2 ? '&mux.version=2' : '';
      client = track(
        startGostTs(progs, 'ts-client', [
          '-L',
          '127.0.0.1:0',
          '-F',
          `http+mws://${serverAddr}?path=${WS_PATH}${mux}`,
        ]),
      );
      proxy = await waitGostTsListen(client);
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
