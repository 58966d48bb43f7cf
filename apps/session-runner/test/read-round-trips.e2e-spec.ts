import { RPC, type ChatSummary, type ContactSummary, type Page, type StoredMessage } from '@wa/contracts';
import { newId } from '@wa/domain';
import { WaSandbox } from '@wa/wa-sandbox';
import { DataSource } from 'typeorm';
import { MessageStore } from '../src/messages/message-store';
import { ChatStateStore } from '../src/messaging/chat-state.store';
import { LabelStore } from '../src/messaging/label.store';
import { MessagingController } from '../src/messaging/messaging.controller';
import { startRunner, type RunnerUnderTest } from './support/runner-under-test';
import { statementCounter } from './support/statement-counter';

const ORG = 'org_read_trips';
const pn = (n: number) => `1555${String(n).padStart(7, '0')}@s.whatsapp.net`;
const lid = (n: number) => `9${String(n).padStart(11, '0')}@lid`;

/**
 * What the session reads cost PostgreSQL: the statements a read issues, each a round trip. Counted
 * in the read's own async context (the runner's lease, event and socket work runs outside it), on
 * a runner in this process over its real database. A page of chats is the session check and one
 * statement, however many chats, pairs, names, states and labels it shows; a page of messages
 * costs as many statements for 50 messages as for 2.
 */
// About PostgreSQL, so on PostgreSQL in both configurations.
describe('round trips of the session reads (PostgreSQL)', () => {
  let sandbox: WaSandbox;
  let runner: RunnerUnderTest;
  let reads: MessagingController;
  const sessionId = newId();
  const ref = { orgId: ORG, sessionId };
  let counted: ReturnType<typeof statementCounter>;

  beforeAll(async () => {
    sandbox = await (await WaSandbox.create()).start();
    runner = await startRunner(sandbox, 'runner_read_trips', {}, { postgres: true });
    // A session of the org, never linked: reads answer from the store alone.
    await runner.call(RPC.sessionStart, ref);
    reads = runner.app.get(MessagingController);

    const store = runner.app.get(MessageStore);
    for (let i = 1; i <= 60; i++) {
      await store.save({ sessionId, key: { chatJid: pn(i), id: `M${String(i).padStart(4, '0')}`, fromMe: i % 2 === 0 }, type: 'text', timestampMs: 1_000_000 + i * 1000, raw: new Uint8Array(0) });
    }
    for (let i = 1; i <= 50; i++) {
      await store.save({ sessionId, key: { chatJid: pn(60), id: `BUSY${String(i).padStart(4, '0')}`, fromMe: i % 3 === 0 }, type: 'text', timestampMs: 2_000_000 + i, raw: new Uint8Array(0) });
    }
    // A pair, names, a pinned chat and a labelled one on the first page: every part of the read has rows.
    await store.saveLidMapping(sessionId, { lid: lid(59), pn: pn(59) });
    await store.saveName(sessionId, pn(58), 'Pushed');
    await store.saveSavedName(sessionId, pn(57), 'Saved');
    await runner.app.get(ChatStateStore).apply(sessionId, pn(56), { pinnedAt: 1_500_000 }, Date.now());
    await runner.app.get(LabelStore).associate(sessionId, '1', pn(55), '', true);

    // Every statement of a pooled connection is counted in the read that issued it.
    counted = statementCounter(runner.app.get(DataSource));
  });

  afterAll(async () => {
    await runner?.close();
    await sandbox?.stop();
  });

  it('reads a page of chats in two statements: the session check and the page with all it shows', async () => {
    await reads.chatList({ ...ref, limit: 20 }); // prepares the statement on a connection
    const { answer, statements } = await counted(() => reads.chatList({ ...ref, limit: 20 }));
    const page = answer as Page<ChatSummary>;
    expect(page.data.map((c) => c.jid)).toEqual(Array.from({ length: 20 }, (_, i) => pn(60 - i)));
    expect(page.data.find((c) => c.jid === pn(59))).toMatchObject({ pn: pn(59), lid: lid(59) });
    expect(page.data.find((c) => c.jid === pn(58))?.name).toBe('Pushed');
    expect(page.data.find((c) => c.jid === pn(57))?.name).toBe('Saved');
    expect(page.data.find((c) => c.jid === pn(56))?.pinned).toBe(true);
    expect(page.data.find((c) => c.jid === pn(55))?.labels).toEqual(['1']);
    expect(statements).toHaveLength(2);
  });

  it('reads a page deep in the chat list by its cursor in two statements too', async () => {
    let cursor = '';
    for (let i = 0; i < 3; i++) cursor = (await reads.chatList({ ...ref, limit: 10, ...(cursor ? { cursor } : {}) })).nextCursor;
    const { answer, statements } = await counted(() => reads.chatList({ ...ref, limit: 10, cursor }));
    expect((answer as Page<ChatSummary>).data.map((c) => c.jid)).toEqual(Array.from({ length: 10 }, (_, i) => pn(30 - i)));
    expect(statements).toHaveLength(2);
  });

  it('reads a page of contacts in at most three statements (session, our own jid, the page)', async () => {
    const { answer, statements } = await counted(() => reads.contacts({ ...ref, limit: 20 }));
    const page = answer as Page<ContactSummary>;
    expect(page.data).toHaveLength(20);
    expect(page.data[0]).toEqual({ jid: pn(1), pn: pn(1) });
    expect(statements.length).toBeLessThanOrEqual(3);
  });

  it('reads 50 messages of a chat in as many statements as 2, at most five', async () => {
    const few = await counted(() => reads.chatMessages({ ...ref, chat: pn(60), limit: 2 }));
    const many = await counted(() => reads.chatMessages({ ...ref, chat: pn(60), limit: 50 }));
    expect((many.answer as Page<StoredMessage>).data).toHaveLength(50);
    expect((few.answer as Page<StoredMessage>).data.map((m) => m.id)).toEqual(['BUSY0050', 'BUSY0049']);
    expect(many.statements).toHaveLength(few.statements.length);
    expect(many.statements.length).toBeLessThanOrEqual(5);
  });
});
