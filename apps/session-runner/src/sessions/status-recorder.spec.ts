import type { DataSource } from 'typeorm';
import type { EventOutbox } from '../events/event-outbox';
import type { MemberReceipts } from '../messages/member-receipts';
import type { MessageStore } from '../messages/message-store';
import type { SendLog } from '../messages/send-log';
import { StatusRecorder } from './status-recorder';

/**
 * The acks: each one is news. An error ack (WhatsApp refused the id) can come after an async
 * hand-over stopped waiting for it, so the recorder, not the sender, has to leave the send log
 * open for a retry; a successful one is the proof that the id left.
 */
describe(StatusRecorder.name, () => {
  const ref = { orgId: 'org-1', sessionId: 'sess-1' };
  const key = { id: '3EB0AAAA', chatJid: '4917000000001@s.whatsapp.net', fromMe: true };

  /** `kept`: the member receipts the database holds, shared by recorders as by runners on one database. */
  function recorder(kept = new Set<string>()) {
    const sendLog = {
      acked: jest.fn(async () => undefined),
      refused: jest.fn(async () => undefined),
      ackedStep: jest.fn((s: string, m: string) => ({ sql: 'acked', params: [s, m], proof: 'acked' })),
      refusedStep: jest.fn((s: string, m: string) => ({ sql: 'refused', params: [s, m], proof: 'refused' })),
      ackedWritten: jest.fn(),
    };
    const messages = { advanceStatus: jest.fn(async () => true), advanceStatusWith: jest.fn(async () => true), pairOf: jest.fn(async (_s: string, jid: string) => ({ jid: jid.replace('@lid', '@s.whatsapp.net') })) };
    const events = {
      record: jest.fn(async () => undefined),
      wake: jest.fn(),
      step: jest.fn((o: string, s: string, t: string, d: unknown) => ({ sql: 'event', params: [o, s, t, d] })),
    };
    const receipts = {
      record: jest.fn(async (_m: unknown, r: { messageId: string; member: string; status: string }) => {
        const k = `${r.messageId}|${r.member}|${r.status}`;
        if (kept.has(k)) return false;
        kept.add(k);
        return true;
      }),
    };
    const manager = {};
    const dataSource = { options: { type: 'postgres' }, transaction: async (work: (m: unknown) => Promise<unknown>) => work(manager) };
    const r = new StatusRecorder(
      dataSource as unknown as DataSource,
      messages as unknown as MessageStore,
      sendLog as unknown as SendLog,
      events as unknown as EventOutbox,
      receipts as unknown as MemberReceipts,
    );
    return { r, sendLog, messages, events, receipts, kept };
  }

  it('marks the send log refused on an error ack, stores failed and reports it, in one commit', async () => {
    const { r, sendLog, messages, events } = recorder();
    await r.record(ref, { key, status: 'error', timestampMs: 1 });
    expect(sendLog.refusedStep).toHaveBeenCalledWith('sess-1', '3EB0AAAA');
    expect(sendLog.ackedStep).not.toHaveBeenCalled();
    expect(sendLog.acked).not.toHaveBeenCalled();
    const event = { sql: 'event', params: ['org-1', 'sess-1', 'message.status', expect.objectContaining({ messageId: '3EB0AAAA', status: 'failed' })] };
    expect(messages.advanceStatusWith).toHaveBeenCalledWith('sess-1', '3EB0AAAA', 'failed', { sql: 'refused', params: ['sess-1', '3EB0AAAA'], proof: 'refused' }, event, true);
    expect(events.wake).toHaveBeenCalled();
  });

  it('marks the send log acked on a server ack, and never refused', async () => {
    const { r, sendLog, messages } = recorder();
    await r.record(ref, { key, status: 'server_ack', timestampMs: 1 });
    expect(sendLog.ackedStep).toHaveBeenCalledWith('sess-1', '3EB0AAAA');
    expect(messages.advanceStatusWith).toHaveBeenCalledWith('sess-1', '3EB0AAAA', 'sent', { sql: 'acked', params: ['sess-1', '3EB0AAAA'], proof: 'acked' }, expect.anything(), true);
    expect(sendLog.ackedWritten).toHaveBeenCalledWith('sess-1', '3EB0AAAA');
    expect(sendLog.refusedStep).not.toHaveBeenCalled();
    expect(sendLog.refused).not.toHaveBeenCalled();
  });

  it('ignores statuses of messages that are not ours', async () => {
    const { r, sendLog, events, messages } = recorder();
    await r.record(ref, { key: { ...key, fromMe: false }, status: 'error', timestampMs: 1 });
    expect(sendLog.refusedStep).not.toHaveBeenCalled();
    expect(messages.advanceStatusWith).not.toHaveBeenCalled();
    expect(events.step).not.toHaveBeenCalled();
    expect(events.record).not.toHaveBeenCalled();
  });

  describe('a group member\'s receipt', () => {
    const groupKey = { id: '3EB0BBBB', chatJid: '120363000000000001@g.us', fromMe: true };
    const member = '111111111111111@lid';
    const read = { key: groupKey, status: 'read' as const, recipient: member, timestampMs: 1767225600000 };

    it('is kept under the member\'s canonical jid in the transaction of its event, even when the message\'s status did not move', async () => {
      const { r, messages, events, receipts } = recorder();
      messages.advanceStatus.mockResolvedValue(false);
      await r.record(ref, read);
      expect(receipts.record).toHaveBeenCalledWith({}, { sessionId: 'sess-1', messageId: '3EB0BBBB', member: '111111111111111@s.whatsapp.net', status: 'read', at: 1767225600000 });
      expect(events.record).toHaveBeenCalledTimes(1);
      expect(events.record).toHaveBeenCalledWith('org-1', 'sess-1', 'message.status', expect.objectContaining({ status: 'read', recipient: { jid: '111111111111111@s.whatsapp.net' } }), {});
    });

    it('is not reported again when WhatsApp delivers it to the next runner', async () => {
      const first = recorder();
      await first.r.record(ref, read);
      const next = recorder(first.kept);
      await next.r.record(ref, read);
      expect(next.receipts.record).toHaveBeenCalledTimes(1);
      expect(next.events.record).not.toHaveBeenCalled();
    });

    it('is claimed before its first await: two overlapping passes record it once', async () => {
      const { r, events, receipts } = recorder();
      await Promise.all([r.record(ref, read), r.record(ref, read)]);
      expect(receipts.record).toHaveBeenCalledTimes(1);
      expect(events.record).toHaveBeenCalledTimes(1);
    });

    it('keeps each status that came: a delivery after the read is a row (and an event) of its own', async () => {
      const { r, events, kept } = recorder();
      await r.record(ref, read);
      await r.record(ref, { ...read, status: 'delivered' });
      expect(events.record).toHaveBeenCalledTimes(2);
      expect([...kept].sort()).toEqual(['3EB0BBBB|111111111111111@s.whatsapp.net|delivered', '3EB0BBBB|111111111111111@s.whatsapp.net|read']);
    });
  });
});
