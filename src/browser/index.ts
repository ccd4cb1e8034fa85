/**
 * gost-ts in the browser: a GOST `mws`/`mwss` dialer on the page's own WebSocket and WHATWG
 * streams (no Node built-ins, no bundler), with the http connector inside each stream.
 *
 *   import { connectMws } from 'gost-ts/browser';
 *   const tunnel = await connectMws('wss://example.com/tunnel', { muxVersion: 1 });
 *   const { readable, writable } = await tunnel.dial('example.org:80');
 *
 * What a browser cannot do: add headers to the upgrade request (GOST's `header` option; use the
 * path or the query instead), choose TLS settings (the browser verifies the server's certificate
 * and picks the version; `wss:` is the only switch), or dial UDP.
 */
import { openCarrier } from './carrier.js';
import { connectRequest, readConnectReply, type ProxyAuth } from './http-connect.js';
import { SmuxClientSession, type StreamState } from './session.js';

export type { ProxyAuth } from './http-connect.js';

export interface ConnectMwsOptions {
  /** smux version; must match the server's `mux.version`. Default 1 (GOST's default). */
  muxVersion?: 1 | 2;
  /** How often a keepalive (NOP) is sent, ms. Default 10000. */
  keepAliveInterval?: number;
  /** The session fails when nothing arrived for this long, ms. Default 30000. */
  keepAliveTimeout?: number;
  /** Largest frame payload sent. Default 32768. */
  maxFrameSize?: number;
  /** Received-but-unread bytes of the whole session before it stops reading. Default 4 MiB. */
  maxReceiveBuffer?: number;
  /** v2: the window each stream offers the server. Default 65536. */
  maxStreamBuffer?: number;
  /** Credentials for the server's http handler (`Proxy-Authorization: Basic`). */
  auth?: ProxyAuth;
  /** Use WebSocketStream where the browser has one (pull reads: a paused session pauses the network). Default true. */
  preferWebSocketStream?: boolean;
  /** Plain WebSocket only: unread bytes before the session fails. Default 32 MiB. */
  maxQueuedBytes?: number;
  /** Abandons the connect. */
  signal?: AbortSignal;
}

export interface DialOptions {
  signal?: AbortSignal;
  /** Bound on the CONNECT exchange, ms. Default 15000. */
  timeout?: number;
}

/** A tunnelled connection, shaped like a WebTransport bidirectional stream. */
export interface TunnelStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

export interface MwsTunnel {
  /** Opens a stream and CONNECTs it to `target` (`host:port`). Rejects with the server's status line. */
  dial(target: string, opts?: DialOptions): Promise<TunnelStream>;
  /** Ends the session; open streams fail with "session closed". */
  close(): void;
  /** Resolves after close(); rejects with the reason when the session ends otherwise. */
  readonly closed: Promise<void>;
  /** Which browser API carries the session. */
  readonly carrier: 'WebSocketStream' | 'WebSocket';
  readonly muxVersion: 1 | 2;
  /** Streams open now. */
  readonly streamCount: number;
}

function positive(name: string, v: number | undefined, d: number): number {
  if (v === undefined) return d;
  if (!(Number.isInteger(v) && v > 0))
    throw new RangeError(`connectMws: ${name} must be a positive integer, got ${v}`);
  return v;
}

function toStreams(session: SmuxClientSession, st: StreamState): TunnelStream {
  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const chunk = await session.take(st);
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel() {
        session.cancel(st);
      },
    },
    // Nothing is read ahead of the page: what it has not asked for stays counted against the windows.
    { highWaterMark: 0 },
  );
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => session.write(st, chunk),
    close: () => session.finish(st),
    abort: () => session.finish(st),
  });
  return { readable, writable };
}

/** Opens an mws session to `url` (`ws:` or `wss:`, path included). */
export async function connectMws(url: string, opts: ConnectMwsOptions = {}): Promise<MwsTunnel> {
  const version = opts.muxVersion ?? 1;
  if (version !== 1 && version !== 2)
    throw new RangeError(`connectMws: muxVersion must be 1 or 2, got ${String(version)}`);
  const settings = {
    version,
    keepAliveInterval: positive('keepAliveInterval', opts.keepAliveInterval, 10_000),
    keepAliveTimeout: positive('keepAliveTimeout', opts.keepAliveTimeout, 30_000),
    maxFrameSize: Math.min(65_535, positive('maxFrameSize', opts.maxFrameSize, 32_768)),
    maxReceiveBuffer: positive('maxReceiveBuffer', opts.maxReceiveBuffer, 4 * 1024 * 1024),
    maxStreamBuffer: positive('maxStreamBuffer', opts.maxStreamBuffer, 65_536),
  } as const;
  if (settings.keepAliveTimeout < settings.keepAliveInterval)
    throw new RangeError('connectMws: keepAliveTimeout must not be shorter than keepAliveInterval');
  const carrier = await openCarrier(url, {
    preferStream: opts.preferWebSocketStream ?? true,
    maxQueuedBytes: positive('maxQueuedBytes', opts.maxQueuedBytes, 32 * 1024 * 1024),
    sendHighWaterMark: 1024 * 1024,
    signal: opts.signal,
  });
  const session = new SmuxClientSession(carrier, settings);
  return {
    carrier: carrier.kind,
    muxVersion: version,
    closed: session.closed,
    get streamCount() {
      return session.streamCount;
    },
    close: () => session.close(),
    async dial(target: string, dialOpts: DialOptions = {}): Promise<TunnelStream> {
      const st = session.openStream();
      const timeout = dialOpts.timeout ?? 15_000;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let onAbort: (() => void) | undefined;
      const abandon = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`CONNECT ${target}: no reply in ${timeout} ms`)), timeout);
        onAbort = () => reject(new Error(`CONNECT ${target}: aborted`));
        dialOpts.signal?.addEventListener('abort', onAbort, { once: true });
      });
      abandon.catch(() => undefined);
      try {
        await Promise.race([session.write(st, connectRequest(target, opts.auth)), abandon]);
        const rest = await Promise.race([readConnectReply(target, () => session.take(st)), abandon]);
        if (rest.length > 0) st.prefix = rest;
        return toStreams(session, st);
      } catch (err) {
        session.cancel(st);
        throw err;
      } finally {
        clearTimeout(timer);
        if (onAbort !== undefined) dialOpts.signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
