import type { Conn, PacketConn, UdpDropReason } from '../../core/types.js';
import type { Logger } from '../../core/logger.js';

/**
 * What every PacketConn carried on one byte stream shares, whatever its framing (GOST's UDP-TUN,
 * relay's length-prefixed datagrams): it lives as long as the stream, closing it destroys the
 * stream, it has no socket address, and a datagram offered while the stream cannot take it is
 * dropped rather than queued. A subclass decodes what the stream brings (handing each datagram to
 * `deliver`) and encodes what `send` gets.
 */
export abstract class StreamPacketConn implements PacketConn {
  readonly done: Promise<void>;
  protected readonly conn: Conn;
  protected closed = false;
  private receiver: ((data: Buffer, from: string) => void) | undefined;

  /** `label` names the framing in the debug line of a stream error (`udp tunnel`, `relay udp`). */
  protected constructor(conn: Conn, log: Logger | undefined, label: string) {
    this.conn = conn;
    this.done = new Promise<void>((resolve) => {
      const end = (): void => {
        this.closed = true;
        if (!conn.destroyed) conn.destroy();
        resolve();
      };
      conn.once('close', end);
      conn.once('end', end);
      if (conn.destroyed) end();
    });
    conn.on('error', (err: Error) => log?.debug({ err: err.message }, `${label}: stream error`));
  }

  abstract send(data: Buffer, addr: string): true | UdpDropReason;

  /** True once nothing can be written any more (closed, or the stream destroyed or ending). */
  protected get ended(): boolean {
    return this.closed || this.conn.destroyed || this.conn.writableEnded;
  }

  /** True while the stream's write buffer is above its high-water mark (a slow tunnel drops, never queues). */
  protected get busy(): boolean {
    return this.conn.writableNeedDrain;
  }

  /** Hands one decoded datagram to the receiver. */
  protected deliver(data: Buffer, from: string): void {
    this.receiver?.(data, from);
  }

  onMessage(receiver: (data: Buffer, from: string) => void): void {
    this.receiver = receiver;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.conn.destroy();
  }

  localAddress(): string | undefined {
    return undefined;
  }
}
