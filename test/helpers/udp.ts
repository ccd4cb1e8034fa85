// Test helpers for UDP: an echo target, a free UDP port, a paced send-and-count exchange, and a
// plain SOCKS5 UDP ASSOCIATE client (RFC 1928 §7) written on node:net + node:dgram.
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';

/** A UDP echo server on 127.0.0.1 that also counts what it received. */
export async function udpEcho(): Promise<{ port: number; received: () => number; close: () => void }> {
  const sock = dgram.createSocket('udp4');
  let n = 0;
  sock.on('message', (msg, r) => {
    n += 1;
    sock.send(msg, r.port, r.address);
  });
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  return { port: sock.address().port, received: () => n, close: () => sock.close() };
}

/** A loopback UDP port that was free a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const sock = dgram.createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  const { port } = sock.address();
  await new Promise<void>((r) => sock.close(() => r()));
  return port;
}

/**
 * 500 datagrams a second in bursts of 5: loopback carries it without loss even on a machine so
 * loaded that a process stalls for a few hundred ms (its socket buffer holds the burst meanwhile);
 * at 2,000 a second the real gost alone loses some there.
 */
export const MODERATE_PACE = { batch: 5, intervalMs: 10 } as const;

export interface ExchangeResult {
  sent: number;
  /** Distinct datagrams that came back intact. */
  echoed: number;
}

/**
 * Sends `count` numbered datagrams to `port` (through `wrap`, for a SOCKS5 header), `batch` at a
 * time every `intervalMs`, and counts the distinct ones echoed back (checked byte for byte).
 * Resolves when all came back or `waitMs` after the last send.
 */
export async function exchange(
  port: number,
  count: number,
  opts: {
    batch?: number;
    intervalMs?: number;
    waitMs?: number;
    size?: number;
    wrap?: (payload: Buffer) => Buffer;
    unwrap?: (reply: Buffer) => Buffer;
    socket?: dgram.Socket;
  } = {},
): Promise<ExchangeResult> {
  const batch = opts.batch ?? 10;
  const intervalMs = opts.intervalMs ?? 5;
  const size = Math.max(opts.size ?? 32, 8);
  const sock = opts.socket ?? dgram.createSocket('udp4');
  if (opts.socket === undefined) {
    sock.bind(0, '127.0.0.1');
    await once(sock, 'listening');
  }
  const payload = (i: number): Buffer => {
    const b = Buffer.alloc(size, i & 0xff);
    b.writeUInt32BE(i, 0);
    return b;
  };
  const seen = new Set<number>();
  let allBack: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allBack = resolve));
  sock.on('message', (raw: Buffer) => {
    const msg = opts.unwrap ? opts.unwrap(raw) : raw;
    if (msg.length !== size) return;
    const i = msg.readUInt32BE(0);
    if (i < count && msg.equals(payload(i))) seen.add(i);
    if (seen.size === count) allBack();
  });
  let sent = 0;
  while (sent < count) {
    for (let k = 0; k < batch && sent < count; k++, sent++) {
      const p = payload(sent);
      sock.send(opts.wrap ? opts.wrap(p) : p, port, '127.0.0.1');
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, opts.waitMs ?? 10_000)))]);
  clearTimeout(timer);
  if (opts.socket === undefined) sock.close();
  return { sent, echoed: seen.size };
}

/**
 * A plain SOCKS5 client's UDP ASSOCIATE: greets with no auth, asks `05 03` and returns the relay's
 * UDP address from the reply with the control connection (the association ends when it closes).
 */
export async function socks5Associate(
  proxyPort: number,
): Promise<{ reply: Buffer; relayPort: number; control: net.Socket }> {
  const control = net.connect(proxyPort, '127.0.0.1');
  await once(control, 'connect');
  let buf = Buffer.alloc(0);
  const need = async (n: number): Promise<Buffer> => {
    while (buf.length < n) {
      const [chunk] = (await Promise.race([
        once(control, 'data'),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`SOCKS5 reply: got ${buf.length} of ${n} bytes`)), 10_000),
        ),
      ])) as [Buffer];
      buf = Buffer.concat([buf, chunk]);
    }
    const out = buf.subarray(0, n);
    buf = buf.subarray(n);
    return out;
  };
  control.write(Buffer.from([5, 1, 0]));
  const method = await need(2);
  if (method[1] !== 0) throw new Error(`SOCKS5 method ${method.toString('hex')}`);
  control.write(Buffer.from('05030001000000000000', 'hex'));
  const reply = await need(10);
  return { reply, relayPort: reply.readUInt16BE(8), control };
}

/**
 * A plain SOCKS5 UDP client at the front end on `proxyPort`: associates, then exchanges `count`
 * numbered datagrams with the UDP echo target on 127.0.0.1:`echoPort` through the relay. Returns
 * the reply's head (`05 00 00 01 IP`, hex), how many answers were stamped with a source other than
 * the echo target, and the exchange; the association is closed at the end.
 */
export async function associateExchange(
  proxyPort: number,
  echoPort: number,
  count: number,
): Promise<{ replyHead: string; wrongSource: number; result: ExchangeResult }> {
  const { reply, relayPort, control } = await socks5Associate(proxyPort);
  const header = socks5UdpHeader(echoPort)(Buffer.alloc(0));
  let wrongSource = 0;
  try {
    const result = await exchange(relayPort, count, {
      ...MODERATE_PACE,
      wrap: socks5UdpHeader(echoPort),
      unwrap: (m) => {
        // Each answer names its source: the echo target.
        if (!m.subarray(0, 10).equals(header)) wrongSource += 1;
        return stripSocks5UdpHeader(m);
      },
    });
    return { replyHead: reply.subarray(0, 8).toString('hex'), wrongSource, result };
  } finally {
    control.destroy();
  }
}

/** Wraps `payload` in a standard SOCKS5 UDP header for 127.0.0.1:`port`. */
export function socks5UdpHeader(port: number): (payload: Buffer) => Buffer {
  const head = Buffer.from([0, 0, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]);
  return (payload) => Buffer.concat([head, payload]);
}

/** Strips a standard SOCKS5 UDP header with an IPv4 address (10 bytes). */
export function stripSocks5UdpHeader(reply: Buffer): Buffer {
  return reply[3] === 1 ? reply.subarray(10) : Buffer.alloc(0);
}

/** Sends a probe datagram every 100 ms until one comes back (a reverse bind is in place), max 15 s. */
export async function waitForEcho(port: number): Promise<void> {
  const sock = dgram.createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  await once(sock, 'listening');
  try {
    const deadline = Date.now() + 15_000;
    for (;;) {
      sock.send('probe', port, '127.0.0.1');
      const back = await Promise.race([
        once(sock, 'message').then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 100)),
      ]);
      if (back) return;
      if (Date.now() > deadline) throw new Error(`nothing came back from 127.0.0.1:${port} within 15 s`);
    }
  } finally {
    sock.close();
  }
}
