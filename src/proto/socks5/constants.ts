/** SOCKS protocol version 5 (RFC 1928). */
export const SOCKS5_VERSION = 0x05;

/** Authentication methods. 0x80/0x82 are GOST's TLS extensions (not implemented here). */
export const METHOD_NO_AUTH = 0x00;
export const METHOD_GSSAPI = 0x01;
export const METHOD_USER_PASS = 0x02;
export const METHOD_TLS = 0x80;
export const METHOD_TLS_AUTH = 0x82;
export const METHOD_NO_ACCEPTABLE = 0xff;

/** RFC 1929 sub-negotiation version and status bytes. */
export const USER_PASS_VERSION = 0x01;
export const USER_PASS_SUCCESS = 0x00;
export const USER_PASS_FAILURE = 0x01;

/** Request commands; 0xF0–0xF3 are GOST extensions (resolve, reverse resolve, mux-bind, UDP-over-TCP). */
export const CMD_CONNECT = 0x01;
export const CMD_BIND = 0x02;
export const CMD_UDP_ASSOCIATE = 0x03;
export const CMD_GOST_RESOLVE = 0xf0;
export const CMD_GOST_RESOLVE_PTR = 0xf1;
export const CMD_GOST_MUX_BIND = 0xf2;
export const CMD_GOST_UDP_TUN = 0xf3;

/** Address types. */
export const ATYP_IPV4 = 0x01;
export const ATYP_DOMAIN = 0x03;
export const ATYP_IPV6 = 0x04;
export type AddrType = typeof ATYP_IPV4 | typeof ATYP_DOMAIN | typeof ATYP_IPV6;

/** Reply codes. */
export const REP_SUCCEEDED = 0x00;
export const REP_GENERAL_FAILURE = 0x01;
export const REP_NOT_ALLOWED = 0x02;
export const REP_NETWORK_UNREACHABLE = 0x03;
export const REP_HOST_UNREACHABLE = 0x04;
export const REP_CONNECTION_REFUSED = 0x05;
export const REP_TTL_EXPIRED = 0x06;
export const REP_COMMAND_NOT_SUPPORTED = 0x07;
export const REP_ADDRESS_NOT_SUPPORTED = 0x08;

const REPLY_TEXT: Readonly<Record<number, string>> = {
  0x00: 'succeeded',
  0x01: 'general SOCKS server failure',
  0x02: 'connection not allowed by ruleset',
  0x03: 'network unreachable',
  0x04: 'host unreachable',
  0x05: 'connection refused',
  0x06: 'TTL expired',
  0x07: 'command not supported',
  0x08: 'address type not supported',
};

/** Human text of a reply code, for error messages. */
export function replyText(rep: number): string {
  return REPLY_TEXT[rep] ?? `unknown reply 0x${rep.toString(16).padStart(2, '0')}`;
}

/** Largest greeting: VER NMETHODS + 255 methods. */
export const MAX_GREETING_BYTES = 2 + 255;
/** Largest RFC 1929 request: VER ULEN UNAME(255) PLEN PASSWD(255). */
export const MAX_USER_PASS_BYTES = 3 + 255 + 255;
/** Largest request or reply: VER CMD RSV ATYP LEN DOMAIN(255) PORT. */
export const MAX_REQUEST_BYTES = 4 + 1 + 255 + 2;
