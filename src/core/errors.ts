/**
 * Every error gost-ts raises carries a stable `code` (see the table in README "Error codes").
 * Protocol errors also say what they do on the wire (`consequence`), so the caller that owns the
 * connection can act on it without string matching.
 */
export type ErrorCode =
  | 'ERR_SMUX_BAD_VERSION'
  | 'ERR_SMUX_BAD_COMMAND'
  | 'ERR_SMUX_BAD_LENGTH'
  | 'ERR_SMUX_BAD_CONFIG'
  | 'ERR_SMUX_SESSION_CLOSED'
  | 'ERR_SMUX_KEEPALIVE_TIMEOUT'
  | 'ERR_SMUX_STREAM_CLOSED'
  | 'ERR_SMUX_GO_AWAY'
  | 'ERR_SMUX_WINDOW'
  | 'ERR_WS_HANDSHAKE'
  | 'ERR_WS_TEXT_MESSAGE'
  | 'ERR_WS_PROTOCOL'
  | 'ERR_WS_CLOSED'
  | 'ERR_WS_PING_TIMEOUT'
  | 'ERR_DIAL'
  | 'ERR_DIAL_TIMEOUT'
  | 'ERR_CONNECT_REFUSED'
  | 'ERR_HTTP_BAD_REQUEST'
  | 'ERR_HTTP_PROXY_STATUS'
  | 'ERR_SOCKS_PROTOCOL'
  | 'ERR_SOCKS_AUTH'
  | 'ERR_SOCKS_REPLY'
  | 'ERR_RELAY_PROTOCOL'
  | 'ERR_RELAY_STATUS'
  | 'ERR_BIND'
  | 'ERR_AUTH'
  | 'ERR_TLS'
  | 'ERR_CONFIG_INVALID'
  | 'ERR_NO_NODE'
  | 'ERR_ABORTED';

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
