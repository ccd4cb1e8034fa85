import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, isIPv4 } from 'node:net';
import type { PacketConn, UdpDropReason } from '../../core/types.js';
import { joinHostPort, parseHostPort } from '../addr.js';

/** Largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP). */
export const MAX_UDP_PAYLOAD = 65_507;

const unmap = (host: string): string =>
  host.startsWith('::ffff:') && isIPv4(host.slice(7)) ? host.slice(7) : host;

/**
 * A UDP socket as a PacketConn. `:port` (empty host) binds every interface, IPv4 and IPv6 through
 * one dual-stack socket as Go does (IPv4 peers appear as plain IPv4 addresses), falling back to
 * IPv4 only where IPv6 is unavailable. Host names in destinations are resolved per datagram (GOST
 * resolves each one too).
 */
export class SocketPacketConn implements PacketConn {
  readonly done: Promise<void>;
  private receiver: ((data: Buffer, from: string) => void) | undefined;
  private closed = false;
  private readonly socket: dgram.Socket;
  private readonly dualStack: boolean;
  private finish!: () => void;

  private constructor(socket: dgram.Socket, dualStack: boolean) {
    this.socket = socket;
    this.dualStack = dualStack;
    this.done = new Promise<void>((resolve) => (this.finish = resolve));
    socket.on('message', (msg, rinfo) =>
      this.receiver?.(msg, joinHostPort(unmap(rinfo.address), rinfo.port)),
    );
    // A send to an unreachable port can surface as an asynchronous socket error: not fatal for UDP.
    socket.on('error', () => undefined);
    socket.once('close', () => {
      this.closed = true;
      this.finish();
    });
  }

  /**
   * Binds `addr` (`host:port`, `:port`, `:0`). Rejects with the OS error (EADDRINUSE, EACCES, ...)
   * when the address cannot be used.
   */
  static async bind(addr: string): Promise<SocketPacketConn> {
    const hp = parseHostPort(addr);
    if (hp === undefined) throw new Error(`invalid UDP address ${JSON.stringify(addr)}`);
    const host = hp.host.replace(/^\[|\]$/g, '');
    if (host === '') {
      try {
        return await SocketPacketConn.open('udp6', '::', hp.port, true);
      } catch (err) {
        if (
          (err as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' &&
          (err as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL'
        )
          throw err;
        return SocketPacketConn.open('udp4', '0.0.0.0', hp.port, false);
      }
    }
    const family = isIP(host) === 6 ? 'udp6' : 'udp4';
    return SocketPacketConn.open(family, host, hp.port, false);
  }

  send(data: Buffer, addr: string): true | UdpDropReason {
    if (this.closed) return 'send_failed';
    if (data.length > MAX_UDP_PAYLOAD) return 'too_large';
    const hp = parseHostPort(addr);
    if (hp === undefined || hp.port === 0) return 'bad_datagram';
    const host = hp.host;
    if (isIP(host) !== 0) {
      this.sendTo(data, host, hp.port);
      return true;
    }
    lookup(host).then(
      (r) => this.sendTo(data, r.address, hp.port),
      () => undefined,
    );
    return true;
  }

  private sendTo(data: Buffer, ip: string, port: number): void {
    if (this.closed) return;
    const to = this.dualStack && isIPv4(ip) ? `::ffff:${ip}` : ip;
    try {
      this.socket.send(data, port, to, () => undefined);
    } catch {
      // The socket closed between the check and the send: the datagram is lost, as UDP allows.
    }
  }

  onMessage(receiver: (data: Buffer, from: string) => void): void {
    this.receiver = receiver;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }

  localAddress(): string | undefined {
    try {
      const a = this.socket.address();
      return joinHostPort(a.address, a.port);
    } catch {
      return undefined;
    }
  }

  private static open(
    type: 'udp4' | 'udp6',
    host: string,
    port: number,
    dualStack: boolean,
  ): Promise<SocketPacketConn> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6' && !dualStack });
      const onError = (err: Error): void => {
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        resolve(new SocketPacketConn(socket, dualStack));
      });
    });
  }
}
