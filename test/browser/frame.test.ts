/**
 * The browser's smux codec (Uint8Array/DataView, src/browser/frame.ts) against the Node one
 * (src/mux/smux): frames either encodes decode identically with the other, whatever the split.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as web from '../../src/browser/frame.js';
import { FrameDecoder, encodeControl, encodePsh, encodeUpd } from '../../src/mux/smux/index.js';

type Spec =
  | { cmd: 0 | 1 | 3; sid: number }
  | { cmd: 2; sid: number; data: Uint8Array }
  | { cmd: 4; sid: number; consumed: number; window: number };

const spec: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ cmd: fc.constantFrom(0 as const, 1 as const, 3 as const), sid: fc.nat() }),
  fc.record({ cmd: fc.constant(2 as const), sid: fc.nat(), data: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({
    cmd: fc.constant(4 as const),
    sid: fc.nat(),
    consumed: fc.nat({ max: 0xffffffff }),
    window: fc.nat({ max: 0xffffffff }),
  }),
);

function encodeWeb(v: number, s: Spec): Uint8Array {
  if (s.cmd === 2) return web.encodePsh(v, s.sid, s.data);
  if (s.cmd === 4) return web.encodeUpd(v, s.sid, s.consumed, s.window);
  return web.encodeControl(v, s.cmd, s.sid);
}

function encodeNode(v: number, s: Spec): Buffer {
  if (s.cmd === 2) return encodePsh(v, s.sid, s.data);
  if (s.cmd === 4) return encodeUpd(v, s.sid, s.consumed, s.window);
  return encodeControl(v, s.cmd, s.sid);
}

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

const normal = (s: Spec): Record<string, unknown> =>
  s.cmd === 2 ? { ...s, data: Buffer.from(s.data).toString('hex') } : { ...s };

test('browser codec ⇄ Node codec, split anywhere, v1 and v2', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(1, 2),
      fc.array(spec, { minLength: 1, maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (v, specs, cuts) => {
        const webBytes = Buffer.concat(specs.map((s) => encodeWeb(v, s)));
        const nodeBytes = Buffer.concat(specs.map((s) => encodeNode(v, s)));
        assert.deepEqual(webBytes, nodeBytes, 'encodings differ');

        const nodeDec = new FrameDecoder(v);
        const webDec = new web.FrameDecoder(v);
        const fromNode: Record<string, unknown>[] = [];
        const fromWeb: Record<string, unknown>[] = [];
        for (const part of split(webBytes, cuts)) {
          nodeDec.push(Buffer.from(part));
          webDec.push(part);
          for (let f = nodeDec.next(); f; f = nodeDec.next()) {
            const rest: Record<string, unknown> = { ...f };
            delete rest['version'];
            fromNode.push(normal(rest as Spec));
          }
          for (let f = webDec.next(); f; f = webDec.next()) fromWeb.push(normal(f as unknown as Spec));
        }
        const expected = specs.map(normal);
        assert.deepEqual(fromNode, expected);
        assert.deepEqual(fromWeb, expected);
      },
    ),
    { numRuns: 300 },
  );
});

test('browser decoder: wrong version and unknown command are errors', () => {
  const d = new web.FrameDecoder(1);
  d.push(web.encodeControl(2, web.CMD_NOP, 0));
  assert.throws(() => d.next(), /invalid protocol version 2 \(expected 1\)/);
  const e = new web.FrameDecoder(1);
  e.push(Uint8Array.of(1, 9, 0, 0, 0, 0, 0, 0));
  assert.throws(() => e.next(), /invalid command 9/);
});
