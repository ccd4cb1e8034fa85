/**
 * Interop matrix, mixed chains: gost-ts → GOST → gost-ts and GOST → gost-ts → GOST, each hop
 * `http+mws` or `http+mwss`; the second hop's WebSocket runs inside a stream of the first. Taps in
 * front of both servers show the path: the client reached the middle, the middle reached the last.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { client, echoTarget, headOf, other, roundTrip, server, tcpTap, type Peer } from './support.js';

for (const ends of ['gost-ts', 'gost'] as const) {
  for (const dialer of ['mws', 'mwss'] as const) {
    const middle: Peer['kind'] = other(ends);
    test(`${ends} → ${middle} → ${ends} over ${dialer}: 1 MiB echoed intact`, async (t) => {
      const target = await echoTarget();
      const last = await server(ends, (p) => `http+${dialer}://127.0.0.1:${p}?path=/last`);
      const mid = await server(middle, (p) => `http+${dialer}://127.0.0.1:${p}?path=/mid`);
      const toLast = await tcpTap(last.port);
      const toMid = await tcpTap(mid.port);
      const first = await client(ends, 'http', [
        `http+${dialer}://127.0.0.1:${toMid.port}?path=/mid`,
        `http+${dialer}://127.0.0.1:${toLast.port}?path=/last`,
      ]);
      t.after(async () => {
        await first.stop();
        await mid.stop();
        await last.stop();
        toMid.close();
        toLast.close();
        target.close();
      });
      await roundTrip(first.port, target.addr, { size: 1 << 20 });
      assert.equal(toMid.connections.length, 1, 'one session from the client to the middle');
      assert.equal(toLast.connections.length, 1, 'one session, through the middle, to the last');
      assert.equal(target.connections(), 1);
      if (dialer === 'mws') {
        // In clear text the upgrade requests show each hop's path.
        const [m] = toMid.connections;
        const [l] = toLast.connections;
        assert.match(headOf(m!.up, 'the upgrade to the middle'), /^GET \/mid HTTP\/1\.1\r\n/);
        assert.match(headOf(l!.up, 'the upgrade to the last'), /^GET \/last HTTP\/1\.1\r\n/);
      }
    });
  }
}
