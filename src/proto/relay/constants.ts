/**
 * GOST's relay protocol (go-gost/relay v0.5.0): version, commands, flags, feature types, network ids
 * and response status codes, as the wire carries them.
 */
export const RELAY_VERSION = 0x01;

/** Request commands (the low 4 bits of the CMD/FLAGS byte). */
export const CMD_CONNECT = 0x01;
export const CMD_BIND = 0x02;
export const CMD_ASSOCIATE = 0x03;
export const CMD_MASK = 0x0f;
/** Flag in the CMD/FLAGS byte: the request is UDP-oriented (GOST still sets it beside the network feature). */
export const FLAG_UDP = 0x80;

/** Feature types. */
export const FEATURE_USER_AUTH = 0x01;
export const FEATURE_ADDR = 0x02;
export const FEATURE_TUNNEL = 0x03;
export const FEATURE_NETWORK = 0x04;

/** Address types of the address feature (as SOCKS5). */
export const ATYP_IPV4 = 0x01;
export const ATYP_DOMAIN = 0x03;
export const ATYP_IPV6 = 0x04;

/** Network ids of the network feature (2 bytes, big-endian). */
export const NETWORK_TCP = 0x0000;
export const NETWORK_UDP = 0x0001;
export const NETWORK_IP = 0x0002;
export const NETWORK_UNIX = 0x0010;
export const NETWORK_SERIAL = 0x0011;

/** Response status codes. */
export const STATUS_OK = 0x00;
export const STATUS_BAD_REQUEST = 0x01;
export const STATUS_UNAUTHORIZED = 0x02;
export const STATUS_FORBIDDEN = 0x03;
export const STATUS_TIMEOUT = 0x04;
export const STATUS_SERVICE_UNAVAILABLE = 0x05;
export const STATUS_HOST_UNREACHABLE = 0x06;
export const STATUS_NETWORK_UNREACHABLE = 0x07;
export const STATUS_INTERNAL_SERVER_ERROR = 0x08;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  [STATUS_OK]: 'OK',
  [STATUS_BAD_REQUEST]: 'Bad Request',
  [STATUS_UNAUTHORIZED]: 'Unauthorized',
  [STATUS_FORBIDDEN]: 'Forbidden',
  [STATUS_TIMEOUT]: 'Timeout',
  [STATUS_SERVICE_UNAVAILABLE]: 'Service Unavailable',
  [STATUS_HOST_UNREACHABLE]: 'Host Unreachable',
  [STATUS_NETWORK_UNREACHABLE]: 'Network Unreachable',
  [STATUS_INTERNAL_SERVER_ERROR]: 'Internal Server Error',
};

/** GOST's text for a status (x/internal/util/relay StatusText), for logs and errors. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? `unknown status 0x${status.toString(16).padStart(2, '0')}`;
}

/** Header (4 bytes) plus the largest feature list a 16-bit FEALEN can announce. */
export const MAX_HEAD_BYTES = 4 + 0xffff;
