import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts';
import { dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import { newId } from '@wa/domain';
import { DataSource } from 'typeorm';
import { GATEWAY_MIGRATIONS } from '../src/database/migrations';
import type { StoredEvent } from '../src/events/events.repository';
import { WebhooksRepository, type DeliveryJob, type DeliveryOffer, type DeliveryResult, type FanOutResult } from '../src/webhooks/webhooks.repository';

const LEASE = 30_000;

/**
 * The delivery claim on both databases: a queue ((endpoint, session)) is given out from its head,
 * in sequence order, to one claimer at a time, while other queues keep going; a head that failed
 * holds its queue until its retry is due; an expired claim is given out again; a disabled
 * endpoint's queues give nothing. With a run length, a queue's due deliveries are claimed
 * together (a run), deliveries handed back unsent keep their place, and a claimer tops up the
 * queues it holds without waiting for their results to be written.
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
  const queue = async (webhookId: string, sessionId: string, count: number, now: number, from = 1, offer?: DeliveryOffer): Promise<{ events: StoredEvent[] } & FanOutResult> => {
    const events: StoredEvent[] = [];
    for (let seq = from; seq < from + count; seq++) {
      const e: StoredEvent = { id: newId(), orgId: 'org', sessionId, type: 'message.received' as StoredEvent['type'], data: '{}', occurredAt: now, recordedAt: now, sequence: seq, position: ++position };
      await db.query(
        kind === 'postgres'
          ? 'INSERT INTO events (id, org_id, session_id, type, data, occurred_at, recorded_at, sequence, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)'
          : 'INSERT INTO events (id, org_id, session_id, type, data, occurred_at, recorded_at, sequence, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [e.id, e.orgId, e.sessionId, e.type, e.data, e.occurredAt, e.recordedAt, e.sequence, e.position],
      );
      events.push(e);
    }
    // Offered deliveries go to every matching endpoint of the org, as a publish does (not a ping's only one).
    return { events, ...(await db.transaction((tx) => repo.createDeliveries(tx, events, offer ? undefined : webhookId, now, offer))) };
  };
  const finish = (job: DeliveryJob, result: DeliveryResult, now: number, nextAttemptAt = now) =>
    repo.record([{ job, result, nextAttemptAt, attempt: { id: newId(), attemptedAt: now, statusCode: result === 'delivered' ? 200 : 500, latencyMs: 1, error: null, responseBody: null } }], now);
  const claim = (now: number, limit = 100) => repo.claim(newId(), now, LEASE, limit);
  const claimRun = (token: string, now: number, run: number, own = 0, limit = 100) => repo.claim(token, now, LEASE, limit, run, own);
  const seqs = (jobs: DeliveryJob[]) => jobs.map((j) => j.event.sequence);
  const attempts = async (id: string) => Number((await db.query(kind === 'postgres' ? 'SELECT attempt_count FROM webhook_deliveries WHERE id = $1' : 'SELECT attempt_count FROM webhook_deliveries WHERE id = ?', [id]))[0].attempt_count);
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

  describe('runs', () => {
    it("claims a queue's due deliveries together, in order, up to the run length; nobody else gets that queue meanwhile", async () => {
      const now = Date.now();
      const a = await hook();
      await queue(a, 's1', 5, now);
      await queue(a, 's2', 2, now);
      const jobs = await claimRun('A', now, 3);
      // Each queue's run consecutive and in sequence order.
      expect(jobs.map(key)).toEqual([`${a}/s1#1`, `${a}/s1#2`, `${a}/s1#3`, `${a}/s2#1`, `${a}/s2#2`]);
      expect(jobs.every((j) => j.claimToken === 'A')).toBe(true);
      // s1#4 and #5 are due too, but behind a claimed run: not for another claimer, and not past the run length.
      expect(await claimRun('B', now, 3)).toEqual([]);
    });

    it('stops a run at the first delivery that is not due', async () => {
      const now = Date.now();
      const a = await hook();
      const { events: [, , third] } = await queue(a, 's1', 4, now);
      await db.query(kind === 'postgres' ? 'UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE event_id = $2' : 'UPDATE webhook_deliveries SET next_attempt_at = ? WHERE event_id = ?', [now + 60_000, third.id]);
      expect(seqs(await claimRun('A', now, 10))).toEqual([1, 2]);
    });

    it('hands back the rest of a run behind a failure: no attempt counted, in place, after the retry', async () => {
      const now = Date.now();
      const a = await hook();
      await queue(a, 's1', 5, now);
      const run = await claimRun('A', now, 5);
      expect(seqs(run)).toEqual([1, 2, 3, 4, 5]);
      const outcome = (job: DeliveryJob, result: DeliveryResult, nextAttemptAt = now) => ({
        job, result, nextAttemptAt, attempt: { id: newId(), attemptedAt: now, statusCode: result === 'delivered' ? 200 : 500, latencyMs: 1, error: null, responseBody: null },
      });
      // #1 delivered, #2 failed: #3..#5 were never sent and are handed back in the same write.
      await repo.record([outcome(run[0], 'delivered'), outcome(run[1], 'retry', now + 60_000)], now, run.slice(2));
      expect(await claimRun('B', now + 1000, 5)).toEqual([]);
      for (const j of run.slice(2)) expect(await attempts(j.id)).toBe(0);
      const again = await claimRun('B', now + 61_000, 5);
      expect(seqs(again)).toEqual([2, 3, 4, 5]);
      expect(again.map((j) => j.attemptCount)).toEqual([1, 0, 0, 0]);
    });

    it('gives the rest of a crashed run to another claimer, in order, once its lease has expired', async () => {
      const now = Date.now();
      const a = await hook();
      await queue(a, 's1', 4, now);
      const run = await claimRun('A', now, 4);
      // A wrote #1 and #2 and then died with #3 and #4 claimed.
      await finish(run[0], 'delivered', now);
      await finish(run[1], 'delivered', now);
      expect(await claimRun('B', now + LEASE - 1, 4)).toEqual([]);
      const rest = await claimRun('B', now + LEASE + 1, 4);
      expect(seqs(rest)).toEqual([3, 4]);
      expect(rest.map((j) => j.id)).toEqual(run.slice(2).map((j) => j.id));
    });

    it("tops up the queues a claimer holds, behind its own claimed deliveries, but no one else's", async () => {
      const now = Date.now();
      const a = await hook();
      await queue(a, 's1', 6, now);
      await queue(a, 's2', 6, now);
      expect(seqs(await claimRun('A', now, 2, 0, 1))).toEqual([1, 2]);
      const s1 = (await claimRun('B', now, 2, 0, 1)).map(key);
      expect(s1).toEqual([`${a}/s2#1`, `${a}/s2#2`]);
      // A holds two of s1 already: the run length is reached, nothing more.
      expect(await claimRun('A', now, 2, 1, 0)).toEqual([]);
      const [first] = await claimRun('C', now, 2);
      expect(first).toBeUndefined();
      // Once A's first result is written, A's next claim adds #3 to s1 while #2 is still in flight.
      const held = await db.query(kind === 'postgres' ? "SELECT id FROM webhook_deliveries WHERE claimed_by = 'A' ORDER BY sequence" : "SELECT id FROM webhook_deliveries WHERE claimed_by = 'A' ORDER BY sequence");
      await repo.record(
        [{ job: { id: held[0].id, claimToken: 'A' } as DeliveryJob, result: 'delivered', nextAttemptAt: now, attempt: { id: newId(), attemptedAt: now, statusCode: 200, latencyMs: 1, error: null, responseBody: null } }],
        now,
      );
      expect((await claimRun('A', now, 2, 1, 0)).map(key)).toEqual([`${a}/s1#3`]);
      // B's queue is not A's to top up, nor A's for B.
      expect(await claimRun('C', now, 2, 5, 5)).toEqual([]);
    });

    it('gives a queue to one of several claimers at once, as one consecutive run', async () => {
      const now = Date.now();
      const a = await hook();
      for (let s = 0; s < 6; s++) await queue(a, `s${s}`, 8, now);
      const claimers = ['A', 'B', 'C', 'D'];
      const results = await Promise.all(claimers.map((t) => claimRun(t, now, 3, 0, 2)));
      const owner = new Map<string, string>();
      for (const [i, jobs] of results.entries()) {
        for (const j of jobs) {
          const q = `${j.webhookId}/${j.sessionKey}`;
          expect(owner.get(q) ?? claimers[i]).toBe(claimers[i]);
          owner.set(q, claimers[i]);
        }
      }
      for (const q of owner.keys()) {
        const all = results.flat().filter((j) => `${j.webhookId}/${j.sessionKey}` === q);
        expect(seqs(all)).toEqual([1, 2, 3]);
      }
      expect(results.flat()).toHaveLength(owner.size * 3);
    });

    it('shows deliveries handed back behind a failure as due when the failed one is retried, also when handed back in a later write', async () => {
      const now = Date.now();
      const a = await hook();
      await queue(a, 's1', 4, now);
      const run = await claimRun('A', now, 4);
      const retryAt = now + 60_000;
      // #1 failed; #2 was handed back with its result, #3 and #4 (a later top-up) in the next write.
      await repo.record([{ job: run[0], result: 'retry', nextAttemptAt: retryAt, attempt: { id: newId(), attemptedAt: now, statusCode: 500, latencyMs: 1, error: 'HTTP 500', responseBody: null } }], now, [run[1]]);
      await repo.record([], now + 5, run.slice(2));
      const listed = await repo.listDeliveries('org', a, 10);
      expect(listed.map((d) => [d.sequence, d.nextAttemptAt]).sort((x, y) => x[0] - y[0])).toEqual([1, 2, 3, 4].map((seq) => [seq, retryAt]));
      expect(seqs(await claimRun('B', retryAt - 1, 4))).toEqual([]);
      expect(seqs(await claimRun('B', retryAt, 4))).toEqual([1, 2, 3, 4]);
    });
  });

  describe('claimed by the publisher for a worker of its process', () => {
    const offer = (token: string, held: string[], newQueues = 0, halted: string[] = []): DeliveryOffer => ({
      token, leaseEnds: Date.now() + LEASE, held: new Set(held), halted: new Set(halted), newQueues,
    });
    const q = (webhookId: string, session: string) => `${webhookId}\u0000${session}`;

    it("claims a held queue's new deliveries when the worker holds everything pending ahead of them", async () => {
      const now = Date.now();
      const a = await hook();
      await queue(a, 's1', 2, now);
      expect(seqs(await claimRun('A', now, 5))).toEqual([1, 2]);
      const { claimed, created } = await queue(a, 's1', 2, now, 3, offer('A', [q(a, 's1')]));
      expect(created).toBe(2);
      expect(seqs(claimed)).toEqual([3, 4]);
      expect(claimed.every((j) => j.claimToken === 'A' && j.url === 'http://127.0.0.1:9/' && j.secrets[0] === 'whsec_x')).toBe(true);
      // They are A's: nobody else claims them, and A's claim does not give them out twice.
      expect(await claimRun('B', now, 5)).toEqual([]);
      expect(await claimRun('A', now, 5, 5)).toEqual([]);
    });

    it('leaves them to the claim when anything pending ahead is not held by that worker', async () => {
      const now = Date.now();
      const a = await hook();
      await queue(a, 's1', 2, now);
      await queue(a, 's2', 2, now);
      await queue(a, 's3', 1, now);
      // s1: B holds the head. s2: nobody holds it yet. s3: its head failed and waits for its retry.
      expect(seqs(await claimRun('B', now, 5, 0, 1))).toEqual([1, 2]);
      const [head] = await claimRun('A', now, 1, 0, 5).then((jobs) => jobs.filter((j) => j.sessionKey === 's3'));
      await finish(head, 'retry', now, now + 60_000);
      const ss = ['s1', 's2', 's3'].map((s) => q(a, s));
      const { claimed } = await queue(a, 's1', 1, now, 3, offer('A', ss, 10));
      const more = [await queue(a, 's2', 1, now, 3, offer('A', ss, 10)), await queue(a, 's3', 1, now, 2, offer('A', ss, 10))];
      expect([...claimed, ...more.flatMap((r) => r.claimed)]).toEqual([]);
    });

    it('takes up queues nobody holds, as many as the worker has room for, and never a halted one', async () => {
      const now = Date.now();
      const a = await hook();
      const { claimed } = await queue(a, 's1', 2, now, 1, offer('A', [], 1, []));
      expect(seqs(claimed)).toEqual([1, 2]);
      expect((await queue(a, 's2', 1, now, 1, offer('A', [], 0))).claimed).toEqual([]);
      expect((await queue(a, 's3', 1, now, 1, offer('A', [], 5, [q(a, 's3')]))).claimed).toEqual([]);
      expect((await claimRun('B', now, 5)).map(key).sort()).toEqual([`${a}/s2#1`, `${a}/s3#1`]);
    });
  });

  // The delete's cascade locks the endpoint, then its deliveries; a result write locks a delivery,
  // then the endpoint it disables. PostgreSQL aborts one of the two: a delete that lost was a 500.
  // PostgreSQL only: SQLite has one writer at a time, so its writes cannot deadlock.
  if (kind === 'postgres') it('deletes an endpoint in a deadlock with a result write that disables it: the delete is tried again', async () => {
    const now = Date.now();
    const a = await hook();
    await queue(a, 's1', 1, now);
    const writer = db.createQueryRunner();
    await writer.connect();
    try {
      // The writer waits longer than the delete before it looks for a deadlock: the delete loses.
      await writer.query("SET deadlock_timeout = '20s'");
      await writer.startTransaction();
      await writer.query('UPDATE webhook_deliveries SET attempt_count = attempt_count + 1 WHERE webhook_id = $1', [a]);
      const deleting = repo.delete('org', a);
      // The delete holds the endpoint and waits for the delivery.
      const waitingDeletes = async () =>
        Number((await db.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM webhooks%'"))[0].n);
      for (let i = 0; i < 200 && (await waitingDeletes()) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(await waitingDeletes()).toBe(1);
      // The writer now wants the endpoint: a deadlock, which the delete's side detects and loses.
      await writer.query("UPDATE webhooks SET status = 'disabled' WHERE id = $1", [a]);
      await writer.commitTransaction();
      await expect(deleting).resolves.toBe(true);
      expect(await db.query('SELECT id FROM webhooks WHERE id = $1', [a])).toEqual([]);
      expect(await db.query('SELECT id FROM webhook_deliveries WHERE webhook_id = $1', [a])).toEqual([]);
    } finally {
      if (writer.isTransactionActive) await writer.rollbackTransaction();
      await writer.release();
    }
  });
});

