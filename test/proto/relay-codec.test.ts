import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addrFeature,
  encodeRelayRequest,
  encodeRelayResponse,
  featureFacts,
  networkFeature,
  parseRelayRequest,
  parseRelayResponse,
  userAuthFeature,
} from '../../src/proto/relay/codec.js';
import { encodeRelayDatagram, parseRelayDatagram } from '../../src/proto/relay/datagram.js';
import { CMD_BIND, CMD_CONNECT, NETWORK_UDP, STATUS_OK } from '../../src/proto/relay/constants.js';
import { TunnelError } from '../../src/core/errors.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('relay codec (go-gost/relay v0.5.0 bytes)', () => {
  it('BIND for rtcp://:2222 as GOST writes it: auth, network tcp, empty domain', () => {
    const req = encodeRelayRequest({
      cmd: CMD_BIND,
      udp: false,
      features: [userAuthFeature('u', 'pw'), networkFeature('tcp'), addrFeature('', 2222)],
    });
    assert.deepEqual(req, hex('01 02 0014  01 0005 01 75 02 7077  04 0002 0000  02 0004 03 00 08ae'));
    const parsed = parseRelayRequest(Buffer.concat([req, hex('ff')]));
    assert.equal(parsed?.consumed, req.length);
    const facts = featureFacts(parsed?.value.features ?? []);
    assert.deepEqual(
      { cmd: parsed?.value.cmd, user: facts.username, pass: facts.password, addr: facts.address },
      { cmd: CMD_BIND, user: 'u', pass: 'pw', addr: ':2222' },
    );
  });

  it('older clients send 0.0.0.0 instead of the empty domain: both parse', () => {
    const v4 = parseRelayRequest(hex('01 02 000a 02 0007 01 0000'));
    assert.equal(v4, undefined, 'incomplete until the whole feature list arrived');
    const full = parseRelayRequest(hex('01 02 000a 02 0007 01 00000000 08ae'));
    assert.equal(featureFacts(full?.value.features ?? []).address, '0.0.0.0:2222');
  });

  it('CONNECT with the UDP flag and network feature (kept for UDP), IPv6 and domain addresses', () => {
    const req = encodeRelayRequest({
      cmd: CMD_CONNECT,
      udp: true,
      features: [networkFeature('udp'), addrFeature('::1', 53)],
    });
    assert.deepEqual(req.subarray(0, 2), hex('0181'));
    const p = parseRelayRequest(req)?.value;
    assert.equal(p?.udp, true);
    assert.equal(featureFacts(p?.features ?? []).network, NETWORK_UDP);
    assert.equal(featureFacts(p?.features ?? []).address, '[::1]:53');
    const d = encodeRelayRequest({
      cmd: CMD_CONNECT,
      udp: false,
      features: [addrFeature('example.com', 443)],
    });
    assert.deepEqual(
      d,
      Buffer.concat([hex('0101 0012 02 000f 03 0b'), Buffer.from('example.com'), hex('01bb')]),
    );
  });

  it('peer response on an inner bind stream: 01 00 000a 02 0007 01 <IPv4> <port>', () => {
    const r = encodeRelayResponse(STATUS_OK, [addrFeature('::ffff:10.1.2.3', 40000)]);
    assert.deepEqual(r, hex('01 00 000a 02 0007 01 0a010203 9c40'));
    assert.deepEqual(parseRelayResponse(r)?.value.features, [
      { type: 2, addr: { type: 1, host: '10.1.2.3', port: 40000 } },
    ]);
  });

  it('rejects a bad version and unknown features with ERR_RELAY_PROTOCOL', () => {
    const code = (e: unknown): boolean => e instanceof TunnelError && e.code === 'ERR_RELAY_PROTOCOL';
    assert.throws(() => parseRelayRequest(hex('05010000')), code);
    assert.throws(() => parseRelayResponse(hex('0100 0004 09 0001 00')), code);
    assert.throws(() => parseRelayRequest(hex('0101 0004 02 0001 01')), code);
  });

  it('UDP datagrams are length-prefixed (2 bytes, big-endian)', () => {
    const d = encodeRelayDatagram(Buffer.from('abc'));
    assert.deepEqual(d, hex('0003 616263'));
    assert.equal(parseRelayDatagram(d.subarray(0, 3)), undefined);
    assert.deepEqual(parseRelayDatagram(d)?.value, Buffer.from('abc'));
  });
});
