/**
 * `-O yaml|json`: a Config printed in GOST's shape and key spelling.
 */
import { stringify as yamlStringify } from 'yaml';
import { formatDuration } from '../core/duration.js';
import { isPlainObject } from './struct.js';
import type {
  AuthConfig,
  Config,
  HopConfig,
  MetadataRecord,
  NodeConfig,
  SelectorConfig,
  ServiceConfig,
  TLSConfig,
} from './types.js';

type Plain = Record<string, unknown>;

/** Drops undefined values and empty metadata maps (GOST's `omitempty`). */
function plain(o: Plain): Plain {
  const out: Plain = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (k === 'metadata' && isPlainObject(v) && Object.keys(v).length === 0) continue;
    out[k] = v;
  }
  return out;
}

const nAuth = (a: AuthConfig | undefined): Plain | undefined =>
  a && plain({ username: a.username, password: a.password === '' ? undefined : a.password });

const nSelector = (s: SelectorConfig | undefined): Plain | undefined =>
  s && { strategy: s.strategy, maxFails: s.maxFails, failTimeout: formatDuration(s.failTimeout) };

function nTLS(t: TLSConfig | undefined): Plain | undefined {
  if (t === undefined) return undefined;
  return plain({
    certFile: t.certFile,
    keyFile: t.keyFile,
    caFile: t.caFile,
    secure: t.secure,
    serverName: t.serverName,
    validity: t.validity === undefined ? undefined : formatDuration(t.validity),
    commonName: t.commonName,
    organization: t.organization,
  });
}

const nMeta = (m: MetadataRecord | undefined): Plain | undefined => (m ? { ...m } : undefined);

function nNode(n: NodeConfig): Plain {
  return plain({
    name: n.name,
    addr: n.addr,
    connector: plain({
      type: n.connector.type,
      auth: nAuth(n.connector.auth),
      metadata: nMeta(n.connector.metadata),
    }),
    dialer: plain({
      type: n.dialer.type,
      auth: nAuth(n.dialer.auth),
      tls: nTLS(n.dialer.tls),
      metadata: nMeta(n.dialer.metadata),
    }),
    metadata: nMeta(n.metadata),
  });
}

function nHop(h: HopConfig): Plain {
  return plain({
    name: h.name,
    selector: nSelector(h.selector),
    nodes: h.nodes.map(nNode),
    metadata: nMeta(h.metadata),
  });
}

function nService(s: ServiceConfig): Plain {
  const h = s.handler;
  const l = s.listener;
  return plain({
    name: s.name,
    addr: s.addr,
    handler: plain({
      type: h.type,
      retries: h.retries,
      chain: h.chain,
      auther: h.auther,
      auth: nAuth(h.auth),
      metadata: nMeta(h.metadata),
    }),
    listener: plain({
      type: l.type,
      chain: l.chain,
      auth: nAuth(l.auth),
      tls: nTLS(l.tls),
      metadata: nMeta(l.metadata),
    }),
    forwarder:
      s.forwarder &&
      plain({ selector: nSelector(s.forwarder.selector), nodes: s.forwarder.nodes.map((n) => ({ ...n })) }),
    metadata: nMeta(s.metadata),
  });
}

/**
 * The config as a plain object in GOST's shape and key spelling (what `gost -O` prints): empty
 * values omitted, durations as Go duration strings (`30s`), keys in GOST's order. Feeding the
 * result back to `decodeConfig` gives an equal Config.
 */
export function normaliseConfig(config: Config): Record<string, unknown> {
  return plain({
    services: config.services.map(nService),
    chains:
      config.chains.length === 0
        ? undefined
        : config.chains.map((c) =>
            plain({ name: c.name, hops: c.hops.map(nHop), metadata: nMeta(c.metadata) }),
          ),
    hops: config.hops?.map(nHop),
    authers: config.authers?.map((a) => ({ name: a.name, auths: a.auths.map(nAuth) })),
    tls: nTLS(config.tls),
    log: config.log && plain({ ...config.log }),
    api:
      config.api &&
      plain({
        addr: config.api.addr,
        pathPrefix: config.api.pathPrefix,
        accesslog: config.api.accessLog,
        auth: nAuth(config.api.auth),
      }),
    metrics: config.metrics && plain({ ...config.metrics }),
    workers: config.workers,
  });
}

/** `gost -O yaml`. */
export function toYaml(config: Config): string {
  return yamlStringify(normaliseConfig(config), { indent: 2, lineWidth: 0 });
}

/** `gost -O json` (durations as strings, which `-C` reads back). */
export function toJson(config: Config): string {
  return `${JSON.stringify(normaliseConfig(config), null, 2)}\n`;
}
