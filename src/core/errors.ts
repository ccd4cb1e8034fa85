/**
 * Every error gost-ts raises carries a stable `code` (see the table in README "Error codes").
 * Protocol errors also say what they do on the wire (`consequence`), so the caller that owns the
 * connection can act on it without string matching.
 */
/**
 * Every code with its meaning: the README's error table is generated from this (`npm run docs`).
 * A new code is one line here.
 */
export const ERROR_CODES = {
  ERR_SMUX_BAD_VERSION: 'the peer sent an smux frame with the wrong version byte; the session is closed',
  ERR_SMUX_BAD_COMMAND: 'the peer sent an unknown smux command; the session is closed',
  ERR_SMUX_BAD_LENGTH: 'the peer sent an smux frame with an impossible length; the session is closed',
  ERR_SMUX_BAD_CONFIG: 'an impossible smux setting',
  ERR_SMUX_SESSION_CLOSED: 'the session ended (peer closed, error); its streams fail with it',
  ERR_SMUX_KEEPALIVE_TIMEOUT: 'nothing arrived within `muxKeepAliveTimeout`',
  ERR_SMUX_STREAM_CLOSED:
    "a write could not complete: stream destroyed, or (v2) waiting for window after the peer's FIN",
  ERR_SMUX_GO_AWAY: 'stream ids exhausted; the session is replaced',
  ERR_WS_HANDSHAKE:
    'the upgrade failed ("bad handshake", with the status), or a reserved header was configured',
  ERR_WS_TEXT_MESSAGE: 'a text WebSocket message arrived where only binary is allowed',
  ERR_WS_PROTOCOL: 'a malformed WebSocket frame',
  ERR_WS_CLOSED: 'the WebSocket closed',
  ERR_WS_PING_TIMEOUT: 'the peer did not answer pings within twice the ping interval',
  ERR_DIAL: 'a hop or target could not be reached',
  ERR_DIAL_TIMEOUT: 'a hop or target did not answer in time',
  ERR_NO_NODE: 'every node of a hop is marked failed',
  ERR_HTTP_BAD_REQUEST: 'a client sent a malformed or oversized HTTP request head (answered 400)',
  ERR_HTTP_PROXY_STATUS: 'the next node answered CONNECT with a non-200 status (message = status line)',
  ERR_SOCKS_PROTOCOL: 'a malformed SOCKS message',
  ERR_SOCKS_AUTH: 'SOCKS authentication failed',
  ERR_SOCKS_REPLY: 'the next SOCKS node refused the request',
  ERR_RELAY_PROTOCOL: 'a malformed relay message',
  ERR_RELAY_STATUS: "the relay peer refused (message = GOST's status code and text)",
  ERR_BIND: 'a reverse-tunnel bind was refused or is impossible (the connector cannot bind)',
  ERR_TLS: 'certificate or handshake problem',
  ERR_CONFIG_INVALID: 'configuration error; the message starts with the JSON path of the key',
  ERR_ABORTED: 'the operation was cancelled (its connection closed, or the service stopping)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Base of all gost-ts errors. */
export class TunnelError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TunnelError';
    this.code = code;
  }
}

/** A peer broke the wire protocol; the session or connection it arrived on is closed. */
export class ProtocolError extends TunnelError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ProtocolError';
  }
}

/** A configuration value is missing, unknown or ill-typed; `path` names it (e.g. `services[0].addr`). */
export class ConfigError extends TunnelError {
  readonly path: string;
  constructor(path: string, message: string) {
    super('ERR_CONFIG_INVALID', path ? `${path}: ${message}` : message);
    this.name = 'ConfigError';
    this.path = path;
  }
}

/** True when `err` is a TunnelError with the given code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof TunnelError && err.code === code;
}

/** Normalises anything thrown into an Error (for logging and destroy()). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
