import { Duplex } from 'node:stream';
import { TunnelError, toError } from '../../core/errors.js';
import type { Conn } from '../../core/types.js';
import { parseRelayResponse } from '../../proto/relay/codec.js';
import { MAX_HEAD_BYTES, STATUS_OK, statusText } from '../../proto/relay/constants.js';

/**
 * The Conn a relay CONNECT resolves with when it does not wait for the response (GOST's default):
 * a GOST server sends the response only together with the target's first bytes, so waiting for it
 * would deadlock every protocol where the client speaks first. Writes go straight through; the
 * response is taken off the front of the first bytes read, and a refusal destroys this Conn with
 * ERR_RELAY_STATUS naming the status.
 */
export class RelayResponseConn extends Duplex {
  private readonly inner: Conn;
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor(inner: Conn, target: string) {
    super({ allowHalfOpen: true, highWaterMark: inner.readableHighWaterMark });
    this.inner = inner;
    inner.on('data', (chunk: Buffer) => {
      if (this.head !== undefined) {
        const buf = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
        let parsed;
        try {
          parsed = parseRelayResponse(buf);
        } catch (err) {
          this.destroy(toError(err));
          return;
        }
        if (parsed === undefined) {
          if (buf.length > MAX_HEAD_BYTES)
            this.destroy(new TunnelError('ERR_RELAY_PROTOCOL', 'relay: response too large'));
          else this.head = buf;
          return;
        }
        this.head = undefined;
        if (parsed.value.status !== STATUS_OK) {
          const s = parsed.value.status;
          this.destroy(new TunnelError('ERR_RELAY_STATUS', `relay: ${target}: ${s} ${statusText(s)}`));
          return;
        }
        chunk = buf.subarray(parsed.consumed);
        if (chunk.length === 0) return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => {
      if (this.head !== undefined) {
        this.destroy(new TunnelError('ERR_RELAY_PROTOCOL', `relay: ${target}: closed before the response`));
        return;
      }
      this.push(null);
    });
    inner.on('drain', () => this.emit('drain'));
    inner.on('error', (err: Error) => this.destroy(err));
    inner.on('close', () => {
      if (!this.destroyed && !this.readableEnded) this.destroy();
      else if (!this.destroyed && this.writableFinished) this.destroy();
    });
  }

  get remoteAddress(): string | undefined {
    return this.inner.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.inner.remotePort;
  }
  get localAddress(): string | undefined {
    return this.inner.localAddress;
  }
  get localPort(): number | undefined {
    return this.inner.localPort;
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.inner.write(chunk)) cb();
    else this.inner.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.inner.destroy();
    cb(err);
  }
}
