import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { SessionRef } from '@wa/contracts/runtime';
import { BoundedSet, isLidJid, normalizeJid } from '@wa/domain';
import type { WaConnection, WaReceived } from '@wa/wa-adapter';
import { MessageStore } from '../messages/message-store';
import { ConnectionObservers } from '../sessions/connection-observers';

type AckOutcome = 'acked' | 'failed';

/** Ids of our messages whose successful ack this process saw lately, by `session|message`. */
const ACKS_SEEN_KEPT = 20_000;

interface AckWait {
  settle: (outcome: AckOutcome) => void;
  outcome?: AckOutcome;
}

/**
 * What messaging learns from live connections: server acks a send is waiting for, the latest
 * status of our messages, edits and revokes of stored messages, incoming poll votes (the tally)
 * and contacts' push names.
 */
@Injectable()
export class MessagingObserver implements OnModuleInit {
  private readonly logger = new Logger(MessagingObserver.name);
  private readonly acks = new Map<string, AckWait>();
  private readonly acksSeen = new BoundedSet<string>(ACKS_SEEN_KEPT);

  constructor(
    private readonly observers: ConnectionObservers,
    private readonly store: MessageStore,
  ) {}

  onModuleInit(): void {
    this.observers.register((ref, connection) => this.observe(ref, connection));
    this.observers.registerBeforeReceipt((ref, received) => this.apply(ref.sessionId, received));
  }

  /** What an edit, a deletion or a vote changes in the store; idempotent (the newest wins, a deletion stays). */
  private async apply(sessionId: string, received: WaReceived): Promise<void> {
    switch (received.kind) {
      case 'edit':
        if (received.edit.text !== undefined) await this.store.recordEdit(sessionId, received.edit.target, received.edit.text, received.edit.timestampMs);
        return;
      case 'revoke':
        return this.store.recordRevoke(sessionId, received.revoke.target, received.revoke.timestampMs);
      case 'pollVote': {
        const v = received.vote;
        const voter = await this.canonical(sessionId, v.voterJid);
        return this.store.saveVote(sessionId, { pollId: v.poll.id, chatJid: v.poll.chatJid, voter, selected: v.selectedOptions, timestampMs: v.timestampMs });
      }
      default:
        return;
    }
  }

  /**
   * Whether this process saw WhatsApp acknowledge `messageId`. A send answers `sent` as soon as
   * the ack arrives, while the StatusRecorder is still committing it; a retry of the same id in
   * that window must not report less than the first answer did.
   */
  sawAck(sessionId: string, messageId: string): boolean {
    return this.acksSeen.has(`${sessionId}|${messageId}`);
  }

  /**
   * Registers interest in the server ack of `messageId` before it is sent (the ack can beat the
   * send's own promise); `wait` resolves with the outcome, or undefined when none came in time.
   */
  expectAck(sessionId: string, messageId: string): {
    wait: (ms: number) => Promise<AckOutcome | undefined>;
    settled: () => AckOutcome | undefined;
    cancel: () => void;
  } {
    const id = `${sessionId}|${messageId}`;
    let resolveWait: ((o: AckOutcome) => void) | undefined;
    const entry: AckWait = {
      settle: (outcome) => {
        entry.outcome ??= outcome;
        resolveWait?.(entry.outcome);
      },
    };
    this.acks.set(id, entry);
    return {
      wait: (ms) =>
        entry.outcome
          ? Promise.resolve(entry.outcome)
          : new Promise<AckOutcome | undefined>((resolve) => {
              const timer = setTimeout(() => resolve(undefined), ms);
              resolveWait = (o) => {
                clearTimeout(timer);
                resolve(o);
              };
            }),
      // The outcome so far, without waiting; from here on an ack of this id is the observer's alone.
      settled: () => {
        if (this.acks.get(id) === entry) this.acks.delete(id);
        return entry.outcome;
      },
      cancel: () => {
        if (this.acks.get(id) === entry) this.acks.delete(id);
      },
    };
  }

  private observe(ref: SessionRef, connection: WaConnection): () => void {
    const { sessionId } = ref;
    const run = (work: () => Promise<void>): void => {
      work().catch((err: unknown) => this.logger.error({ msg: 'failed to record messaging state', sessionId, error: (err as Error).message }));
    };
    const offs = [
      // The status itself (send log, store, event) is recorded by the session's StatusRecorder.
      connection.on('messageStatus', (u) => {
        if (!u.key.fromMe || u.status === 'pending') return;
        const id = `${sessionId}|${u.key.id}`;
        if (u.status === 'error') this.acksSeen.delete(id);
        else this.acksSeen.add(id);
        this.acks.get(id)?.settle(u.status === 'error' ? 'failed' : 'acked');
      }),
      connection.on('pollVote', (vote) => run(() => this.apply(sessionId, { kind: 'pollVote', vote }))),
      connection.on('edit', (edit) => run(() => this.apply(sessionId, { kind: 'edit', edit }))),
      connection.on('revoke', (revoke) => run(() => this.apply(sessionId, { kind: 'revoke', revoke }))),
      connection.on('message', (m) => {
        if (m.key.fromMe || !m.pushName) return;
        const author = m.key.participant ?? m.key.chatJid;
        run(() => this.store.saveName(sessionId, normalizeJid(author), m.pushName!));
      }),
    ];
    return () => offs.forEach((off) => off());
  }

  /** One voter, one row: the phone-number form when known, whichever form the vote decrypted with. */
  private async canonical(sessionId: string, jid: string): Promise<string> {
    const j = normalizeJid(jid);
    if (!isLidJid(j)) return j;
    return (await this.store.alternateJid(sessionId, j)) ?? j;
  }
}
