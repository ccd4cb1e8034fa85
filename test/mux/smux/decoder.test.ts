import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CMD_FIN,
  CMD_NOP,
  CMD_PSH,
  CMD_SYN,
  CMD_UPD,
  FrameDecoder,
  encodeControl,
  encodePsh,
  encodeUpd,
  type Frame,
} from '../../../src/mux/smux/index.js';
import { hasCode } from '../../../src/core/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('encodes the frames captured from Go smux byte for byte', () => {
  assert.deepEqual(encodeControl(1, CMD_SYN, 3), hex('01 00 00 00 03 00 00 00'));
  assert.deepEqual(encodeControl(1, CMD_FIN, 3), hex('01 01 00 00 03 00 00 00'));
  assert.deepEqual(encodeControl(1, CMD_NOP, 0), hex('01 03 00 00 00 00 00 00'));
  assert.deepEqual(encodePsh(1, 3, Buffer.alloc(119, 1)).subarray(0, 8), hex('01 02 77 00 03 00 00 00'));
  assert.deepEqual(encodePsh(1, 3, Buffer.alloc(32768)).subarray(0, 8), hex('01 02 00 80 03 00 00 00'));
  assert.deepEqual(encodeUpd(2, 3, 119, 65536), hex('02 04 08 00 03 00 00 00 77 00 00 00 00 00 01 00'));
});

function decodeAll(version: number, chunks: Buffer[]): Frame[] {
  const d = new FrameDecoder(version);
  const out: Frame[] = [];
  for (const c of chunks) {
    d.push(c);
    for (let f = d.next(); f !== undefined; f = d.next()) out.push(f);
  }
  assert.equal(d.bufferedBytes, 0, 'no bytes left over');
  return out;
}

const frameArb = (version: 1 | 2): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc
      .tuple(fc.constantFrom(CMD_SYN, CMD_FIN, CMD_NOP), fc.nat())
      .map(([cmd, sid]) => encodeControl(version, cmd, sid)),
    fc
      .tuple(fc.nat(), fc.uint8Array({ maxLength: 3000 }))
      .map(([sid, data]) => encodePsh(version, sid, data)),
    fc.tuple(fc.nat(), fc.nat(), fc.nat()).map(([sid, c, w]) => encodeUpd(version, sid, c, w)),
  );

test('any split of the byte stream decodes to the same frames', () => {
  const caseArb = fc.constantFrom<1 | 2>(1, 2).chain((version) =>
    fc.record({
      version: fc.constant(version),
      frames: fc.array(frameArb(version), { minLength: 1, maxLength: 30 }),
      cuts: fc.array(fc.nat(), { maxLength: 20 }),
    }),
  );
  fc.assert(
    fc.property(caseArb, ({ version, frames, cuts }) => {
      const whole = Buffer.concat(frames);
      const points = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let prev = 0;
      for (const p of points) {
        chunks.push(whole.subarray(prev, p));
        prev = p;
      }
      chunks.push(whole.subarray(prev));
      const expected = decodeAll(version, [whole]);
      assert.equal(expected.length, frames.length);
      assert.deepEqual(decodeAll(version, chunks), expected);
      // One byte at a time is the extreme split.
      assert.deepEqual(
        decodeAll(
          version,
          [...whole].map((b) => Buffer.from([b])),
        ),
        expected,
      );
    }),
    { numRuns: 200 },
  );
});

test('decoded PSH payload equals what was encoded', () => {
  const payload = Buffer.from('hello smux');
  const [f] = decodeAll(1, [encodePsh(1, 7, payload)]);
  assert.ok(f && f.cmd === CMD_PSH);
  assert.equal(f.sid, 7);
  assert.deepEqual(f.data, payload);
});

test('UPD consumes 8 payload bytes and reports consumed/window', () => {
  const [f] = decodeAll(2, [encodeUpd(2, 5, 0xfffffff0, 65536)]);
  assert.ok(f && f.cmd === CMD_UPD);
  assert.equal(f.consumed, 0xfffffff0);
  assert.equal(f.window, 65536);
});

test('rejects a wrong version byte', () => {
  const d = new FrameDecoder(1);
  d.push(hex('02 00 00 00 03 00 00 00'));
  assert.throws(
    () => d.next(),
    (e: unknown) => hasCode(e, 'ERR_SMUX_BAD_VERSION'),
  );
});

test('rejects an unknown command', () => {
  const d = new FrameDecoder(1);
  d.push(hex('01 05 00 00 03 00 00 00'));
  assert.throws(
    () => d.next(),
    (e: unknown) => hasCode(e, 'ERR_SMUX_BAD_COMMAND'),
  );
});

test('rejects SYN/FIN/NOP with a non-zero length instead of desynchronising', () => {
  for (const cmd of ['00', '01', '03']) {
    const d = new FrameDecoder(1);
    d.push(hex(`01 ${cmd} 04 00 03 00 00 00 de ad be ef`));
    assert.throws(
      () => d.next(),
      (e: unknown) => hasCode(e, 'ERR_SMUX_BAD_LENGTH'),
    );
  }
});

test('a truncated frame waits for more bytes rather than yielding garbage', () => {
  const d = new FrameDecoder(1);
  const full = encodePsh(1, 3, Buffer.alloc(100, 7));
  d.push(full.subarray(0, 50));
  assert.equal(d.next(), undefined);
  d.push(full.subarray(50));
  const f = d.next();
  assert.ok(f && f.cmd === CMD_PSH && f.data.length === 100);
});
