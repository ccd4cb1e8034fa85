/** Command line of the benchmark runner. */
import { SCENARIO_GROUPS, TUNNEL_TOKENS } from './scenarios.js';
import { SETUP_NAMES } from './setups.js';

export interface BenchOptions {
  /** Print only the JSON document on stdout. */
  json: boolean;
  /** Small sizes, for development. */
  quick: boolean;
  /** `--only` tokens: setup names, scenario names or scenario groups; empty = everything. */
  only: string[];
  /** smux versions: [1], or [1, 2] to repeat the latency scenarios with v2. */
  muxVersions: (1 | 2)[];
  /** Rounds of everything; the table shows each figure's median over the rounds. */
  repeat: number;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--quick] [--json] [--only NAME[,NAME...]] [--mux-version 2] [--repeat N]

  --quick            small sizes (64 MiB bulk, 500 connections, 1,000 streams): about a minute
  --json             print only the JSON document on stdout (it is always saved to bench-results/)
  --only NAMES       run only these setups, tunnels and/or scenarios (repeatable, comma-separated;
                     scenarios and groups pick within the tunnels picked):
                       setups:    ${SETUP_NAMES.join(', ')}
                       tunnels:   ${TUNNEL_TOKENS.join(', ')}
                       groups:    ${SCENARIO_GROUPS.join(', ')}
                       scenarios: rate-cold, bulk-up, bulk-down, bulk8-up, bulk8-down, rate,
                                  latency-idle, latency-down, latency-up, scale,
                                  rtcp-socks5-up, rtcp-socks5-down, rtcp-socks5-rate (and relay)
  --mux-version 2    also run the latency scenarios with smux v2 on both ends (head-of-line
                     comparison); everything else always runs with v1, GOST's default
  --repeat N         run everything N times (1-9, fresh processes each round) and show each
                     figure's median: the host's noise moves single figures by 20-30 %`;

/** Parses argv; throws on unknown flags or values. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = { json: false, quick: false, only: [], muxVersions: [1], repeat: 1, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--json':
        o.json = true;
        break;
      case '--quick':
        o.quick = true;
        break;
      case '--only':
        o.only.push(
          ...value()
            .split(',')
            .filter((t) => t !== ''),
        );
        break;
      case '--mux-version': {
        const v = value();
        if (v === '2' || v === '1,2') o.muxVersions = [1, 2];
        else if (v === '1') o.muxVersions = [1];
        else throw new Error(`--mux-version: 1 or 2, not ${v}`);
        break;
      }
      case '--repeat': {
        const v = value();
        if (!/^[1-9]$/.test(v)) throw new Error(`--repeat: a whole number from 1 to 9, not ${v}`);
        o.repeat = Number(v);
        break;
      }
      case '-h':
      case '--help':
        o.help = true;
        break;
      default:
        throw new Error(`unknown argument ${arg}`);
    }
  }
  return o;
}
