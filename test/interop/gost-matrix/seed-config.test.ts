/**
 * Interop matrix, the spec's YAML: the seed's client config (`-C file`), run by gost-ts against a
 * GOST server and by GOST against a gost-ts server. A tap shows the upgrade request each client
 * sends for it: path `/ws`, the node address `:PORT` verbatim as Host, and the `header` map.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../helpers/cli.js';
import { ROLES, echoTarget, header, headOf, roundTrip, server, startPeer, tcpTap } from './support.js';

/** The seed's client YAML (its indentation corrected); only the two ports and the bind host differ. */
const seedClientYaml = (clientPort: number, serverPort: number): string => `services:
- name: service-0
  addr: "127.0.0.1:${clientPort}"
  handler:
    type: auto
    chain: chain-0
  listener:
    type: tcp
chains:
- name: chain-0
  hops:
  - name: hop-0
    nodes:
    - name: node-0
      addr: :${serverPort}
      connector:
        type: http
      dialer:
        type: mws
        metadata:
          path: /ws
          header:
            foo: bar
`;

for (const [c, s] of ROLES) {
  test(`the seed's YAML run by ${c} (-C file) against a ${s} server`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'gost-matrix-seed-'));
    const target = await echoTarget();
    const srv = await server(s, (p) => `http+mws://127.0.0.1:${p}?path=/ws`);
    const tap = await tcpTap(srv.port);
    const port = await freePort();
    const file = join(dir, 'client.yaml');
    writeFileSync(file, seedClientYaml(port, tap.port));
    const cli = await startPeer(c, ['-C', file], port, { listeners: 1 });
    t.after(async () => {
      await cli.stop();
      await srv.stop();
      tap.close();
      target.close();
      rmSync(dir, { recursive: true });
    });
    for (const proto of ['http', 'socks5', 'socks4'] as const) {
      await roundTrip(cli.port, target.addr, { proto, size: 256 << 10 });
    }
    assert.equal(tap.connections.length, 1, 'one WebSocket session for all three');
    const head = headOf(tap.connections[0]!.up, 'the upgrade request');
    assert.match(head, /^GET \/ws HTTP\/1\.1\r\n/);
    assert.equal(header(head, 'Host'), `:${tap.port}`, 'the node address, verbatim');
    assert.equal(header(head, 'Foo'), 'bar', 'the header map, name canonicalised');
  });
}
