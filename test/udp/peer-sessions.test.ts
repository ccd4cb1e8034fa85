import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { PacketConn, UdpDropReason, UdpObserver } from '../../src/core/types.js';
import { silentLogger } from '../../src/core/logger.js';
import {
  PeerSessions,
  type PeerSessionOptions,
  type UdpPeerConn,
} from '../../src/common/udp/peer-sessions.js';

/** A PacketConn whose incoming datagrams the test injects and whose sends it records. */
function fakePackets(): PacketConn & {
  inject(data: Buffer, from: string): void;
  sent: Array<[string, string]>;
} {
  let receiver: ((d: Buffer, from: string) => void) | undefined;
  const sent: Array<[string, string]> = [];
  return {
    sent,
    inject: (d, from) => receiver?.(d, from),
    send: (d, addr) => (sent.push([d.toString(), addr]), true),
    onMessage: (r) => void (receiver = r),
    close: () => undefined,
    done: new Promise(() => undefined),
    localAddress: () => '127.0.0.1:5353',
  };
}

function counting(): UdpObserver & { drops: Partial<Record<UdpDropReason, number>>; open: number } {
  const o = {
    drops: {} as Partial<Record<UdpDropReason, number>>,
    open: 0,
    sessionOpened: () => void (o.open += 1),
    sessionClosed: () => void (o.open -= 1),
    dropped: (r: UdpDropReason) => void (o.drops[r] = (o.drops[r] ?? 0) + 1),
  };
  return o;
}

const base: PeerSessionOptions = {
  ttlMs: 60_000,
  keepalive: true,
  readBufferSize: 100,
  readQueueSize: 4,
  maxSessions: 2,
};

test('one session per peer; replies go back to that peer', async () => {
  const p = fakePackets();
  const sessions: UdpPeerConn[] = [];
  new PeerSessions(p, base, silentLogger, undefined, (s) => sessions.push(s));
  p.inject(Buffer.from('a'), '10.0.0.1:1000');
  p.inject(Buffer.from('b'), '10.0.0.1:1000');
  p.inject(Buffer.from('c'), '10.0.0.2:2000');
  assert.equal(sessions.length, 2);
  const [s1, s2] = sessions as [UdpPeerConn, UdpPeerConn];
  assert.deepEqual([s1.remoteAddress, s1.remotePort, s1.localPort], ['10.0.0.1', 1000, 5353]);
  assert.deepEqual([s1.read(), s1.read()].map(String), ['a', 'b']);
  s2.write(Buffer.from('reply'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(p.sent, [['reply', '10.0.0.2:2000']]);
  assert.equal(s1.bytesRead, 2);
  assert.equal(s2.bytesWritten, 5);
});

test('limits: datagram size, per-session queue and session cap are dropped and counted', () => {
  const p = fakePackets();
  const obs = counting();
  const sessions: UdpPeerConn[] = [];
  new PeerSessions(p, base, silentLogger, obs, (s) => sessions.push(s));
  p.inject(Buffer.alloc(101), '10.0.0.1:1'); // larger than readBufferSize: no session either
  assert.equal(sessions.length, 0);
  for (let i = 0; i < 6; i++) p.inject(Buffer.from([i]), '10.0.0.1:1'); // nobody reads: queue of 4
  p.inject(Buffer.from('x'), '10.0.0.2:2');
  p.inject(Buffer.from('y'), '10.0.0.3:3'); // a third peer with maxSessions 2
  assert.equal(sessions.length, 2);
  assert.equal(obs.open, 2);
  assert.deepEqual(obs.drops, { too_large: 1, queue_full: 2, session_limit: 1 });
});

test('a session ends after ttl without traffic, and frees its place', async () => {
  const p = fakePackets();
  const obs = counting();
  const sessions: UdpPeerConn[] = [];
  const table = new PeerSessions(p, { ...base, ttlMs: 50 }, silentLogger, obs, (s) => sessions.push(s));
  p.inject(Buffer.from('a'), '10.0.0.1:1');
  // The idle timer does not hold the process open (unref): hold it for the wait, bounded.
  const hold = setTimeout(() => undefined, 5000);
  await once(sessions[0] as UdpPeerConn, 'close');
  clearTimeout(hold);
  assert.equal(table.size, 0);
  assert.equal(obs.open, 0);
  p.inject(Buffer.from('b'), '10.0.0.1:1');
  assert.equal(sessions.length, 2, 'the same peer gets a new session');
  table.closeAll();
});

test('without keepalive the first reply ends the session (GOST udp listener default)', async () => {
  const p = fakePackets();
  const sessions: UdpPeerConn[] = [];
  new PeerSessions(p, { ...base, keepalive: false }, silentLogger, undefined, (s) => sessions.push(s));
  p.inject(Buffer.from('q'), '10.0.0.1:1');
  const s = sessions[0] as UdpPeerConn;
  s.write(Buffer.from('answer'));
  await once(s, 'close');
  assert.deepEqual(p.sent, [['answer', '10.0.0.1:1']]);
});
