import type { DataSource } from 'typeorm';
import type { EventOutbox } from '../events/event-outbox';
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

  function recorder() {
    const sendLog = { acked: jest.fn(async () => undefined), refused: jest.fn(async () => undefined) };
    const messages = { advanceStatus: jest.fn(async () => true), pairOf: jest.fn(async (_s: string, jid: string) => ({ jid })) };
    const events = { record: jest.fn(async () => undefined), wake: jest.fn() };
    const r = new StatusRecorder({} as DataSource, messages as unknown as MessageStore, sendLog as unknown as SendLog, events as unknown as EventOutbox);
    return { r, sendLog, messages, events };
  }

  it('marks the send log refused on an error ack, stores failed and reports it', async () => {
    const { r, sendLog, messages, events } = recorder();
    await r.record(ref, { key, status: 'error', timestampMs: 1 });
    expect(sendLog.refused).toHaveBeenCalledWith('sess-1', '3EB0AAAA');
    expect(sendLog.acked).not.toHaveBeenCalled();
    expect(messages.advanceStatus).toHaveBeenCalledWith('sess-1', '3EB0AAAA', 'failed');
    expect(events.record).toHaveBeenCalledWith('org-1', 'sess-1', 'message.status', expect.objectContaining({ messageId: '3EB0AAAA', status: 'failed' }));
  });

  it('marks the send log acked on a server ack, and never refused', async () => {
    const { r, sendLog } = recorder();
    await r.record(ref, { key, status: 'server_ack', timestampMs: 1 });
    expect(sendLog.acked).toHaveBeenCalledWith('sess-1', '3EB0AAAA');
    expect(sendLog.refused).not.toHaveBeenCalled();
  });

  it('ignores statuses of messages that are not ours', async () => {
    const { r, sendLog, events } = recorder();
    await r.record(ref, { key: { ...key, fromMe: false }, status: 'error', timestampMs: 1 });
    expect(sendLog.refused).not.toHaveBeenCalled();
    expect(events.record).not.toHaveBeenCalled();
  });
});
