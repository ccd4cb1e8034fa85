/**
 * The WebSocket under an smux session, as pull-based reads and awaited writes. Where the browser has
 * WebSocketStream (Chromium), reading is pulled, so a session that stops reading stops the network
 * too (TCP backpressure reaches the server). With a plain WebSocket the browser reads on regardless:
 * messages wait in a bounded queue, and overflowing it ends the session with an error saying so.
 */
export interface Carrier {
  readonly kind: 'WebSocketStream' | 'WebSocket';
  /** The next message, or null once the connection closed cleanly. Rejects on errors. */
  read(): Promise<Uint8Array | null>;
  /** Resolves once the message may be followed by another (the browser's send buffer has room). */
  write(data: Uint8Array): Promise<void>;
  close(reason?: string): void;
}

export interface CarrierOptions {
  /** Plain WebSocket only: bytes received but not yet taken by the session before it fails. */
  maxQueuedBytes: number;
  /** Plain WebSocket only: bytes in `bufferedAmount` above which writes wait. */
  sendHighWaterMark: number;
  /** Use WebSocketStream when the browser has it. */
  preferStream: boolean;
  signal?: AbortSignal | undefined;
}

interface WebSocketStreamLike {
  opened: Promise<{ readable: ReadableStream<ArrayBuffer | string>; writable: WritableStream<Uint8Array> }>;
  closed: Promise<unknown>;
  close(info?: { closeCode?: number; reason?: string }): void;
}
type WebSocketStreamCtor = new (url: string, opts?: { signal?: AbortSignal }) => WebSocketStreamLike;

function binary(value: unknown): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new Error('mws: text message received (GOST sends binary messages only)');
}

async function streamCarrier(ctor: WebSocketStreamCtor, url: string, opts: CarrierOptions): Promise<Carrier> {
  const wss = new ctor(url, opts.signal ? { signal: opts.signal } : undefined);
  wss.closed.catch(() => undefined);
  const { readable, writable } = await wss.opened;
  const reader = readable.getReader();
  const writer = writable.getWriter();
  return {
    kind: 'WebSocketStream',
    async read() {
      const { value, done } = await reader.read();
      return done ? null : binary(value);
    },
    async write(data) {
      await writer.ready;
      void writer.write(data).catch(() => undefined);
    },
    close(reason) {
      try {
        wss.close({ closeCode: 1000, reason: (reason ?? '').slice(0, 100) });
      } catch {
        // already closed
      }
    },
  };
}

function socketCarrier(url: string, opts: CarrierOptions): Promise<Carrier> {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const queue: Uint8Array[] = [];
  let queued = 0;
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (err: Error): void => {
    failure ??= err;
    notify();
    ws.close();
  };
  ws.onmessage = (ev: MessageEvent) => {
    let data: Uint8Array;
    try {
      data = binary(ev.data);
    } catch (err) {
      fail(err as Error);
      return;
    }
    queue.push(data);
    queued += data.length;
    if (queued > opts.maxQueuedBytes) {
      fail(
        new Error(
          `mws: ${queued} bytes received and not yet read (limit ${opts.maxQueuedBytes}); ` +
            'this browser cannot pause a WebSocket, so the session ends',
        ),
      );
    }
    notify();
  };
  const carrier: Carrier = {
    kind: 'WebSocket',
    async read() {
      for (;;) {
        const next = queue.shift();
        if (next !== undefined) {
          queued -= next.length;
          return next;
        }
        if (failure) throw failure;
        if (ended) return null;
        await new Promise<void>((r) => (wake = r));
      }
    },
    async write(data) {
      if (failure) throw failure;
      if (ended || ws.readyState !== WebSocket.OPEN) throw new Error('mws: WebSocket is closed');
      ws.send(data);
      // The plain WebSocket has no drain event: wait while its send buffer is above the mark.
      while (ws.bufferedAmount > opts.sendHighWaterMark && ws.readyState === WebSocket.OPEN)
        await new Promise((r) => setTimeout(r, 5));
    },
    close() {
      ws.close(1000);
    },
  };
  return new Promise<Carrier>((resolve, reject) => {
    const onAbort = (): void => {
      ws.close();
      reject(new Error('mws: connect aborted'));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    ws.onopen = () => {
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(carrier);
    };
    ws.onerror = () => fail(new Error(`mws: WebSocket error on ${url}`));
    ws.onclose = (ev: CloseEvent) => {
      ended = true;
      if (ev.code !== 1000 && ev.code !== 1005)
        failure ??= new Error(`mws: WebSocket closed (code ${ev.code}${ev.reason ? `, ${ev.reason}` : ''})`);
      notify();
      reject(failure ?? new Error(`mws: could not connect to ${url}`));
    };
  });
}

/** Opens the WebSocket (the browser decides TLS, proxies and headers; none can be added). */
export function openCarrier(url: string, opts: CarrierOptions): Promise<Carrier> {
  const ctor = (globalThis as { WebSocketStream?: WebSocketStreamCtor }).WebSocketStream;
  if (opts.preferStream && ctor !== undefined) return streamCarrier(ctor, url, opts);
  return socketCarrier(url, opts);
}
