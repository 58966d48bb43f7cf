import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts';
import { dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import { newId } from '@wa/domain';
import { DataSource } from 'typeorm';
import { GATEWAY_MIGRATIONS } from '../src/database/migrations';
import type { StoredEvent } from '../src/events/events.repository';
import { WebhooksRepository, type DeliveryJob, type DeliveryResult } from '../src/webhooks/webhooks.repository';

const LEASE = 30_000;

/**
 * The delivery claim on both databases: only the head of an (endpoint, session) queue goes out,
 * one at a time and in sequence order, while the heads of other queues keep going; a head that
 * failed holds its queue until its retry is due; an expired claim is given out again; a disabled
 * endpoint's queues give nothing.
 */
describe.each(['sqlite', 'postgres'] as const)('webhook delivery claim on %s', (kind) => {
  const targets = freshDatabaseTargets('gateway_webhook_claim');
  let db: DataSource;
  let repo: WebhooksRepository;
  let position = 0;

  const hook = async (status: 'enabled' | 'disabled' = 'enabled'): Promise<string> => {
    const id = newId();
    const now = Date.now();
    await repo.insert({
      id, orgId: 'org', url: 'http://127.0.0.1:9/', events: ['*'], sessionIds: [], description: '', secret: 'whsec_x',
      previousSecret: null, previousSecretExpiresAt: null, status, disabledReason: null, disabledAt: null, createdAt: now, updatedAt: now,
    });
    return id;
  };
  /** Records `count` events of one session (sequences 1..count) and queues them for `webhookId`. */
  const queue = async (webhookId: string, sessionId: string, count: number, now: number): Promise<StoredEvent[]> => {
    const events: StoredEvent[] = [];
    for (let seq = 1; seq <= count; seq++) {
      const e: StoredEvent = { id: newId(), orgId: 'org', sessionId, type: 'message.received' as StoredEvent['type'], data: '{}', occurredAt: now, recordedAt: now, sequence: seq, position: ++position };
      await db.query(
        kind === 'postgres'
          ? 'INSERT INTO events (id, org_id, session_id, type, data, occurred_at, recorded_at, sequence, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)'
          : 'INSERT INTO events (id, org_id, session_id, type, data, occurred_at, recorded_at, sequence, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [e.id, e.orgId, e.sessionId, e.type, e.data, e.occurredAt, e.recordedAt, e.sequence, e.position],
      );
      events.push(e);
    }
    await db.transaction((tx) => repo.createDeliveries(tx, events, webhookId, now));
    return events;
  };
  const finish = (job: DeliveryJob, result: DeliveryResult, now: number, nextAttemptAt = now) =>
    repo.record([{ job, result, nextAttemptAt, attempt: { id: newId(), attemptedAt: now, statusCode: result === 'delivered' ? 200 : 500, latencyMs: 1, error: null, responseBody: null } }], now);
  const claim = (now: number, limit = 100) => repo.claim(newId(), now, LEASE, limit);
  const key = (j: DeliveryJob) => `${j.webhookId}/${j.sessionKey}#${j.event.sequence}`;

  beforeAll(async () => {
    await ensureDatabaseSchema(targets[kind]);
    db = new DataSource(buildDataSourceOptions({ target: targets[kind], entities: [], migrations: GATEWAY_MIGRATIONS, migrationsTableName: 'gateway_migrations' }));
    await db.initialize();
    await db.runMigrations();
    repo = new WebhooksRepository(db);
  });
  beforeEach(async () => {
    for (const table of ['webhook_attempts', 'webhook_deliveries', 'webhooks', 'events']) await db.query(`DELETE FROM ${table}`);
  });
  afterAll(async () => {
    await db?.destroy();
    await dropPostgresSchema(targets.postgres);
  });

  it('gives out the head of every queue, then nothing until a head is finished, then its successor', async () => {
    const now = Date.now();
    const [a, b] = [await hook(), await hook()];
    await queue(a, 's1', 3, now);
    await queue(a, 's2', 3, now);
    await queue(b, 's1', 3, now);
    const heads = await claim(now);
    expect(heads.map(key).sort()).toEqual([`${a}/s1#1`, `${a}/s2#1`, `${b}/s1#1`].sort());
    // Every head is in flight: no queue gives a second delivery.
    expect(await claim(now)).toEqual([]);
    const a1 = heads.find((j) => j.webhookId === a && j.sessionKey === 's1')!;
    await finish(a1, 'delivered', now);
    // Only that queue moves on, to its next sequence; the others are still held by their heads.
    expect((await claim(now)).map(key)).toEqual([`${a}/s1#2`]);
    expect(await claim(now)).toEqual([]);
  });

  it('goes through a queue in sequence order, one at a time', async () => {
    const now = Date.now();
    const a = await hook();
    await queue(a, 's1', 5, now);
    const order: number[] = [];
    for (let i = 0; i < 5; i++) {
      const jobs = await claim(now);
      expect(jobs).toHaveLength(1);
      order.push(jobs[0].event.sequence);
      await finish(jobs[0], 'delivered', now);
    }
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(await claim(now)).toEqual([]);
  });

  it('holds a queue behind a failed head until its retry is due, and leaves other queues alone', async () => {
    const now = Date.now();
    const a = await hook();
    await queue(a, 's1', 3, now);
    await queue(a, 's2', 2, now);
    const heads = await claim(now);
    const s1 = heads.find((j) => j.sessionKey === 's1')!;
    const s2 = heads.find((j) => j.sessionKey === 's2')!;
    await finish(s1, 'retry', now, now + 60_000);
    await finish(s2, 'delivered', now);
    // s1's followers are due, but its head is not: only s2 moves on.
    const s2next = await claim(now + 1000);
    expect(s2next.map(key)).toEqual([`${a}/s2#2`]);
    expect(await claim(now + 1000)).toEqual([]);
    await finish(s2next[0], 'delivered', now + 1000);
    const retried = await claim(now + 61_000);
    expect(retried.map(key)).toEqual([`${a}/s1#1`]);
    expect(retried[0].attemptCount).toBe(1);
  });

  it('gives an expired claim out again, and not before it expires', async () => {
    const now = Date.now();
    const a = await hook();
    await queue(a, 's1', 2, now);
    const [first] = await claim(now);
    expect(await claim(now + LEASE - 1)).toEqual([]);
    const again = await claim(now + LEASE + 1);
    expect(again.map(key)).toEqual([`${a}/s1#1`]);
    expect(again[0].id).toBe(first.id);
    // The first worker's late result no longer counts: the claim is the second worker's now.
    await finish(first, 'delivered', now + LEASE + 2);
    expect(await claim(now + LEASE + 3)).toEqual([]);
    await finish(again[0], 'delivered', now + LEASE + 3);
    expect((await claim(now + LEASE + 4)).map(key)).toEqual([`${a}/s1#2`]);
  });

  it("skips a disabled endpoint's queues", async () => {
    const now = Date.now();
    const [on, off] = [await hook(), await hook('disabled')];
    await queue(off, 's1', 2, now);
    await queue(on, 's1', 2, now);
    await queue(off, 's2', 2, now);
    expect((await claim(now)).map(key)).toEqual([`${on}/s1#1`]);
  });

  it('gives out the earliest due heads first, up to the limit', async () => {
    const now = Date.now();
    const a = await hook();
    for (let s = 0; s < 5; s++) await queue(a, `s${s}`, 2, now - 1000 * s);
    const jobs = await claim(now, 2);
    expect(jobs.map((j) => j.sessionKey).sort()).toEqual(['s3', 's4']);
  });
});
