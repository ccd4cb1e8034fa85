import type { Authenticator, Conn, Handler, HandlerContext, UdpObserver } from '../../core/types.js';
import { toError } from '../../core/errors.js';
import { readUntil } from '../../common/buffered-reader.js';
import { endGracefully } from '../../common/conn-io.js';
import { DEFAULT_BIND_RULES, type BindRule } from '../../bind/policy.js';
import type { SmuxConfig } from '../../mux/smux/index.js';
import {
  encodeRelayResponse,
  featureFacts,
  parseRelayRequest,
  type RelayRequest,
} from '../../proto/relay/codec.js';
import {
  CMD_BIND,
  CMD_CONNECT,
  MAX_HEAD_BYTES,
  NETWORK_UDP,
  STATUS_BAD_REQUEST,
  STATUS_HOST_UNREACHABLE,
  STATUS_NETWORK_UNREACHABLE,
  STATUS_UNAUTHORIZED,
} from '../../proto/relay/constants.js';
import { DEFAULT_RELAY_READ_TIMEOUT_MS } from './metadata.js';
import { connectAndRelay } from './connect.js';
import { handleRelayBind, handleRelayUdpBind, type RelayBindOptions } from './bind.js';
import { DEFAULT_UDP_BUFFER_SIZE } from '../../common/udp/pump.js';
import { connectUdpAndRelay } from './udp.js';

export interface RelayHandlerOptions {
  authenticator?: Authenticator | undefined;
  /** Fixed targets (`relay+mws://:8443/host:port`): every stream goes there, whatever it asks. */
  targets?: readonly string[] | undefined;
  readTimeoutMs?: number | undefined;
  bind?: boolean | undefined;
  bindRules?: readonly BindRule[] | undefined;
  publicAddr?: string | undefined;
  mux?: Partial<SmuxConfig> | undefined;
  lingerMs?: number | undefined;
  /** `udp.bufferSize`: largest datagram a UDP BIND relays, bytes. Default 4096 (GOST's). */
  udpBufferSize?: number | undefined;
  /** Reports UDP drops (metrics and the drop log). */
  udpObserver?: UdpObserver | undefined;
}

/**
 * GOST's `relay` handler (x/handler/relay). Reads one request; a bad version or malformed feature
 * closes the stream without a reply (as GOST). Credentials travel in the user auth feature; with an
 * authenticator a wrong or missing pair is answered `01 02` (unauthorized), for every command. Then:
 * a fixed target → forward there (`06` when it cannot be reached); CONNECT (or command 0) → the
 * address feature's target (`01` without one, `07` when the dial fails); BIND → bind.ts; other
 * commands `01`. UDP (flag 0x80 or network feature udp) with CONNECT or a fixed target → udp.ts;
 * UDP BIND (GOST's rudp server side and its UDP association) → bind.ts, under the same `bind`,
 * `bind.allow` and `publicAddr` as the TCP BIND. Never rejects.
 */
export class RelayHandler implements Handler {
  private readonly opts: RelayHandlerOptions;
  private next = 0;

  constructor(opts: RelayHandlerOptions = {}) {
    this.opts = opts;
  }

  private bindOptions(): RelayBindOptions {
    return {
      enabled: this.opts.bind ?? false,
      rules: this.opts.bindRules ?? DEFAULT_BIND_RULES,
      publicAddr: this.opts.publicAddr,
      mux: this.opts.mux ?? {},
      lingerMs: this.opts.lingerMs,
      udpBufferSize: this.opts.udpBufferSize ?? DEFAULT_UDP_BUFFER_SIZE,
      observer: this.opts.udpObserver,
    };
  }

  async handle(conn: Conn, ctx: HandlerContext): Promise<void> {
    const log = ctx.log;
    conn.on('error', (err: Error) => log.debug({ err: err.message }, 'relay: client connection error'));
    try {
      let req: RelayRequest;
      try {
        req = (
          await readUntil(conn, parseRelayRequest, {
            maxBytes: MAX_HEAD_BYTES,
            errorCode: 'ERR_RELAY_PROTOCOL',
            signal: ctx.signal,
            timeoutMs: this.opts.readTimeoutMs ?? DEFAULT_RELAY_READ_TIMEOUT_MS,
          })
        ).value;
      } catch (err) {
        log.info({ err: toError(err).message }, 'relay: bad request');
        ctx.fail?.('relay: bad request');
        return;
      }
      const facts = featureFacts(req.features);
      const { authenticator } = this.opts;
      if (authenticator && !authenticator.authenticate(facts.username, facts.password)) {
        log.info({ user: facts.username }, 'relay: authentication failed');
        ctx.fail?.('relay: authentication failed');
        await endGracefully(conn, encodeRelayResponse(STATUS_UNAUTHORIZED));
        return;
      }
      const rlog = facts.username !== '' ? log.child({ user: facts.username }) : log;
      const udp = req.udp || facts.network === NETWORK_UDP;
      const targets = this.opts.targets ?? [];
      if (udp && (targets.length > 0 || req.cmd === 0 || req.cmd === CMD_CONNECT)) {
        const fixed = targets.length > 0;
        const target = fixed ? (targets[this.next++ % targets.length] as string) : facts.address;
        await connectUdpAndRelay(
          conn,
          target,
          ctx,
          rlog.child({ cmd: fixed ? 'forward' : 'connect', network: 'udp', dst: target }),
          {
            failStatus: fixed ? STATUS_HOST_UNREACHABLE : STATUS_NETWORK_UNREACHABLE,
            observer: this.opts.udpObserver,
          },
        );
        return;
      }
      if (udp && req.cmd === CMD_BIND) {
        await handleRelayUdpBind(conn, facts.address || ':0', ctx, rlog, this.bindOptions());
        return;
      }
      if (udp) {
        rlog.info({ cmd: req.cmd }, 'relay: unknown UDP command');
        ctx.fail?.('relay: unknown UDP command');
        await endGracefully(conn, encodeRelayResponse(STATUS_BAD_REQUEST));
        return;
      }
      if (targets.length > 0) {
        const target = targets[this.next++ % targets.length] as string;
        await connectAndRelay(conn, target, ctx, rlog.child({ cmd: 'forward' }), {
          failStatus: STATUS_HOST_UNREACHABLE,
          lingerMs: this.opts.lingerMs,
        });
        return;
      }
      switch (req.cmd) {
        case 0:
        case CMD_CONNECT:
          await connectAndRelay(
            conn,
            facts.address,
            ctx,
            rlog.child({ cmd: 'connect', dst: facts.address }),
            {
              failStatus: STATUS_NETWORK_UNREACHABLE,
              lingerMs: this.opts.lingerMs,
            },
          );
          return;
        case CMD_BIND:
          await handleRelayBind(conn, facts.address || ':0', ctx, rlog, this.bindOptions());
          return;
        default:
          rlog.info({ cmd: req.cmd }, 'relay: unknown command');
          ctx.fail?.('relay: unknown command');
          await endGracefully(conn, encodeRelayResponse(STATUS_BAD_REQUEST));
          return;
      }
    } catch (err) {
      log.debug({ err: toError(err).message }, 'relay: handler failed');
      ctx.fail?.('relay: handler failed');
    } finally {
      if (!conn.destroyed) conn.destroy();
    }
  }
}
