import { Injectable } from '@nestjs/common';
import { transactionInTurn, type SessionRef } from '@wa/contracts';
import type { WaMessageStatusUpdate } from '@wa/wa-adapter';
import { DataSource } from 'typeorm';
import { EventOutbox } from '../events/event-outbox';
import { MessageStore } from '../messages/message-store';
import { SendLog } from '../messages/send-log';
import { toPublicDeliveryStatus } from './session-events.mapper';

/** Group members' receipts recorded lately, by `session|message|member|status`. */
const MEMBER_RECEIPTS_KEPT = 20_000;

/**
 * What a status of one of our messages changes: the send log's proof that the id left, the
 * stored status, and the `message.status` event. The same receipt comes here twice (before its ack
 * to WhatsApp, then as its event) and again when WhatsApp redelivers one whose ack was lost, so a
 * receipt is recorded once: the status moves and its event is made in one transaction, and only
 * when it moved. A group member's receipt is about that member rather than the message's status:
 * it is recognised by what this process recorded lately.
 */
@Injectable()
export class StatusRecorder {
  private readonly memberReceipts = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly messages: MessageStore,
    private readonly sendLog: SendLog,
    private readonly events: EventOutbox,
  ) {}

  async record(ref: SessionRef, u: WaMessageStatusUpdate): Promise<void> {
    const status = toPublicDeliveryStatus(u.status);
    // Statuses are about messages we sent (from here or from the phone), never a contact's.
    if (!status || !u.key.fromMe) return;
    const { orgId, sessionId } = ref;
    const messageId = u.key.id;
    // Proof that the id left, for a retry after a crash (the send log decides resends).
    if (status !== 'failed') await this.sendLog.acked(sessionId, messageId);
    const data = {
      messageId,
      chat: await this.messages.pairOf(sessionId, u.key.chatJid),
      status,
      ...(u.recipient ? { recipient: await this.messages.pairOf(sessionId, u.recipient) } : {}),
    };
    if (status === 'sent' || status === 'failed') {
      // Acks are never redelivered: each one is news.
      await this.messages.advanceStatus(sessionId, messageId, status);
      await this.events.record(orgId, sessionId, 'message.status', data);
      return;
    }
    const member = u.recipient ? `${sessionId}|${messageId}|${u.recipient}|${status}` : undefined;
    if (member && !this.firstOf(member)) return;
    try {
      const recorded = await transactionInTurn(this.dataSource, async (manager) => {
        const moved = await this.messages.advanceStatus(sessionId, messageId, status, manager);
        if (!moved && !member) return false;
        await this.events.record(orgId, sessionId, 'message.status', data, manager);
        return true;
      });
      if (recorded) this.events.wake();
    } catch (err) {
      if (member) this.memberReceipts.delete(member);
      throw err;
    }
  }

  private firstOf(member: string): boolean {
    if (this.memberReceipts.has(member)) return false;
    this.memberReceipts.add(member);
    if (this.memberReceipts.size > MEMBER_RECEIPTS_KEPT) this.memberReceipts.delete(this.memberReceipts.values().next().value as string);
    return true;
  }
}
