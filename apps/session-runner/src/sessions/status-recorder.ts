import { Injectable } from '@nestjs/common';
import { BoundedSet } from '@wa/domain';
import { transactionInTurn, type SessionRef } from '@wa/contracts/runtime';
import type { WaMessageStatusUpdate } from '@wa/wa-adapter';
import { DataSource } from 'typeorm';
import { EventOutbox } from '../events/event-outbox';
import { MemberReceipts } from '../messages/member-receipts';
import { MessageStore } from '../messages/message-store';
import { SendLog } from '../messages/send-log';
import { toPublicDeliveryStatus } from './session-events.mapper';

/** Receipts recorded lately, by `session|message|member|status`. */
const RECENT_RECEIPTS_KEPT = 20_000;

/**
 * What a status of one of our messages changes: the send log's proof that the id left, the
 * stored status, and the `message.status` event. The same receipt comes here twice (before its ack
 * to WhatsApp, then as its event) and again when WhatsApp redelivers one whose ack was lost, so a
 * receipt is recorded once, its event in the same transaction as what makes it news: the
 * message's status moved, or, for a group member's receipt (about the member, not the message's
 * status), no row of `wa_member_receipts` held it yet. The second pass of a receipt this process
 * recorded is skipped without a query, and one that comes while the first is under way waits for
 * it rather than repeating its writes.
 */
@Injectable()
export class StatusRecorder {
  private readonly recent = new BoundedSet<string>(RECENT_RECEIPTS_KEPT);
  /** A message's receipt (not a member's) being recorded, by the key of `recent`: its other pass waits for it. */
  private readonly recording = new Map<string, Promise<void>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly messages: MessageStore,
    private readonly sendLog: SendLog,
    private readonly events: EventOutbox,
    private readonly receipts: MemberReceipts,
  ) {}

  async record(ref: SessionRef, u: WaMessageStatusUpdate): Promise<void> {
    const status = toPublicDeliveryStatus(u.status);
    // Statuses are about messages we sent (from here or from the phone), never a contact's.
    if (!status || !u.key.fromMe) return;
    const { orgId, sessionId } = ref;
    const messageId = u.key.id;
    if (status === 'sent' || status === 'failed') {
      // Acks are never redelivered: each one is news. A successful one proves the id left; an
      // error one (WhatsApp refused it, maybe after an async hand-over stopped waiting) lets a
      // retry send it again.
      // The send log, the status and the event: one commit.
      const proof = status === 'sent' ? this.sendLog.ackedStep(sessionId, messageId) : this.sendLog.refusedStep(sessionId, messageId);
      const event = this.events.step(orgId, sessionId, 'message.status', await this.eventData(sessionId, u, status));
      await this.messages.advanceStatusWith(sessionId, messageId, status, proof, event, true);
      if (status === 'sent') this.sendLog.ackedWritten(sessionId, messageId);
      this.events.wake();
      return;
    }
    const receipt = `${sessionId}|${messageId}|${u.recipient ?? ''}|${status}`;
    if (this.recent.has(receipt)) return;
    if (!u.recipient) {
      // The other pass of this receipt is under way: its outcome is this one's (a failure is
      // thrown to both; WhatsApp then delivers the receipt again).
      const running = this.recording.get(receipt);
      if (running) return running;
      const recording = (async () => {
        // Proof that the id left (the send log decides resends after a crash), the status and,
        // when it moved, its event: one commit.
        const proof = this.sendLog.ackedStep(sessionId, messageId);
        const event = this.events.step(orgId, sessionId, 'message.status', await this.eventData(sessionId, u, status));
        if (await this.messages.advanceStatusWith(sessionId, messageId, status, proof, event, false)) this.events.wake();
        this.sendLog.ackedWritten(sessionId, messageId);
        this.remember(receipt);
      })();
      this.recording.set(receipt, recording);
      try {
        return await recording;
      } finally {
        this.recording.delete(receipt);
      }
    }
    // A member's receipt is claimed before the first await: its two passes may overlap.
    this.remember(receipt);
    try {
      // Proof that the id left, for a retry after a crash (the send log decides resends).
      await this.sendLog.acked(sessionId, messageId);
      const data = await this.eventData(sessionId, u, status);
      const recorded = await transactionInTurn(this.dataSource, async (manager) => {
        const moved = await this.messages.advanceStatus(sessionId, messageId, status, manager);
        const news = data.recipient
          ? await this.receipts.record(manager, { sessionId, messageId, member: data.recipient.jid, status, at: u.timestampMs })
          : moved;
        if (!news) return false;
        await this.events.record(orgId, sessionId, 'message.status', data, manager);
        return true;
      });
      if (recorded) this.events.wake();
    } catch (err) {
      this.recent.delete(receipt);
      throw err;
    }
  }

  private async eventData(sessionId: string, u: WaMessageStatusUpdate, status: 'sent' | 'delivered' | 'read' | 'failed') {
    return {
      messageId: u.key.id,
      chat: await this.messages.pairOf(sessionId, u.key.chatJid),
      status,
      ...(u.recipient ? { recipient: await this.messages.pairOf(sessionId, u.recipient) } : {}),
    };
  }

  private remember(receipt: string): void {
    this.recent.add(receipt);
  }
}
