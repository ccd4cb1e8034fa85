import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  UdpTunDecoder,
  decodeUdpDatagram,
  encodeUdpDatagram,
  encodeUdpTunFrame,
} from '../../src/proto/socks5/udp.js';

// Captured from the real gost's socks5 connector (udp:// → UDP-TUN): "hello" to 127.0.0.1:19003.
const GOST_FRAME = '0005ff017f0000014a3b68656c6c6f';

test('UDP-TUN frame: RSV = length, FRAG 0xFF, as the real gost writes it', () => {
  assert.equal(encodeUdpTunFrame(Buffer.from('hello'), '127.0.0.1', 19003).toString('hex'), GOST_FRAME);
  // Names travel as ATYP 3 (the server resolves them); IPv6 as ATYP 4.
  assert.equal(
    encodeUdpTunFrame(Buffer.from('x'), 'dns.example', 53).toString('hex'),
    '0001ff030b' + Buffer.from('dns.example').toString('hex') + '003578',
  );
  assert.equal(
    encodeUdpTunFrame(Buffer.from('x'), '::1', 53).toString('hex'),
    '0001ff04' + '0'.repeat(31) + '1003578',
  );
});

test('UdpTunDecoder: frames across every split point, several per chunk', () => {
  const frames = Buffer.concat([
    Buffer.from(GOST_FRAME, 'hex'),
    encodeUdpTunFrame(Buffer.alloc(300, 7), 'example.org', 443),
    encodeUdpTunFrame(Buffer.from('z'), '::1', 1),
  ]);
  for (let cut = 0; cut <= frames.length; cut++) {
    const d = new UdpTunDecoder();
    const out = [...d.push(frames.subarray(0, cut)), ...d.push(frames.subarray(cut))];
    assert.equal(out.length, 3, `split at ${cut}`);
    assert.equal(out[0]?.data.toString(), 'hello');
    assert.deepEqual(out[0]?.addr, { type: 1, host: '127.0.0.1', port: 19003 });
    assert.equal(out[1]?.data.length, 300);
    assert.equal(out[1]?.addr.host, 'example.org');
    assert.equal(out[2]?.addr.host, '::1');
    assert.equal(d.pending, 0);
  }
});

test('UdpTunDecoder: RSV 0 is an empty datagram; an unknown address type throws', () => {
  assert.equal(new UdpTunDecoder().push(Buffer.from('0000ff017f00000100350000', 'hex'))[0]?.data.length, 0);
  assert.throws(() => new UdpTunDecoder().push(Buffer.from('0001ff09000000', 'hex')), /unknown address type/);
});

test('standard SOCKS5 UDP datagram: RSV 0, FRAG 0; decode gives FRAG for the caller to check', () => {
  const d = encodeUdpDatagram(Buffer.from('hi'), '10.0.0.1', 53);
  assert.equal(d.toString('hex'), '0000000' + '10a00000100356869');
  const back = decodeUdpDatagram(Buffer.from('000001010a0000010035ff', 'hex'));
  assert.equal(back.frag, 1);
  assert.equal(back.data.toString('hex'), 'ff');
  assert.throws(() => decodeUdpDatagram(Buffer.from('000000010a00', 'hex')), /shorter than its header/);
});
