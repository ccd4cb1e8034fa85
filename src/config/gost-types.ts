import type { KnownTypes } from './from-url.js';

/**
 * The plugin types GOST v3.2.6 registers (go-gost/x v0.8.1 `registry.*Registry().Register`), per
 * kind, checked one by one against the real binary (`gost -L NAME+tcp://:1 -O json`; `api` and
 * `wg` are registered elsewhere, not on its command line). The command line consults these, not gost-ts's registries, to decide whether a scheme part
 * names a type, so that `-L relay+mws://` means what it means to GOST (and the builder then says
 * relay is not implemented) instead of silently falling back to `auto`.
 */
export const GOST_TYPES: KnownTypes = {
  handlers: [
    ...['auto', 'dns', 'file', 'forward', 'http', 'http2', 'http3', 'metrics', 'red', 'redir'],
    ...['redirect', 'redu', 'relay', 'router', 'rtcp', 'rudp', 'serial', 'sni', 'socks', 'socks4'],
    ...['socks4a', 'socks5', 'ss', 'sshd', 'ssu', 'tap', 'tcp', 'tun', 'tungo', 'tunnel', 'udp', 'unix'],
  ],
  listeners: [
    ...['dns', 'dtls', 'ftcp', 'grpc', 'h2', 'h2c', 'h3', 'http2', 'http3', 'icmp', 'icmp6', 'kcp'],
    ...['mtcp', 'mtls', 'mws', 'mwss', 'ohttp', 'otls', 'pht', 'phts', 'quic', 'red', 'redir'],
    ...['redirect', 'redu', 'rtcp', 'rudp', 'serial', 'ssh', 'sshd', 'tap', 'tcp', 'tls', 'tun'],
    ...['tungo', 'udp', 'unix', 'ws', 'wss', 'wt'],
  ],
  connectors: [
    ...['direct', 'forward', 'http', 'http2', 'relay', 'router', 'serial', 'sni', 'socks', 'socks4'],
    ...['socks4a', 'socks5', 'ss', 'sshd', 'ssu', 'tcp', 'tunnel', 'unix', 'virtual'],
  ],
  dialers: [
    ...['direct', 'dtls', 'ftcp', 'grpc', 'h2', 'h2c', 'h3', 'http2', 'http3', 'icmp', 'icmp6', 'kcp'],
    ...['mtcp', 'mtls', 'mws', 'mwss', 'ohttp', 'ohttps', 'otls', 'pht', 'phts', 'quic', 'serial'],
    ...['ssh', 'sshd', 'tcp', 'tls', 'udp', 'unix', 'virtual', 'ws', 'wss', 'wt'],
  ],
};
