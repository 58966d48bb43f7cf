import { Injectable } from '@nestjs/common';
import { SESSION_STATUSES } from '@wa/contracts/runtime';
import type { WaConnection, WaUndecryptable } from '@wa/wa-adapter';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { toSessionStatus } from '../sessions/session-events.mapper';

/**
 * The runner's Prometheus metrics, in a registry of its own. Counters are bumped synchronously
 * from connection events and sends; the sessions gauge is counted from the live connections
 * when Prometheus scrapes. Labels are bounded sets (statuses, message types), never session ids.
 */
@Injectable()
export class RunnerMetrics {
  readonly registry = new Registry();
  private readonly connections = new Map<string, WaConnection>();

  private readonly reconnects = new Counter({
    name: 'wa_runner_reconnects_total',
    help: 'Times a WhatsApp connection dropped unexpectedly and a reconnect was scheduled.',
    registers: [this.registry],
  });

  private readonly undecryptable = new Counter({
    name: 'wa_runner_decrypt_failures_total',
    help: 'Incoming messages that could not be decrypted (decrypt_failed) or carried nothing to decrypt (no_content).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  private readonly sent = new Counter({
    name: 'wa_runner_messages_sent_total',
    help: 'Messages, reactions, votes, edits and revokes handed to WhatsApp, by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  private readonly received = new Counter({
    name: 'wa_runner_messages_received_total',
    help: 'Messages received from other accounts, by type.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    const connections = this.connections;
    new Gauge({
      name: 'wa_runner_sessions',
      help: 'Sessions whose connection this runner holds, by status.',
      labelNames: ['status'] as const,
      registers: [this.registry],
      collect() {
        const counts = new Map<string, number>(SESSION_STATUSES.map((s) => [s, 0]));
        for (const c of connections.values()) {
          const { status } = toSessionStatus(c.status);
          counts.set(status, (counts.get(status) ?? 0) + 1);
        }
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    // Present from the first scrape on, so that increase() sees the first failure.
    for (const reason of ['decrypt_failed', 'no_content'] as const) this.undecryptable.inc({ reason }, 0);
  }

  /** Follows one session's connection until the returned function detaches it. */
  observe(sessionId: string, connection: WaConnection): () => void {
    this.connections.set(sessionId, connection);
    const offs = [
      connection.on('status', (s) => {
        if (s.state === 'reconnecting') this.reconnects.inc();
      }),
      connection.on('message', (m) => {
        if (!m.key.fromMe) this.received.inc({ type: m.type });
      }),
      connection.on('undecryptable', (u: WaUndecryptable) => this.undecryptable.inc({ reason: u.reason })),
    ];
    return () => {
      offs.forEach((off) => off());
      if (this.connections.get(sessionId) === connection) this.connections.delete(sessionId);
    };
  }

  messageSent(type: string): void {
    this.sent.inc({ type });
  }
}
