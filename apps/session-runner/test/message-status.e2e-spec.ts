import { dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import type { DataSource } from 'typeorm';
import type { MessageStore, OwnMessageStatus } from '../src/messages/message-store';
import { WaMessageEntity } from '../src/messages/wa-message.entity';
import { runnerMessageStore } from './support/runner-database';

/**
 * The status of our own messages in the runner's store, on both databases: it only moves
 * forward when receipts race each other, and a receipt that beats the write of its message is
 * not lost.
 */
describe.each(['sqlite', 'postgres'] as const)('own message status on %s', (kind) => {
  const targets = freshDatabaseTargets('runner_status');
  let db: DataSource;
  let store: MessageStore;
  const SESSION = 's1';
  const CHAT = '15550000001@s.whatsapp.net';
  const save = (id: string) =>
    store.save({ sessionId: SESSION, key: { chatJid: CHAT, id, fromMe: true }, type: 'text', timestampMs: Date.now(), raw: new Uint8Array([1]) });
  const statusOf = async (id: string) => (await db.getRepository(WaMessageEntity).findOneByOrFail({ sessionId: SESSION, messageId: id })).status;

  beforeAll(async () => {
    ({ db, store } = await runnerMessageStore(targets[kind]));
  });
  afterAll(async () => {
    await db?.destroy();
    await dropPostgresSchema(targets.postgres);
  });

  it('never moves back, whatever order the receipts are handled in', async () => {
    const orders: OwnMessageStatus[][] = [
      ['sent', 'delivered', 'read'],
      ['read', 'delivered', 'sent'],
      ['delivered', 'read', 'sent'],
    ];
    for (const [i, order] of orders.entries()) {
      await save(`order-${i}`);
      // All at once: each is one conditional statement, so none can undo another.
      await Promise.all(order.map((status) => store.advanceStatus(SESSION, `order-${i}`, status)));
      expect({ order, status: await statusOf(`order-${i}`) }).toEqual({ order, status: 'read' });
    }
  });

  it('takes `failed` only for a message without a status, and a receipt after it', async () => {
    await save('acked');
    await store.advanceStatus(SESSION, 'acked', 'sent');
    await store.advanceStatus(SESSION, 'acked', 'failed');
    expect(await statusOf('acked')).toBe('sent');
    await save('refused');
    await store.advanceStatus(SESSION, 'refused', 'failed');
    await store.advanceStatus(SESSION, 'refused', 'sent');
    expect(await statusOf('refused')).toBe('failed');
    await store.advanceStatus(SESSION, 'refused', 'read');
    expect(await statusOf('refused')).toBe('read');
  });

  it('tells a receipt applied twice from a first one, stored or still early', async () => {
    await save('twice');
    const moves = [];
    for (const status of ['delivered', 'delivered', 'read', 'delivered', 'read'] as const) moves.push(await store.advanceStatus(SESSION, 'twice', status));
    expect(moves).toEqual([true, false, true, false, false]);
    const early = [];
    for (const status of ['read', 'read', 'delivered'] as const) early.push(await store.advanceStatus(SESSION, 'early-twice', status));
    expect(early).toEqual([true, false, false]);
  });

  it('keeps a receipt that arrived before its message was stored and applies it on save', async () => {
    await store.advanceStatus(SESSION, 'early', 'delivered');
    await store.advanceStatus(SESSION, 'early', 'sent');
    await save('early');
    expect(await statusOf('early')).toBe('delivered');
    // Applied once: a later save of another message does not pick it up again.
    await save('later');
    expect(await statusOf('later')).toBeNull();
  });
});
