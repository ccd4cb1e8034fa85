import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WsFrameError, WsFrameReader } from '../../src/transport/websocket/frame-reader.js';
import { nativeXor } from '../../src/transport/websocket/native-xor.js';
import { OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT, encodeFrame } from '../helpers/raw-ws.js';

interface Received {
  data: Buffer[];
  controls: { opcode: number; payload: Buffer }[];
}

function reader(expectMasked: boolean, maxMessage = 0): { r: WsFrameReader; got: Received } {
  const got: Received = { data: [], controls: [] };
  const r = new WsFrameReader(
    expectMasked,
    {
      onData: (p) => got.data.push(Buffer.from(p)),
      onControl: (opcode, payload) => got.controls.push({ opcode, payload: Buffer.from(payload) }),
    },
    maxMessage,
  );
  return { r, got };
}

/** Feeds `wire` in pieces cut at `cuts` (sorted offsets); fresh copies, as socket reads are. */
function feed(r: WsFrameReader, wire: Buffer, cuts: number[]): void {
  let at = 0;
  for (const cut of [...cuts, wire.length]) {
    if (cut > at) r.push(Buffer.from(wire.subarray(at, cut)));
    at = Math.max(at, cut);
  }
}

/** Asserts that `fn` throws a WsFrameError with this code and close code; `what` names the case in every failure. */
function expectError(fn: () => void, code: string, closeCode: number, what = 'frame'): void {
  assert.throws(
    fn,
    (err: unknown) => {
      assert.ok(err instanceof WsFrameError, `${what}: expected a WsFrameError, got ${String(err)}`);
      assert.equal(err.code, code, `${what}: error code`);
      assert.equal(err.closeCode, closeCode, `${what}: close code`);
      return true;
    },
    `${what}: the reader accepted it`,
  );
}

describe('WsFrameReader', () => {
  test('binary payloads arrive in order, whatever the fragmentation, masking and read boundaries', () => {
    const message = fc.record({
      data: fc.uint8Array({ minLength: 0, maxLength: 70_000 }),
      fragments: fc.integer({ min: 1, max: 5 }),
      pingBetween: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 20 }),
        (messages, masked, rawCuts) => {
          const frames: Buffer[] = [];
          const pings: string[] = [];
          for (const [i, m] of messages.entries()) {
            const data = Buffer.from(m.data);
            const step = Math.ceil(data.length / m.fragments) || 1;
            for (let off = 0, n = 0; off < data.length || n === 0; off += step, n++) {
              const end = Math.min(data.length, off + step);
              frames.push(
                encodeFrame({
                  opcode: n === 0 ? OP_BINARY : OP_CONT,
                  payload: data.subarray(off, end),
                  fin: end >= data.length,
                  mask: masked,
                }),
              );
              // A control frame may sit between the fragments of a message.
              if (m.pingBetween && end < data.length) {
                pings.push(`p${i}`);
                frames.push(encodeFrame({ opcode: OP_PING, payload: `p${i}`, mask: masked }));
              }
            }
          }
          const wire = Buffer.concat(frames);
          const cuts = rawCuts.map((c) => c % (wire.length + 1)).sort((a, b) => a - b);
          const { r, got } = reader(masked);
          feed(r, wire, cuts);
          assert.deepEqual(Buffer.concat(got.data), Buffer.concat(messages.map((m) => Buffer.from(m.data))));
          assert.deepEqual(
            got.controls.map((c) => c.payload.toString()),
            pings,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  test('a header split into single bytes, 16- and 64-bit lengths', () => {
    const { r, got } = reader(true);
    const a = Buffer.alloc(300, 1);
    const b = Buffer.alloc(70_000, 2);
    const wire = Buffer.concat([
      encodeFrame({ opcode: OP_BINARY, payload: a, mask: true }),
      encodeFrame({ opcode: OP_BINARY, payload: b, mask: true }),
    ]);
    for (let i = 0; i < 20; i++) r.push(wire.subarray(i, i + 1));
    r.push(Buffer.from(wire.subarray(20)));
    assert.deepEqual(Buffer.concat(got.data), Buffer.concat([a, b]));
  });

  test('control frames: ping, pong and close reach the handler whole', () => {
    const { r, got } = reader(false);
    const wire = Buffer.concat([
      encodeFrame({ opcode: OP_PING, payload: 'hello' }),
      encodeFrame({ opcode: OP_PONG }),
      encodeFrame({ opcode: OP_CLOSE, payload: Buffer.from([0x03, 0xe8]) }),
    ]);
    feed(r, wire, [3, 9]);
    assert.deepEqual(
      got.controls.map((c) => [c.opcode, c.payload.toString('hex')]),
      [
        [OP_PING, Buffer.from('hello').toString('hex')],
        [OP_PONG, ''],
        [OP_CLOSE, '03e8'],
      ],
    );
  });

  test('what a binary tunnel must refuse, each with its close code', () => {
    const cases: [string, Buffer, boolean, string, number][] = [
      ['text', encodeFrame({ opcode: OP_TEXT, payload: 'x', mask: true }), true, 'ERR_WS_TEXT_MESSAGE', 1003],
      [
        'unmasked client frame',
        encodeFrame({ opcode: OP_BINARY, payload: 'x' }),
        true,
        'ERR_WS_PROTOCOL',
        1002,
      ],
      [
        'masked server frame',
        encodeFrame({ opcode: OP_BINARY, payload: 'x', mask: true }),
        false,
        'ERR_WS_PROTOCOL',
        1002,
      ],
      [
        'reserved bit',
        encodeFrame({ opcode: OP_BINARY, payload: 'x', rsv1: true, mask: true }),
        true,
        'ERR_WS_PROTOCOL',
        1002,
      ],
      [
        'unknown opcode',
        encodeFrame({ opcode: 0x3, payload: 'x', mask: true }),
        true,
        'ERR_WS_PROTOCOL',
        1002,
      ],
      [
        'continuation first',
        encodeFrame({ opcode: OP_CONT, payload: 'x', mask: true }),
        true,
        'ERR_WS_PROTOCOL',
        1002,
      ],
      [
        'binary inside a fragmented message',
        Buffer.concat([
          encodeFrame({ opcode: OP_BINARY, payload: 'x', fin: false, mask: true }),
          encodeFrame({ opcode: OP_BINARY, payload: 'y', mask: true }),
        ]),
        true,
        'ERR_WS_PROTOCOL',
        1002,
      ],
      [
        'fragmented ping',
        encodeFrame({ opcode: OP_PING, payload: 'x', fin: false, mask: true }),
        true,
        'ERR_WS_PROTOCOL',
        1002,
      ],
      [
        'long ping',
        encodeFrame({ opcode: OP_PING, payload: Buffer.alloc(126), mask: true }),
        true,
        'ERR_WS_PROTOCOL',
        1002,
      ],
    ];
    for (const [name, wire, expectMasked, code, closeCode] of cases) {
      const { r } = reader(expectMasked);
      expectError(() => r.push(wire), code, closeCode, name);
    }
  });

  test('a message over the limit fails before its payload arrives, fragments summed', () => {
    const one = reader(true, 1000);
    const head = encodeFrame({ opcode: OP_BINARY, payload: Buffer.alloc(1001), mask: true }).subarray(0, 8);
    expectError(() => one.r.push(head), 'ERR_WS_PROTOCOL', 1009);

    const frag = reader(true, 1000);
    frag.r.push(encodeFrame({ opcode: OP_BINARY, payload: Buffer.alloc(600), fin: false, mask: true }));
    expectError(
      () => frag.r.push(encodeFrame({ opcode: OP_CONT, payload: Buffer.alloc(401), mask: true })),
      'ERR_WS_PROTOCOL',
      1009,
    );
    assert.equal(Buffer.concat(frag.got.data).length, 600);

    const huge = reader(false);
    const b = Buffer.from([0x82, 127, 0xff, 0, 0, 0, 0, 0, 0, 0]);
    expectError(() => huge.r.push(b), 'ERR_WS_PROTOCOL', 1009);
  });
});

test('bufferutil, a dependency, loads its native XOR, and it agrees with the plain definition', () => {
  assert.ok(nativeXor !== undefined, 'bufferutil did not load: WebSocket masking would run in JavaScript');
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const expected = Buffer.from(data.map((b, i) => b ^ (key[i & 3] as number)));
  const out = Buffer.alloc(1010);
  nativeXor.mask(data, key, out, 10, data.length);
  assert.deepEqual(out.subarray(10), expected);
  const inPlace = Buffer.from(data);
  nativeXor.unmask(inPlace, key);
  assert.deepEqual(inPlace, expected);
});
