import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { isId } from '@wa/domain';
import { connect, Events, type NatsConnection } from 'nats';
import { GatewayConfig } from '../config/gateway.config';

/** `<NATS_SUBJECT_PREFIX>.gateway.api-keys.revoked`, beside the runner's `<prefix>.gateway.events`. */
export const API_KEY_REVOKED_SUBJECT = 'gateway.api-keys.revoked';
// How long a revocation waits for NATS before it answers anyway (the key cache then bounds it).
const ANNOUNCE_TIMEOUT_MS = 1_000;
// How long a starting gateway waits for NATS before it serves without the broadcast (logged).
const LISTEN_TIMEOUT_MS = 5_000;

export interface RevocationHandlers {
  /** A key was revoked on some gateway, or with the CLI. */
  revoked(id: string): void;
  /** The connection was lost and is back: revocations sent meanwhile were not received. */
  mayHaveMissed(): void;
}

/**
 * Broadcasts API key revocations to every gateway over NATS (scale-out), so that a revoked key
 * stops working everywhere within milliseconds instead of when each replica's key cache (5 s)
 * expires. Plain publish/subscribe without a queue group: every gateway receives every message,
 * the one that revoked included. Without NATS (the embedded configuration) there is one gateway,
 * and the service forgets the key on it directly; the CLI cannot reach it, so there the cache
 * bounds a CLI revocation to 5 s.
 *
 * A connection of its own rather than the runner client's: Nest's client connects lazily on the
 * first call and hides its status events, while this one must be subscribed before the gateway
 * serves and must know when it was cut off. Same servers and subject prefix.
 */
@Injectable()
export class ApiKeyRevocations implements OnApplicationShutdown {
  private readonly logger = new Logger(ApiKeyRevocations.name);
  private connection?: Promise<NatsConnection>;

  constructor(private readonly config: GatewayConfig) {}

  /**
   * Tells every gateway to forget the key; resolves once the NATS server has the message, or
   * after a second without it (then logged: other replicas stop accepting the key within 5 s).
   */
  async announce(id: string): Promise<void> {
    const subject = this.subject();
    if (!subject) return;
    try {
      const nc = await withTimeout(this.connect(false), ANNOUNCE_TIMEOUT_MS);
      nc.publish(subject, JSON.stringify({ id }));
      await withTimeout(nc.flush(), ANNOUNCE_TIMEOUT_MS);
    } catch (err) {
      this.logger.warn({
        msg: 'API key revocation not broadcast over NATS: other gateways stop accepting the key when their cache expires (5 s)',
        keyId: id,
        error: errorMessage(err),
      });
    }
  }

  /** Subscribes to revocations; waits a few seconds for NATS at most, then keeps trying in the background. */
  async listen(handlers: RevocationHandlers): Promise<void> {
    const subject = this.subject();
    if (!subject) return;
    const connected = this.connect(true).then((nc) => {
      nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) return;
          const id = parseRevocation(msg.string());
          if (id) handlers.revoked(id);
        },
      });
      void this.watch(nc, handlers);
    });
    connected.catch(() => undefined);
    try {
      await withTimeout(connected, LISTEN_TIMEOUT_MS);
    } catch (err) {
      this.logger.warn({ msg: 'NATS not reachable yet: revocations on other gateways take effect here within 5 s (the key cache) until it is', error: errorMessage(err) });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const connection = this.connection;
    this.connection = undefined;
    if (!connection) return;
    // A connection still waiting for a NATS that never came is closed whenever it arrives;
    // shutdown does not wait for it.
    const closed = connection.then((nc) => (nc.isClosed() ? undefined : nc.close()));
    await withTimeout(closed, ANNOUNCE_TIMEOUT_MS).catch(() => undefined);
  }

  private subject(): string | undefined {
    const { runner } = this.config;
    return runner.kind === 'nats' ? `${runner.subjectPrefix}.${API_KEY_REVOKED_SUBJECT}` : undefined;
  }

  /**
   * One connection per process. A gateway (listening) waits for a NATS that is down at start and
   * reconnects forever; the CLI (announcing only) gives up at once rather than hang.
   */
  private connect(listening: boolean): Promise<NatsConnection> {
    const { runner } = this.config;
    if (runner.kind !== 'nats') throw new Error('NATS is not configured');
    this.connection ??= connect({
      servers: runner.servers,
      name: 'wa-gateway-api-key-revocations',
      waitOnFirstConnect: listening,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // A silently dead link is noticed within about 20 s instead of the default 4 minutes.
      pingInterval: 10_000,
    });
    const connection = this.connection;
    connection.catch(() => {
      if (this.connection === connection) this.connection = undefined;
    });
    return connection;
  }

  private async watch(nc: NatsConnection, handlers: RevocationHandlers): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === Events.Disconnect) {
        this.logger.warn({ msg: 'NATS connection lost: revocations on other gateways take effect here within 5 s (the key cache) until it is back' });
      } else if (status.type === Events.Reconnect) {
        // Whatever was revoked meanwhile never arrived: forget every cached key rather than wait for the cache.
        handlers.mayHaveMissed();
        this.logger.log({ msg: 'NATS connection back: API key revocations are broadcast again' });
      }
    }
  }
}

function parseRevocation(text: string): string | undefined {
  try {
    const { id } = JSON.parse(text) as { id?: unknown };
    return typeof id === 'string' && isId(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`NATS did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
