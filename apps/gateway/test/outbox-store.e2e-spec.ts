import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts';
import { dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import { idFloor, newId } from '@wa/domain';
import { DataSource } from 'typeorm';
import { GATEWAY_MIGRATIONS } from '../src/database/migrations';
import { OutboxStore, type NewOutboxEntry } from '../src/messages/outbox.store';

const DAY = 86_400_000;

/**
 * The dispatcher's per-chat claim and the purge of finished entries, on both databases: a chat
 * gives out its oldest waiting entry only, one at a time, and the purge deletes finished entries
 * accepted before the cut-off and nothing that still waits.
 */
describe.each(['sqlite', 'postgres'] as const)('outbox store on %s', (kind) => {
  const targets = freshDatabaseTargets('gateway_outbox');
  let db: DataSource;
  let store: OutboxStore;
  // newId never goes back in time (it is monotonic), so an entry accepted days ago gets its id
  // from idFloor of that millisecond.
  const entry = (chat: string, createdAt?: number): NewOutboxEntry => ({
    id: createdAt === undefined ? newId() : idFloor(createdAt),
    orgId: 'org',
    sessionId: 's1',
    chat,
    kind: 'send',
    action: '{}',
    waMessageId: `WA${newId()}`,
    mode: 'async',
    createdAt: createdAt ?? Date.now(),
  });
  const claimHead = (chat: string, now = Date.now()) => store.claimChatHead('s1', chat, newId(now), now, now + 15_000);

  beforeAll(async () => {
    await ensureDatabaseSchema(targets[kind]);
    db = new DataSource(buildDataSourceOptions({ target: targets[kind], entities: [], migrations: GATEWAY_MIGRATIONS, migrationsTableName: 'gateway_migrations' }));
    await db.initialize();
    await db.runMigrations();
    store = new OutboxStore(db);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropPostgresSchema(targets.postgres);
  });

  it("gives out a chat's entries in order, one at a time", async () => {
    const [a, b] = [entry('chat-1'), entry('chat-1')];
    await store.accept(a);
    await store.accept(b);
    await store.accept(entry('chat-2'));
    const first = await claimHead('chat-1');
    expect(first?.id).toBe(a.id);
    // The head is held: nothing else of the chat goes while it is in flight.
    expect(await claimHead('chat-1')).toBeUndefined();
    // Other chats are not held up by it.
    expect((await claimHead('chat-2'))?.chat).toBe('chat-2');
    await store.finishHandedOver(a.id, first!.claimToken!, 'sent', Date.now());
    expect((await claimHead('chat-1'))?.id).toBe(b.id);
  });

  it('does not give out a head that is not due yet', async () => {
    const c = entry('chat-3');
    await store.accept(c);
    const now = Date.now();
    const claimed = await claimHead('chat-3', now);
    await store.finishRetry(c.id, claimed!.claimToken!, 'session_not_connected: later', now + 60_000, now);
    expect(await claimHead('chat-3', now + 1000)).toBeUndefined();
    expect((await claimHead('chat-3', now + 61_000))?.id).toBe(c.id);
  });

  it('purges finished entries accepted before the cut-off, in batches, and keeps waiting ones', async () => {
    const old = Date.now() - 10 * DAY;
    const finished: NewOutboxEntry[] = [];
    for (let i = 0; i < 5; i++) finished.push(entry(`old-${i}`, old + i));
    const waiting = entry('old-waiting', old + 10);
    for (const e of [...finished, waiting]) await store.accept(e);
    for (const e of finished) {
      const claimed = await claimHead(e.chat);
      await store.finishHandedOver(e.id, claimed!.claimToken!, 'sent', Date.now());
    }
    const recent = entry('recent');
    await store.accept(recent);
    const recentClaim = await claimHead('recent');
    await store.finishHandedOver(recent.id, recentClaim!.claimToken!, 'sent', Date.now());

    const cutoff = idFloor(Date.now() - 7 * DAY);
    expect(await store.purgeFinished(cutoff, 3)).toBe(3);
    expect(await store.purgeFinished(cutoff, 3)).toBe(2);
    expect(await store.purgeFinished(cutoff, 3)).toBe(0);
    for (const e of finished) expect(await store.byId(e.id)).toBeUndefined();
    expect((await store.byId(waiting.id))?.status).toBe('queued');
    expect((await store.byId(recent.id))?.status).toBe('sent');
  });
});
