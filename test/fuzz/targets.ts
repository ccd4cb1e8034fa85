import fc from 'fast-check';
import { TunnelError } from '../../src/core/errors.js';
import { FrameDecoder } from '../../src/mux/smux/decoder.js';
import { WsFrameReader } from '../../src/transport/websocket/frame-reader.js';
import { parseRequestHead } from '../../src/proto/http/request-head.js';
import { parseResponseHead } from '../../src/proto/http/response-head.js';
import {
  parseGreeting,
  parseRequest,
  parseUserPassRequest,
  parseReply,
} from '../../src/proto/socks5/codec.js';
import { parseSocks4Request } from '../../src/proto/socks4/codec.js';
import { parseGostUrl, serviceFromUrl, nodesFromUrl } from '../../src/config/from-url.js';
import { parseConfigText } from '../../src/config/load.js';
import {
  addrFeature,
  encodeRelayRequest,
  encodeRelayResponse,
  featureFacts,
  parseRelayRequest,
  parseRelayResponse,
  type RelayFeature,
} from '../../src/proto/relay/codec.js';
import { MAX_HEAD_BYTES } from '../../src/proto/relay/constants.js';
import { encodeRelayDatagram, parseRelayDatagram } from '../../src/proto/relay/datagram.js';
import {
  UdpTunDecoder,
  decodeUdpDatagram,
  encodeUdpDatagram,
  encodeUdpTunFrame,
} from '../../src/proto/socks5/udp.js';

/**
 * One parser under fuzz: `run` feeds it one generated input and returns normally whether the input
 * was accepted, incomplete or rejected. A rejection must be a TunnelError (ConfigError and
 * ProtocolError are ones) with a code and a message; anything else (a TypeError, a RangeError, a
 * hang, unbounded buffering) is a bug the property reports.
 */
export interface FuzzTarget {
  name: string;
  arbitrary: fc.Arbitrary<unknown>;
  run(input: unknown): void;
}

/** Accepts a clear rejection; rethrows anything else. */
function rejectClearly(err: unknown): void {
  if (err instanceof TunnelError && err.code.startsWith('ERR_') && err.message.length > 0) return;
  throw err;
}

function attempt(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    rejectClearly(err);
  }
}

const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

/** Valid up to a point: a well-formed prefix, then a mutation, a truncation or garbage. */
function corrupted(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    valid,
    fc.tuple(valid, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([b, at, v]) => {
      const c = Buffer.from(b);
      if (c.length > 0) c[at % c.length] = v;
      return c;
    }),
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, b.length === 0 ? 0 : n % b.length)),
    fc.tuple(valid, bytes(64)).map(([b, tail]) => Buffer.concat([b, Buffer.from(tail)])),
    bytes(256).map((b) => Buffer.from(b)),
  );
}

/** Splits `buf` at the given points (chunks as a socket might deliver them). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (buf.length === 0 ? 0 : c % (buf.length + 1))))].sort(
    (a, b) => a - b,
  );
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out.filter((c) => c.length > 0);
}

const smuxFrame = fc
  .tuple(
    fc.constantFrom(1, 2),
    fc.integer({ min: 0, max: 4 }),
    fc.integer({ min: 0, max: 0xffffffff }),
    bytes(64),
  )
  .map(([ver, cmd, sid, data]) => {
    const body = cmd === 2 ? Buffer.from(data) : cmd === 4 ? Buffer.alloc(8, 1) : Buffer.alloc(0);
    const h = Buffer.alloc(8);
    h[0] = ver;
    h[1] = cmd;
    h.writeUInt16LE(cmd === 2 ? body.length : 0, 2);
    h.writeUInt32LE(sid, 4);
    return Buffer.concat([h, body]);
  });

const wsFrame = fc
  .tuple(fc.boolean(), fc.constantFrom(0, 1, 2, 8, 9, 10, 3, 11), fc.boolean(), bytes(300), fc.nat())
  .map(([fin, opcode, mask, payload, key]) => {
    const p = Buffer.from(payload);
    const len = p.length;
    const head = [(fin ? 0x80 : 0) | opcode];
    const m = mask ? 0x80 : 0;
    if (len < 126) head.push(m | len);
    else head.push(m | 126, len >> 8, len & 0xff);
    const parts = [Buffer.from(head)];
    if (mask) {
      const k = Buffer.alloc(4);
      k.writeUInt32BE(key >>> 0);
      parts.push(k);
      parts.push(Buffer.from(p.map((b, i) => b ^ (k[i % 4] as number))));
    } else parts.push(p);
    return Buffer.concat(parts);
  });

const token = fc.stringMatching(/^[A-Za-z0-9.:\-_/]{0,20}$/);
const httpHead = fc
  .tuple(
    fc.constantFrom('CONNECT', 'GET', 'POST', 'PRI', 'get', ''),
    token,
    fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2', 'http/1.1', 'HTTP/1.1x'),
    fc.array(fc.tuple(token, fc.string({ maxLength: 30 })), { maxLength: 6 }),
  )
  .map(([m, target, ver, headers]) =>
    Buffer.from(
      `${m} ${target} ${ver}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`,
      'latin1',
    ),
  );
const httpResponse = fc
  .tuple(
    fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/9'),
    fc.integer({ min: 0, max: 1000 }),
    fc.string({ maxLength: 20 }),
  )
  .map(([v, code, text]) => Buffer.from(`${v} ${code} ${text}\r\nContent-Length: 0\r\n\r\n`, 'latin1'));

const socks5Request = fc
  .tuple(
    fc.integer({ min: 0, max: 6 }),
    fc.constantFrom(1, 3, 4, 0, 7),
    bytes(20),
    fc.integer({ min: 0, max: 65535 }),
  )
  .map(([cmd, atyp, addr, port]) => {
    const a =
      atyp === 1
        ? Buffer.from(addr.subarray(0, 4))
        : atyp === 4
          ? Buffer.from(addr.subarray(0, 16))
          : Buffer.concat([Buffer.from([addr.length]), Buffer.from(addr)]);
    const p = Buffer.alloc(2);
    p.writeUInt16BE(port);
    return Buffer.concat([Buffer.from([5, cmd, 0, atyp]), a, p]);
  });

const socks4Request = fc
  .tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 65535 }),
    bytes(4),
    fc.string({ maxLength: 20 }),
    fc.boolean(),
  )
  .map(([cmd, port, ip, user, v4a]) => {
    const head = Buffer.alloc(8);
    head[0] = 4;
    head[1] = cmd;
    head.writeUInt16BE(port, 2);
    if (v4a) head.set([0, 0, 0, 1], 4);
    else head.set(ip.subarray(0, 4), 4);
    const tail = v4a ? `${user}\0example.com\0` : `${user}\0`;
    return Buffer.concat([head, Buffer.from(tail, 'latin1')]);
  });

const urlText = fc
  .tuple(
    fc.constantFrom('', 'http', 'http+mws', 'socks5+mwss', 'tcp', 'auto', 'relay+ws', 'x+y+z', 'http+'),
    fc.constantFrom('', 'user:pass@', 'u@', ':@', '%zz@'),
    fc.constantFrom('', ':8080', '127.0.0.1:0', '[::1]:80', 'host:99999', 'h:-1', ':1-5', ':70000-1'),
    fc.constantFrom('', '/', '/127.0.0.1:22', '/a,b'),
    fc.array(fc.tuple(token, fc.string({ maxLength: 12 })), { maxLength: 4 }),
  )
  .map(([scheme, auth, host, path, query]) => {
    const q = query.length > 0 ? `?${query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}` : '';
    return `${scheme === '' ? '' : `${scheme}://`}${auth}${host}${path}${q}`;
  });

const configText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc
    .record({
      services: fc.array(
        fc.record({
          name: fc.string({ maxLength: 8 }),
          addr: fc.constantFrom(':8080', '127.0.0.1:0', 'x', ''),
          handler: fc.record({ type: fc.constantFrom('http', 'auto', 'nope', 'socks5') }),
          listener: fc.record({
            type: fc.constantFrom('tcp', 'mws', 'bad'),
            metadata: fc.dictionary(token, fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean())),
          }),
        }),
        { maxLength: 3 },
      ),
    })
    .map((v) => JSON.stringify(v)),
);

// ---- relay (go-gost/relay v0.5.0) and UDP framings ----------------------------------------------

const hostText = fc.oneof(
  fc.constantFrom('127.0.0.1', '::1', '::ffff:10.0.0.1', '2001:db8::1', 'example.com', ''),
  fc.string({ maxLength: 40 }),
);
const relayFeature: fc.Arbitrary<RelayFeature> = fc.oneof(
  fc
    .tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }))
    .map(([username, password]) => ({ type: 1 as const, username, password })),
  fc
    .tuple(hostText, fc.integer({ min: 0, max: 65535 }))
    .filter(([h]) => Buffer.byteLength(h) <= 255)
    .map(([host, port]) => addrFeature(host, port)),
  bytes(20).map((id) => ({ type: 3 as const, id: Buffer.from(id) })),
  fc.integer({ min: 0, max: 0xffff }).map((network) => ({ type: 4 as const, network })),
);
/**
 * A raw feature as a hostile peer can send it: a valid feature's body cut short (the declared
 * length matching the cut, so the parser must notice the body itself is too short), or any type
 * with any declared length and any bytes.
 */
const rawFeature = fc.oneof(
  fc.tuple(relayFeature, fc.nat()).map(([f, cut]) => {
    const whole = encodeRelayResponse(0, [f]).subarray(4 + 3);
    const body = whole.subarray(0, cut % (whole.length + 1));
    const head = Buffer.alloc(3);
    head[0] = f.type;
    head.writeUInt16BE(body.length, 1);
    return Buffer.concat([head, body]);
  }),
  fc
    .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 40 }), bytes(40))
    .map(([type, len, data]) => {
      const head = Buffer.alloc(3);
      head[0] = type;
      head.writeUInt16BE(len, 1);
      return Buffer.concat([head, Buffer.from(data)]);
    }),
);
const relayMessage = (second: fc.Arbitrary<number>): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc
      .tuple(second, fc.array(relayFeature, { maxLength: 4 }))
      .map(([s, features]) => encodeRelayResponse(s, features)),
    fc.tuple(second, fc.array(rawFeature, { maxLength: 4 })).map(([s, features]) => {
      const body = Buffer.concat(features);
      const head = Buffer.alloc(4);
      head[0] = 1;
      head[1] = s;
      head.writeUInt16BE(body.length, 2);
      return Buffer.concat([head, body]);
    }),
  );

const udpHost = fc.constantFrom('10.0.0.1', '::1', '2001:db8::7', 'example.com', 'a');

/** Throws unless `got` are exactly the datagrams `want`, in order. */
function sameDatagrams(got: Buffer[], want: Uint8Array[]): void {
  if (got.length !== want.length) throw new Error(`${got.length} datagrams out, ${want.length} in`);
  got.forEach((g, i) => {
    if (!g.equals(Buffer.from(want[i] as Uint8Array))) throw new Error(`datagram ${i} changed`);
  });
}

/**
 * Feeds `buf` to a head parser the way readUntil does (each chunk appended, the parser re-run on
 * everything so far): a prefix of a message is incomplete or rejected, never accepted as longer
 * than it is, and once accepted what it consumed lies within the bytes given.
 */
function parseHeadSplit(
  parse: (b: Buffer) => { consumed: number } | undefined,
  buf: Buffer,
  cuts: number[],
): void {
  let seen = Buffer.alloc(0);
  for (const chunk of split(buf, cuts)) {
    seen = Buffer.concat([seen, chunk]);
    const r = parse(seen);
    if (r === undefined) {
      if (seen.length > MAX_HEAD_BYTES) throw new Error('parser wants more than the largest head');
      continue;
    }
    if (r.consumed <= 0 || r.consumed > seen.length)
      throw new Error(`consumed ${r.consumed} of ${seen.length}`);
    return;
  }
}

export const FUZZ_TARGETS: FuzzTarget[] = [
  {
    name: 'smux decoder (v1 and v2, split reads)',
    arbitrary: fc.tuple(
      fc.constantFrom(1, 2),
      corrupted(fc.array(smuxFrame, { maxLength: 8 }).map((f) => Buffer.concat(f))),
      fc.array(fc.nat(), { maxLength: 6 }),
    ),
    run: (input) => {
      const [version, buf, cuts] = input as [number, Buffer, number[]];
      const d = new FrameDecoder(version);
      attempt(() => {
        let frames = 0;
        for (const chunk of split(buf, cuts)) {
          d.push(chunk);
          while (d.next() !== undefined) {
            frames += 1;
            if (frames > buf.length) throw new Error('decoder produced more frames than bytes');
          }
        }
        if (d.bufferedBytes > buf.length) throw new Error('decoder holds more bytes than it was given');
      });
    },
  },
  {
    name: 'WebSocket frame reader (server and client side, split reads)',
    arbitrary: fc.tuple(
      fc.boolean(),
      corrupted(fc.array(wsFrame, { maxLength: 5 }).map((f) => Buffer.concat(f))),
      fc.array(fc.nat(), { maxLength: 6 }),
    ),
    run: (input) => {
      const [server, buf, cuts] = input as [boolean, Buffer, number[]];
      let delivered = 0;
      const reader = new WsFrameReader(
        server,
        { onData: (p) => (delivered += p.length), onControl: () => {} },
        1024,
      );
      attempt(() => {
        for (const chunk of split(Buffer.from(buf), cuts)) reader.push(chunk);
      });
      if (delivered > buf.length) throw new Error('reader delivered more bytes than it was given');
    },
  },
  {
    name: 'HTTP request head',
    arbitrary: corrupted(httpHead),
    run: (input) => attempt(() => void parseRequestHead(input as Buffer, { maxHeadBytes: 4096 })),
  },
  {
    name: 'HTTP response head',
    arbitrary: corrupted(httpResponse),
    run: (input) => attempt(() => void parseResponseHead(input as Buffer)),
  },
  {
    name: 'SOCKS5 greeting, user/pass, request, reply',
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 3 }), corrupted(socks5Request)),
    run: (input) => {
      const [which, buf] = input as [number, Buffer];
      const parse = [parseGreeting, parseUserPassRequest, parseRequest, parseReply][which] as (
        b: Buffer,
      ) => unknown;
      attempt(() => void parse(buf));
    },
  },
  {
    name: 'SOCKS4/4a request',
    arbitrary: corrupted(socks4Request),
    run: (input) => attempt(() => void parseSocks4Request(input as Buffer)),
  },
  {
    name: 'relay request (version, command, features; split reads)',
    arbitrary: fc.tuple(
      fc.oneof(
        fc
          .tuple(fc.integer({ min: 0, max: 15 }), fc.boolean(), fc.array(relayFeature, { maxLength: 4 }))
          .map(([cmd, udp, features]) => encodeRelayRequest({ cmd, udp, features })),
        corrupted(relayMessage(fc.integer({ min: 0, max: 255 }))),
      ),
      fc.array(fc.nat(), { maxLength: 4 }),
    ),
    run: (input) => {
      const [buf, cuts] = input as [Buffer, number[]];
      attempt(() => {
        parseHeadSplit(parseRelayRequest, buf, cuts);
        const whole = parseRelayRequest(buf);
        if (whole !== undefined) void featureFacts(whole.value.features);
      });
    },
  },
  {
    name: 'relay response (status, features; split reads)',
    arbitrary: fc.tuple(
      corrupted(relayMessage(fc.integer({ min: 0, max: 9 }))),
      fc.array(fc.nat(), { maxLength: 4 }),
    ),
    run: (input) => {
      const [buf, cuts] = input as [Buffer, number[]];
      attempt(() => {
        parseHeadSplit(parseRelayResponse, buf, cuts);
        const whole = parseRelayResponse(buf);
        if (whole !== undefined) void featureFacts(whole.value.features);
      });
    },
  },
  {
    name: 'relay features (each type, round trip of what encodes)',
    arbitrary: fc.array(relayFeature, { maxLength: 6 }),
    run: (input) => {
      const features = input as RelayFeature[];
      let encoded: Buffer;
      try {
        encoded = encodeRelayResponse(0, features);
      } catch (err) {
        rejectClearly(err); // e.g. a feature over 255 bytes: refused by the encoder, clearly
        return;
      }
      attempt(() => {
        const parsed = parseRelayResponse(encoded);
        if (parsed === undefined || parsed.consumed !== encoded.length)
          throw new Error('an encoded response does not parse back whole');
        if (parsed.value.features.length !== features.length)
          throw new Error('features lost in a round trip');
        const again = encodeRelayResponse(0, parsed.value.features);
        if (!again.equals(encoded)) throw new Error('features changed in a round trip');
      });
    },
  },
  {
    name: 'relay UDP datagrams (LEN data; split reads, reassembled)',
    arbitrary: fc.tuple(
      fc.array(bytes(300), { maxLength: 6 }),
      fc.boolean(),
      corrupted(fc.constant(Buffer.alloc(0))),
      fc.array(fc.nat(), { maxLength: 6 }),
    ),
    run: (input) => {
      const [datagrams, intact, noise, cuts] = input as [Uint8Array[], boolean, Buffer, number[]];
      const wire = Buffer.concat(datagrams.map((d) => encodeRelayDatagram(d)));
      // Intact: exactly the datagrams come out. Otherwise noise is appended: still no crash.
      const buf = intact ? wire : Buffer.concat([wire, noise]);
      const out: Buffer[] = [];
      attempt(() => {
        let held = Buffer.alloc(0);
        for (const chunk of split(buf, cuts)) {
          held = Buffer.concat([held, chunk]);
          for (let d = parseRelayDatagram(held); d !== undefined; d = parseRelayDatagram(held)) {
            out.push(d.value);
            held = held.subarray(d.consumed);
          }
          if (held.length > 2 + 0xffff) throw new Error(`${held.length} bytes held for one datagram`);
        }
      });
      if (intact) sameDatagrams(out, datagrams);
    },
  },
  {
    name: 'SOCKS5 UDP header (one packet)',
    arbitrary: corrupted(
      fc
        .tuple(bytes(200), udpHost, fc.integer({ min: 0, max: 65535 }))
        .map(([d, h, p]) => encodeUdpDatagram(Buffer.from(d), h, p)),
    ),
    run: (input) => {
      const buf = input as Buffer;
      attempt(() => {
        const d = decodeUdpDatagram(buf);
        if (d.data.length > buf.length) throw new Error('datagram longer than its packet');
      });
    },
  },
  {
    name: 'SOCKS5 UDP-TUN stream (split reads, reassembled)',
    arbitrary: fc.tuple(
      fc.array(
        fc.tuple(
          bytes(200).filter((d) => d.length > 0),
          udpHost,
          fc.integer({ min: 0, max: 65535 }),
        ),
        {
          maxLength: 5,
        },
      ),
      fc.boolean(),
      corrupted(fc.constant(Buffer.alloc(0))),
      fc.array(fc.nat(), { maxLength: 6 }),
    ),
    run: (input) => {
      const [frames, intact, noise, cuts] = input as [
        [Uint8Array, string, number][],
        boolean,
        Buffer,
        number[],
      ];
      const wire = Buffer.concat(frames.map(([d, h, p]) => encodeUdpTunFrame(Buffer.from(d), h, p)));
      const buf = intact ? wire : Buffer.concat([wire, noise]);
      const decoder = new UdpTunDecoder();
      const out: Buffer[] = [];
      attempt(() => {
        for (const chunk of split(buf, cuts)) {
          for (const d of decoder.push(chunk)) out.push(d.data);
          // At most one incomplete frame is held: header (2 + 1 + 1 + 1 + 255 + 2) + 65535 bytes.
          if (decoder.pending > 262 + 0xffff) throw new Error(`${decoder.pending} bytes held`);
        }
      });
      if (intact) {
        sameDatagrams(
          out,
          frames.map(([d]) => d),
        );
        if (decoder.pending !== 0) throw new Error(`${decoder.pending} bytes left after whole frames`);
      }
    },
  },
  {
    name: 'command-line URL (-L and -F)',
    arbitrary: fc.oneof(urlText, fc.string({ maxLength: 60 })),
    run: (input) => {
      attempt(() => void parseGostUrl(input as string));
      attempt(() => void serviceFromUrl(input as string, 0));
      attempt(() => void nodesFromUrl(input as string, 0));
    },
  },
  {
    name: 'config loader (YAML and JSON)',
    arbitrary: fc.tuple(configText, fc.constantFrom<'yaml' | 'json'>('yaml', 'json')),
    run: (input) => {
      const [text, format] = input as [string, 'yaml' | 'json'];
      attempt(() => void parseConfigText(text, format));
    },
  },
];

/** Runs every target for `runs` inputs each; throws fast-check's report on the first failure. */
export function fuzzAll(runs: number, seed?: number, log: (line: string) => void = () => {}): void {
  for (const target of FUZZ_TARGETS) {
    const started = Date.now();
    fc.assert(
      fc.property(target.arbitrary, (input) => {
        target.run(input);
      }),
      { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
    );
    log(`${target.name}: ${runs} inputs in ${Date.now() - started} ms`);
  }
}
