// The test page's script (plain browser JavaScript, loaded as a module): tunnels through
// gost-ts/browser, served from the package's dist/browser as a browser would fetch it.
import { connectMws } from '/gost-ts/browser/index.js';

function randomBytes(n) {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536)
    crypto.getRandomValues(out.subarray(off, Math.min(n, off + 65536)));
  return out;
}

async function readExactly(reader, n) {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const { value, done } = await reader.read();
    if (done) break;
    out.set(value.subarray(0, n - got), got);
    got += value.length;
  }
  return { out, got };
}

function same(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Echoes `size` random bytes through one stream; the bytes come back identical. */
async function echo(tunnel, target, size) {
  const { readable, writable } = await tunnel.dial(target);
  const data = randomBytes(size);
  const writer = writable.getWriter();
  const writing = (async () => {
    for (let off = 0; off < size; off += 16384) await writer.write(data.subarray(off, off + 16384));
  })();
  const reader = readable.getReader();
  const { out, got } = await readExactly(reader, size);
  await writing;
  await writer.close();
  reader.releaseLock();
  return { got, same: same(out, data) };
}

window.tests = {
  async echo(url, muxVersion, target, size, extra = {}) {
    const tunnel = await connectMws(url, { muxVersion, ...extra });
    try {
      return { carrier: tunnel.carrier, ...(await echo(tunnel, target, size)) };
    } finally {
      tunnel.close();
    }
  },

  async manyStreams(url, muxVersion, target, n, extra = {}) {
    const tunnel = await connectMws(url, { muxVersion, ...extra });
    try {
      const results = await Promise.all(Array.from({ length: n }, () => echo(tunnel, target, 4096)));
      return results.filter((r) => r.same && r.got === 4096).length;
    } finally {
      tunnel.close();
    }
  },

  /** Opens a tunnel and a stream and keeps them for `afterServerClosed`. */
  async holdOpen(url, muxVersion, target) {
    const tunnel = await connectMws(url, { muxVersion, keepAliveInterval: 1000, keepAliveTimeout: 3000 });
    const stream = await tunnel.dial(target);
    window.held = { tunnel, reader: stream.readable.getReader() };
    return tunnel.carrier;
  },

  async afterServerClosed(target) {
    const { tunnel, reader } = window.held;
    const outcome = (p) =>
      p.then(
        () => 'no error',
        (err) => String(err && err.message),
      );
    return {
      read: await outcome(reader.read().then((r) => (r.done ? Promise.reject(new Error('clean end')) : r))),
      closed: await outcome(tunnel.closed),
      dial: await outcome(tunnel.dial(target)),
    };
  },

  /**
   * Backpressure: a stream from `firehose` is left unread while another stream echoes; then the
   * first is read to its end. Returns what the echo and the final read saw.
   */
  async stallThenRead(url, muxVersion, firehose, echoTarget) {
    const tunnel = await connectMws(url, { muxVersion });
    window.stall = { tunnel };
    const slow = await tunnel.dial(firehose);
    window.stall.reader = slow.readable.getReader();
    const side = muxVersion === 2 ? await echo(tunnel, echoTarget, 256 * 1024) : undefined;
    return { carrier: tunnel.carrier, side };
  },

  async drainStalled(expect) {
    const { tunnel, reader } = window.stall;
    let got = 0;
    while (got < expect) {
      const { value, done } = await reader.read();
      if (done) break;
      got += value.length;
    }
    tunnel.close();
    return got;
  },
};
window.ready = true;
