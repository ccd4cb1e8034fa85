/**
 * The `--help` text. Flags and URL grammar are written here; every parameter section is produced
 * from the option table (`src/config/keys.ts`), the type lists from the registries.
 */
import { ENVIRONMENT } from './environment.js';
import { allOptions, type OptionGroup, type OptionSpec, type Where } from '../config/keys.js';
import { STRATEGY_NAMES } from '../chain/selector.js';
import { FLAGS } from '../config/cmdline.js';
import { implementedTypes } from '../registry/builtins.js';

const LISTEN_SIDE: readonly Where[] = ['handler', 'listener', 'service'];

/** `[-L]`, `[-F]` or nothing (both), from where an option applies. */
function side(o: OptionSpec): string {
  const onL = o.where.some((w) => LISTEN_SIDE.includes(w));
  const onF = o.where.some((w) => !LISTEN_SIDE.includes(w));
  return onL && onF ? '' : onL ? ' [-L]' : ' [-F]';
}

/** Display order: the documented name first, then the other aliases. */
export function aliases(o: OptionSpec): string[] {
  const name = o.name ?? o.keys[0] ?? '';
  return [name, ...o.keys.filter((k) => k !== name)];
}

function wrap(text: string, indent: string, width = 100): string {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > width && line.trim() !== '') {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${word} `;
  }
  lines.push(line.trimEnd());
  return lines.join('\n');
}

/** The flag section, from the parser's own table (`FLAGS`). */
function flags(): string {
  return Object.entries(FLAGS)
    .map(([name, f]) => {
      const names = [name, ...(f.aliases ?? [])].map((n) =>
        n.length > 1 && f.aliases?.includes(n) ? `--${n}` : `-${n}`,
      );
      const head = `  ${names.join(', ')}${f.arg === undefined ? '' : ` ${f.arg}`}`;
      return `${head}\n${wrap(f.help, '      ')}${f.example === undefined ? '' : `\n      e.g. ${f.example}`}`;
    })
    .join('\n');
}

function params(group: OptionGroup): string {
  return allOptions()
    .filter(([, o]) => o.group === group && o.status === 'applied')
    .map(([, o]) => {
      const keys = aliases(o).join(' | ');
      const head = o.def === '-' ? `  ${keys}${side(o)}` : `  ${keys}${side(o)}  (default ${o.def})`;
      const example = o.example === undefined ? '' : `  e.g. ${o.example}`;
      const line = `      ${o.summary}${example}`;
      return line.length <= 100 || example === ''
        ? `${head}\n${line}`
        : `${head}\n      ${o.summary}\n      e.g. ${o.example ?? ''}`;
    })
    .join('\n');
}

/** The GOST_TS_* variables, one per entry with its default. */
function environment(): string {
  return Object.values(ENVIRONMENT)
    .map((e) => `  ${e.name}  (default ${e.def})\n      ${e.meaning}`)
    .join('\n');
}

/** The `--help` text. */
export function helpText(): string {
  const types = implementedTypes();
  const strategies = Object.keys(STRATEGY_NAMES).join(', ');
  const unsupported = allOptions()
    .filter(([, o]) => o.status === 'ignored')
    .flatMap(([, o]) => o.keys)
    .join(' ');
  return `Usage: gost-ts [-L URL]... [-F URL]... [-C SOURCE]... [-O yaml|json] [-D|-DD] [-metrics ADDR] [-api ADDR] [-workers N]

A GOST v3 compatible tunnel. Every flag may be written -L x, -L=x or --L x.

Flags:
${flags()}

URL grammar:
  [scheme://][user:pass@]host[:port][/targets][?key=value&...]

  scheme         -L: handler+listener, -F: connector+dialer. One name sets both and each part falls
                 back when it is not a type of its kind (handler -> auto, listener -> tcp,
                 connector -> http, dialer -> tcp). No scheme or a leading ":" -> auto; https -> http+tls.
                   -L :8080                 = auto+tcp     -L mws://:8443     = auto+mws
                   -L http://:8080          = http+tcp     -F mws://SERVER:8443 = http+mws
                 A name no GOST registry has falls back the same way, with a warning.
                 handlers:   ${types.handlers.join(' ')}
                 listeners:  ${types.listeners.join(' ')}
                 connectors: ${types.connectors.join(' ')}
                 dialers:    ${types.dialers.join(' ')}
  user:pass@     -L: credentials clients must send (handler auth); -F: credentials sent to the node
                 (connector auth).        -L http+mws://user:pass@:8443?path=/ws
  ?auth=BASE64   Same, as base64("user:pass"), when there is no user:pass@.   ?auth=dXNlcjpwYXNz
  host:port      IPv6 literals in brackets.               -L http://[::1]:8080
  :PORT-PORT     -L: one service per port.                -L socks5://:1080-1082
  a:1,b:2        -F: several nodes in one hop (round-robin by default).
                                          -F http+mws://a.example:8443,b.example:8443?path=/ws
  /host:port,... -L: forward targets (port forwarding through the chain). With a tcp listener the
                 handler becomes tcp, with other listeners forward; a WebSocket path therefore goes
                 in ?path=, never in the URL path.       -L tcp://:2222/10.0.0.5:22,10.0.0.6:22
  ?key=value     Metadata. -L: copied to handler, listener and service unless the key is prefixed
                 handler., listener. or service.; -F: copied to connector, dialer, node and hop
                 unless prefixed connector., dialer., node. or hop. Keys are case-insensitive; the
                 first value of a key wins.              -L "http+mws://:8443?path=/ws&handler.retries=2"
  ?retries=N     -L: extra route attempts of the handler.          ?retries=2

Examples:
  server:        gost-ts -L "http+mws://:8443?path=/ws"
  client:        gost-ts -L :8080 -F "http+mws://SERVER:8443?path=/ws"
  TLS server:    gost-ts -L "http+mwss://:443?path=/ws&certFile=cert.pem&keyFile=key.pem"
  verified TLS:  gost-ts -L :8080 -F "http+mwss://srv.example:443?path=/ws&secure=true&serverName=srv.example"
  smux v2:       gost-ts -L :8080 -F "http+mws://SERVER:8443?path=/ws&mux.version=2"  (server needs it too)
  reverse:       gost-ts -L "socks5+mws://:8443?path=/ws&bind=true"                      (server)
                 gost-ts -L rtcp://:2222/127.0.0.1:22 -F "socks5+mws://SERVER:8443?path=/ws"  (SERVER:2222 -> here:22)

Parameters. "a | b": aliases, the first one given wins. [-F] only on -F (connector, dialer,
node, hop), [-L] only on -L (handler, listener, service); given on the other side, a parameter is
ignored with a warning.

mws / mwss parameters (ws / wss: the same without mux.*).
${params('mws')}

TLS parameters (mwss, wss, tls). Without certFile a listener uses the default certificate
(top-level "tls:" in a config file).
${params('tls')}

Selector parameters (-F: the hop; -L: the forward targets). Strategies: ${strategies}.
${params('selector')}

Proxy parameters (handlers, connectors, nodes).
${params('proxy')}

UDP parameters (the socks5/relay handlers' UDP; the udp and rudp listeners).
${params('udp')}

GOST parameters accepted and ignored (a warning names each):
${wrap(unsupported, '  ')}

Environment (process-wide; a bad value exits 1 naming the variable):
${environment()}
`;
}
