import { buildDataSourceOptions, ensureDatabaseSchema } from '@wa/contracts';
import { countingCalls, dropPostgresSchema, freshDatabaseTargets } from '@wa/contracts/testing';
import { idFloor, newId } from '@wa/domain';
import type { Pool, QueryConfig } from 'pg';
import { DataSource } from 'typeorm';
import { GATEWAY_MIGRATIONS } from '../src/database/migrations';
import { OutboxStore, type NewIdempotencyKey, type NewOutboxEntry, type OutboxRow } from '../src/messages/outbox.store';

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
    await store.onModuleInit();
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

  it("ends a hand-over and, on PostgreSQL, claims the chat's next entry in the same statement, only while it held the claim", async () => {
    const [a, b, c] = [entry('chat-next'), entry('chat-next'), entry('chat-next')];
    for (const x of [a, b, c]) await store.accept(x);
    await store.accept(entry('chat-next-other'));
    const now = Date.now();
    const first = await claimHead('chat-next', now);
    expect(first?.id).toBe(a.id);
    // A token that is not the claim's: nothing ends, nothing else is claimed.
    expect(await store.finishHandedOver(a.id, 'not-the-token', 'sent', now, { token: 'next-1', expiresAt: now + 15_000 })).toBeUndefined();
    expect((await store.byId(a.id))?.status).toBe('sending');
    expect(await claimHead('chat-next', now)).toBeUndefined();

    // The store's connection: the pool's queries on PostgreSQL, the transactions on SQLite.
    const sql = (store as unknown as { sql: { pool?: object; hot?: { db: object } } }).sql;
    const { result: next, calls } = await countingCalls(kind === 'postgres' ? sql.pool! : sql.hot!.db, kind === 'postgres' ? 'query' : 'transaction', () =>
      store.finishHandedOver(a.id, first!.claimToken!, 'sent', now, { token: 'next-2', expiresAt: now + 15_000 }),
    );
    expect((await store.byId(a.id))?.status).toBe('sent');
    if (kind === 'postgres') {
      expect(calls).toBe(1);
      expect(next).toMatchObject({ id: b.id, chat: 'chat-next', status: 'sending', claimToken: 'next-2', attempts: 1 });
      // Held by that claim: nothing more of the chat goes.
      expect(await claimHead('chat-next', now)).toBeUndefined();
      // The last entry of the chat: its end finds nothing due after it.
      await store.finishHandedOver(b.id, 'next-2', 'sent', now, { token: 'next-3', expiresAt: now + 15_000 }).then((n) => expect(n?.id).toBe(c.id));
      expect(await store.finishHandedOver(c.id, 'next-3', 'sent', now, { token: 'next-4', expiresAt: now + 15_000 })).toBeUndefined();
    } else {
      // SQLite ends it only; the chat's next entry is claimed as before.
      expect(next).toBeUndefined();
      expect((await claimHead('chat-next', now))?.id).toBe(b.id);
    }
    // Another chat's entries are never taken by it.
    expect((await claimHead('chat-next-other', now))?.chat).toBe('chat-next-other');
  });

  it('ends the hand-overs of several chats that finish together, and claims each next entry, in one statement on PostgreSQL', async () => {
    const chats = ['together-a', 'together-b', 'together-c', 'together-d'];
    const entries = chats.map((chat) => [entry(chat), entry(chat)]);
    for (const [first, second] of entries) {
      await store.accept(first!);
      await store.accept(second!);
    }
    // together-d has a third entry that is not due yet: its end finds nothing to claim.
    await store.accept(entry('together-d'));
    const now = Date.now();
    const claims = await Promise.all(chats.map((chat) => claimHead(chat, now)));
    expect(claims.map((c) => c?.id)).toEqual(entries.map(([first]) => first!.id));
    await db.query(`UPDATE outbox SET next_attempt_at = ${kind === 'postgres' ? '$1' : '?'} WHERE chat = 'together-d' AND id <> ${kind === 'postgres' ? '$2' : '?'}`, [now + 60_000, entries[3]![0]!.id]);

    const sql = (store as unknown as { sql: { pool?: object; hot?: { db: object } } }).sql;
    const { result: nexts, calls } = await countingCalls(kind === 'postgres' ? sql.pool! : sql.hot!.db, kind === 'postgres' ? 'query' : 'transaction', () =>
      Promise.all(
        claims.map((claim, i) =>
          // together-b's claim is no longer the one the store holds: its end changes nothing.
          store.finishHandedOver(claim!.id, i === 1 ? 'a-stale-token' : claim!.claimToken!, 'sent', now, { token: `next-${i}`, expiresAt: now + 15_000 }),
        ),
      ),
    );
    const statusOf = async (id: string) => (await store.byId(id))?.status;
    expect(await Promise.all(entries.map(([first]) => statusOf(first!.id)))).toEqual(['sent', 'sending', 'sent', 'sent']);
    if (kind === 'postgres') {
      expect(calls).toBe(1);
      expect(nexts.map((n) => n && { id: n.id, chat: n.chat, claimToken: n.claimToken, status: n.status })).toEqual([
        { id: entries[0]![1]!.id, chat: 'together-a', claimToken: 'next-0', status: 'sending' },
        undefined,
        { id: entries[2]![1]!.id, chat: 'together-c', claimToken: 'next-2', status: 'sending' },
        undefined,
      ]);
      // Held by those claims: nothing more of those chats goes.
      expect(await claimHead('together-a', now)).toBeUndefined();
    } else {
      expect(nexts).toEqual([undefined, undefined, undefined, undefined]);
    }
    // together-b still holds its first claim; together-d's next entries are not due.
    expect(await claimHead('together-b', now)).toBeUndefined();
    expect(await claimHead('together-d', now)).toBeUndefined();
  });

  it('renews the claims a dispatcher holds at once, and only those it still holds', async () => {
    const [a, b, c] = ['renew-a', 'renew-b', 'renew-c'].map((chat) => entry(chat));
    for (const x of [a, b, c]) await store.accept(x!);
    const now = Date.now();
    const [ca, cb, cc] = await Promise.all([a, b, c].map((x) => claimHead(x!.chat, now)));
    // c's hand-over ended: its claim is gone.
    await store.finishHandedOver(c!.id, cc!.claimToken!, 'sent', now);
    const sql = (store as unknown as { sql: { pool?: object; hot?: { db: object } } }).sql;
    const claims = [
      { id: a!.id, token: ca!.claimToken! },
      { id: b!.id, token: 'taken-over-by-another-replica' },
      { id: c!.id, token: cc!.claimToken! },
    ];
    const { result: held, calls } = await countingCalls(kind === 'postgres' ? sql.pool! : sql.hot!.db, kind === 'postgres' ? 'query' : 'transaction', () =>
      store.extendClaims(claims, now + 88_000),
    );
    expect([...held]).toEqual([a!.id]);
    if (kind === 'postgres') expect(calls).toBe(1);
    const expiry = async (id: string) => Number((await db.query(`SELECT claim_expires_at AS at FROM outbox WHERE id = ${kind === 'postgres' ? '$1' : '?'}`, [id]))[0].at);
    expect(await expiry(a!.id)).toBe(now + 88_000);
    expect(await expiry(b!.id)).toBe(now + 15_000);
    expect(cb?.id).toBe(b!.id);
    expect(await store.extendClaims([], now)).toEqual(new Set());
  });

  if (kind === 'postgres') {
    it('lets claims, renewals, ends of hand-overs and stored answers commit without waiting for the WAL flush, for their own transaction only; accepts wait for it', async () => {
      const pool = (store as unknown as { sql: { pool: Pool } }).sql.pool;
      const client = await pool.connect();
      const query = pool.query.bind(pool);
      // The store's statements run on one connection inside a transaction, so the setting they
      // leave for its commit can be read before it commits.
      const commitMode = async (work: () => Promise<unknown>): Promise<string> => {
        await client.query('BEGIN');
        Object.assign(pool, { query: (q: QueryConfig) => client.query(q) });
        try {
          await work();
        } finally {
          Object.assign(pool, { query });
        }
        const { rows } = await client.query<{ mode: string }>("SELECT current_setting('synchronous_commit') AS mode");
        await client.query('COMMIT');
        return rows[0]!.mode;
      };
      try {
        const [a, b] = [entry('relaxed-1'), entry('relaxed-1')];
        const now = Date.now();
        expect(await commitMode(() => store.accept(a))).toBe('on');
        expect(await commitMode(() => store.accept(b))).toBe('on');
        let head: OutboxRow | undefined;
        expect(await commitMode(async () => (head = await claimHead('relaxed-1', now)))).toBe('off');
        expect(head?.id).toBe(a.id);
        // The connection's own setting is back once that transaction ended.
        expect((await client.query<{ mode: string }>("SELECT current_setting('synchronous_commit') AS mode")).rows[0]!.mode).toBe('on');
        expect(await commitMode(() => store.extendClaims([{ id: a.id, token: head!.claimToken! }], now + 30_000))).toBe('off');
        expect(await commitMode(() => store.extendClaim(a.id, head!.claimToken!, now + 31_000))).toBe('off');
        let next: OutboxRow | undefined;
        expect(await commitMode(async () => (next = await store.finishHandedOver(a.id, head!.claimToken!, 'sent', now, { token: 'relaxed-next', expiresAt: now + 15_000 })))).toBe('off');
        expect(next?.id).toBe(b.id);
        expect(await commitMode(() => store.finishHandedOver(b.id, 'relaxed-next', 'sent', now))).toBe('off');
        const c = entry('relaxed-2');
        await store.accept(c);
        let claimed: OutboxRow | undefined;
        expect(await commitMode(async () => (claimed = await store.claim(c.id, 'relaxed-claim', c.createdAt, c.createdAt + 15_000)))).toBe('off');
        expect(claimed?.id).toBe(c.id);
        // The ends of several chats' hand-overs in one statement.
        const [d, e] = [entry('relaxed-3'), entry('relaxed-4')];
        for (const x of [d, e]) await store.accept(x);
        // The claims of several chats in one statement.
        const heads: (OutboxRow | undefined)[] = [];
        expect(await commitMode(async () => heads.push(...(await Promise.all([claimHead('relaxed-3'), claimHead('relaxed-4')]))))).toBe('off');
        const [hd, he] = heads;
        expect([hd?.id, he?.id]).toEqual([d.id, e.id]);
        expect(
          await commitMode(() =>
            Promise.all([
              store.finishHandedOver(c.id, 'relaxed-claim', 'sent', now, { token: 'n1', expiresAt: now + 15_000 }),
              store.finishHandedOver(d.id, hd!.claimToken!, 'sent', now, { token: 'n2', expiresAt: now + 15_000 }),
              store.finishHandedOver(e.id, he!.claimToken!, 'sent', now, { token: 'n3', expiresAt: now + 15_000 }),
            ]),
          ),
        ).toBe('off');
        for (const x of [a, b, c, d, e]) expect((await store.byId(x.id))?.status).toBe('sent');
        // A sync send's stored answer (a copy of its entry's state), alone and several in one statement.
        const keyOf = (name: string) => ({ route: 'send', key: name, requestHash: 'h', expiresAt: now + 60_000, response: null });
        for (const name of ['answer-1', 'answer-2', 'answer-3', 'answer-4', 'answer-5']) expect(await store.accept(entry(name), keyOf(name))).toBe(true);
        const save = (n: number) => store.saveResponse('org', 'send', `answer-${n}`, `{"n":${n}}`);
        expect(await commitMode(() => save(1))).toBe('off');
        expect(await commitMode(() => Promise.all([save(2), save(3)]))).toBe('off');
        expect((await countingCalls(pool, 'query', () => Promise.all([save(4), save(5)]))).calls).toBe(1);
        for (const n of [1, 2, 3, 4, 5]) expect((await store.idempotency('org', 'send', `answer-${n}`))?.response).toBe(`{"n":${n}}`);
      } finally {
        client.release();
      }
    });
  }

  it("claims the heads of the chats asked for in one turn, each with its own token (one statement on PostgreSQL)", async () => {
    const [a1, a2, b1, held, later] = [entry('turn-a'), entry('turn-a'), entry('turn-b'), entry('turn-held'), entry('turn-later')];
    for (const x of [a1, a2, b1, held, later]) await store.accept(x);
    const now = Date.now();
    await db.query(`UPDATE outbox SET next_attempt_at = ${kind === 'postgres' ? '$1' : '?'} WHERE id = ${kind === 'postgres' ? '$2' : '?'}`, [now + 60_000, later.id]);
    const first = await claimHead('turn-held', now);
    expect(first?.id).toBe(held.id);
    const sql = (store as unknown as { sql: { pool?: object; hot?: { db: object } } }).sql;
    const asked = ['turn-a', 'turn-b', 'turn-held', 'turn-later', 'turn-none', 'turn-a'];
    const { result: claimed, calls } = await countingCalls(kind === 'postgres' ? sql.pool! : sql.hot!.db, kind === 'postgres' ? 'query' : 'transaction', () =>
      Promise.all(asked.map((chat, i) => store.claimChatHead('s1', chat, `turn-token-${i}`, now, now + 15_000))),
    );
    if (kind === 'postgres') expect(calls).toBe(1);
    // Each chat's oldest due entry, once: turn-a asked twice goes to the first token (the lower).
    expect(claimed.map((c) => c?.id)).toEqual([a1.id, b1.id, undefined, undefined, undefined, undefined]);
    expect(claimed.map((c) => c?.claimToken)).toEqual(['turn-token-0', 'turn-token-1', undefined, undefined, undefined, undefined]);
    expect(claimed[0]).toMatchObject({ status: 'sending', attempts: 1, chat: 'turn-a' });
    // Held: nothing more of turn-a goes until its head ends.
    expect(await claimHead('turn-a', now)).toBeUndefined();
    await store.finishHandedOver(a1.id, 'turn-token-0', 'sent', now);
    expect((await claimHead('turn-a', now))?.id).toBe(a2.id);
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

  it('accepts keyed entries of one turn together, each written only if its own key went in', async () => {
    const now = Date.now();
    const key = (name: string, createdAt = now, ttl = DAY): NewIdempotencyKey => ({ route: 'send', key: name, requestHash: `h-${name}`, expiresAt: createdAt + ttl, response: null });
    // A live key from before, and an expired one that a new request may take over.
    const live = entry('keyed-live');
    expect(await store.accept(live, key('live'))).toBe(true);
    const expired = entry('keyed-expired', now - 2 * DAY);
    expect(await store.accept(expired, key('expired', now - 2 * DAY, DAY))).toBe(true);

    // One turn: 20 fresh keys, the live key again, the expired key again, and one key twice.
    const fresh = Array.from({ length: 20 }, (_, i) => [entry(`keyed-${i}`), key(`fresh-${i}`)] as const);
    const reuse = entry('keyed-live');
    const takeOver = entry('keyed-expired');
    const twice = [entry('keyed-twice'), entry('keyed-twice')];
    const results = await Promise.all([
      ...fresh.map(([e, k]) => store.accept(e, k)),
      store.accept(reuse, key('live')),
      store.accept(takeOver, key('expired')),
      ...twice.map((e) => store.accept(e, key('twice'))),
    ]);
    expect(results.slice(0, 20)).toEqual(new Array(20).fill(true));
    expect(results[20]).toBe(false);
    expect(results[21]).toBe(true);
    // The first of the two with one key goes in, as if they had come one after the other.
    expect(results.slice(22)).toEqual([true, false]);

    for (const [e, k] of fresh) {
      expect((await store.byId(e.id))?.status).toBe('queued');
      expect((await store.idempotency('org', 'send', k.key))?.outboxId).toBe(e.id);
    }
    expect(await store.byId(reuse.id)).toBeUndefined();
    expect((await store.idempotency('org', 'send', 'live'))?.outboxId).toBe(live.id);
    expect((await store.byId(takeOver.id))?.status).toBe('queued');
    expect((await store.idempotency('org', 'send', 'expired'))?.outboxId).toBe(takeOver.id);
    expect(await store.byId(twice[1]!.id)).toBeUndefined();
    expect((await store.idempotency('org', 'send', 'twice'))?.outboxId).toBe(twice[0]!.id);
  });

  it('fails only the request whose row cannot be written when keyed accepts share a commit', async () => {
    const now = Date.now();
    const key = (name: string): NewIdempotencyKey => ({ route: 'send', key: name, requestHash: 'h', expiresAt: now + DAY, response: null });
    const good = entry('bad-row-good');
    const clash = entry('bad-row-clash');
    // The same outbox id as `clash`: its entry breaks the primary key, so the shared write fails
    // and each request is written alone.
    const copy = { ...entry('bad-row-copy'), id: clash.id };
    const results = await Promise.allSettled([store.accept(good, key('bad-row-good')), store.accept(clash, key('bad-row-clash')), store.accept(copy, key('bad-row-copy'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect((await store.byId(good.id))?.chat).toBe('bad-row-good');
    expect((await store.byId(clash.id))?.chat).toBe('bad-row-clash');
    // Its key went with its failed entry: a retry of that request is not told it was accepted.
    expect(await store.idempotency('org', 'send', 'bad-row-copy')).toBeUndefined();
  });

  it('writes the keyed accepts of one turn in one commit (one statement on PostgreSQL)', async () => {
    // The store's connection: the pool's queries on PostgreSQL, the transactions on SQLite.
    const sql = (store as unknown as { sql: { pool?: object; hot?: { db: object } } }).sql;
    const now = Date.now();
    const { result: results, calls } = await countingCalls(kind === 'postgres' ? sql.pool! : sql.hot!.db, kind === 'postgres' ? 'query' : 'transaction', () =>
      Promise.all(
        Array.from({ length: 10 }, (_, i) => store.accept(entry(`one-commit-${i}`), { route: 'send', key: `one-commit-${i}`, requestHash: 'h', expiresAt: now + DAY, response: null })),
      ),
    );
    expect(results).toEqual(new Array(10).fill(true));
    expect(calls).toBe(1);
  });

  it("answers each status's entry whether or not it moved, within the org (statuses of many messages: one statement on PostgreSQL)", async () => {
    const [first, second] = [entry('advance-entry-1'), entry('advance-entry-2')];
    const now = Date.now();
    for (const sent of [first, second]) {
      await store.accept(sent);
      const claim = await claimHead(sent.chat, now);
      await store.finishHandedOver(sent.id, claim!.claimToken!, 'sent', now);
    }
    const sql = (store as unknown as { sql: { pool?: object } }).sql;
    const status = (e: NewOutboxEntry, s: 'sent' | 'delivered' | 'read' | 'failed', orgId = 'org') => ({ orgId, sessionId: 's1', waMessageId: e.waMessageId, status: s, error: s === 'failed' ? 'refused' : null });
    const advance = async (statuses: ReturnType<typeof status>[]) => {
      if (kind === 'sqlite') return { result: await store.advanceMany(statuses, now + 1), calls: 1 };
      return countingCalls(sql.pool!, 'query', () => store.advanceMany(statuses, now + 1));
    };
    // The acks after the hand-overs' `sent` move nothing, and each still names its entry; a receipt moves.
    expect(await advance([status(first, 'sent'), status(second, 'delivered')])).toEqual({
      result: [
        { moved: [], entry: first.id },
        { moved: [second.id], entry: second.id },
      ],
      calls: 1,
    });
    // An error ack after a receipt moves nothing back; a read moves on.
    expect((await advance([status(second, 'failed'), status(first, 'read')])).result).toEqual([
      { moved: [], entry: second.id },
      { moved: [first.id], entry: first.id },
    ]);
    expect((await store.byId(first.id))?.status).toBe('read');
    expect((await store.byId(second.id))).toMatchObject({ status: 'delivered', error: null });
    // Another org's event never names this org's entry, nor a message that did not go out through the API.
    expect(await store.advance(status(first, 'read', 'other-org'), now + 1)).toEqual({ moved: [], entry: undefined });
    expect(await store.advance({ ...status(first, 'delivered'), waMessageId: 'WA-not-ours' }, now + 1)).toEqual({ moved: [], entry: undefined });
    // An error ack before any receipt fails the entry, with its error.
    const third = entry('advance-entry-3');
    await store.accept(third);
    expect((await advance([status(third, 'failed')])).result).toEqual([{ moved: [third.id], entry: third.id }]);
    expect(await store.byId(third.id)).toMatchObject({ status: 'failed', error: 'refused' });
    expect(await store.advanceMany([], now)).toEqual([]);
  });

  if (kind === 'sqlite') {
    /** The store's SQLite connection, whose transactions the tests count. */
    const connection = (): object => (store as unknown as { sql: { hot: { db: object } } }).sql.hot.db;

    const claimExpiry = async (id: string): Promise<number> => Number(((await db.query('SELECT claim_expires_at AS at FROM outbox WHERE id = ?', [id])) as { at: number }[])[0]?.at);

    it("commits a turn's claims, results, renewals and statuses together, each with its own answer", async () => {
      const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((x) => entry(`turn-writes-${x}`));
      for (const x of [a, b, c, d, e]) await store.accept(x!);
      const now = Date.now();
      const claimA = await claimHead(a!.chat, now);
      const claimB = await claimHead(b!.chat, now);
      const claimC = await claimHead(c!.chat, now);
      const claimD = await claimHead(d!.chat, now);
      await store.finishHandedOver(c!.id, claimC!.claimToken!, 'sending', now);

      const { result, calls: n } = await countingCalls(connection(), 'transaction', () =>
        Promise.all([
          store.finishHandedOver(a!.id, claimA!.claimToken!, 'sent', now + 1),
          store.extendClaim(b!.id, claimB!.claimToken!, now + 99_000),
          store.extendClaim(b!.id, 'not-the-token', now + 99_000),
          store.advance({ orgId: 'org', sessionId: 's1', waMessageId: c!.waMessageId, status: 'delivered', error: null }, now + 1),
          store.finishRetry(d!.id, claimD!.claimToken!, 'session_not_connected: later', now + 60_000, now + 1),
          claimHead(e!.chat, now),
        ]),
      );
      expect(n).toBe(1);
      const [, renewed, notRenewed, advanced, , claimE] = result;
      expect([renewed, notRenewed]).toEqual([true, false]);
      expect(advanced).toEqual({ moved: [c!.id], entry: c!.id });
      expect(claimE?.id).toBe(e!.id);
      expect((await store.byId(a!.id))?.status).toBe('sent');
      expect(await claimExpiry(b!.id)).toBe(now + 99_000);
      expect((await store.byId(c!.id))?.status).toBe('delivered');
      expect((await store.byId(d!.id))).toMatchObject({ nextAttemptAt: now + 60_000, claimToken: null, error: 'session_not_connected: later' });
    });

    it('fails only the write that cannot be done when the writes of a turn share a commit', async () => {
      const held = entry('turn-fail-held');
      await store.accept(held);
      const now = Date.now();
      const claim = await claimHead(held.chat, now);
      const fresh = entry('turn-fail-fresh');
      // The same outbox id as `held`: its insert breaks the primary key, so the shared commit
      // fails and each write runs alone.
      const copy = { ...entry('turn-fail-copy'), id: held.id };
      const results = await Promise.allSettled([store.accept(fresh), store.accept(copy), store.extendClaim(held.id, claim!.claimToken!, now + 77_000)]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[2] as PromiseFulfilledResult<boolean>).value).toBe(true);
      expect((await store.byId(fresh.id))?.chat).toBe('turn-fail-fresh');
      expect(await claimExpiry(held.id)).toBe(now + 77_000);
    });
  }

  it("reads the sessions of one turn together (one statement on PostgreSQL), each only within its own org", async () => {
    const now = Date.now();
    const sessions = [
      { id: newId(), org: 'org-a', status: 'connected' },
      { id: newId(), org: 'org-a', status: 'stopped' },
      { id: newId(), org: 'org-b', status: 'connected' },
    ];
    for (const x of sessions) {
      await db.query(
        kind === 'postgres'
          ? 'INSERT INTO sessions (id, org_id, name, metadata, status, status_at, me_jid, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $6)'
          : 'INSERT INTO sessions (id, org_id, name, metadata, status, status_at, me_jid, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        kind === 'postgres' ? [x.id, x.org, 'n', '{}', x.status, now, `${x.org}@s.whatsapp.net`] : [x.id, x.org, 'n', '{}', x.status, now, `${x.org}@s.whatsapp.net`, now, now],
      );
    }
    const sql = (store as unknown as { sql: { pool?: { query: (...a: unknown[]) => unknown } } }).sql;
    const original = sql.pool?.query;
    let calls = 0;
    if (sql.pool && original) {
      sql.pool.query = function (this: unknown, ...args: unknown[]) {
        calls++;
        return original.apply(this, args);
      };
    }
    let found: Awaited<ReturnType<OutboxStore['session']>>[];
    try {
      const [a, b, c] = sessions;
      found = await Promise.all([
        store.session('org-a', a!.id),
        store.session('org-a', b!.id),
        store.session('org-a', a!.id),
        // Another org's session is no answer, as a missing one is.
        store.session('org-a', c!.id),
        store.session('org-b', a!.id),
        store.session('org-b', c!.id),
        store.session('org-a', 'missing'),
      ]);
    } finally {
      if (sql.pool && original) sql.pool.query = original;
    }
    const [a, b, c] = sessions;
    expect(found).toEqual([
      { id: a!.id, status: 'connected', meJid: 'org-a@s.whatsapp.net', meLid: null },
      { id: b!.id, status: 'stopped', meJid: 'org-a@s.whatsapp.net', meLid: null },
      { id: a!.id, status: 'connected', meJid: 'org-a@s.whatsapp.net', meLid: null },
      undefined,
      undefined,
      { id: c!.id, status: 'connected', meJid: 'org-b@s.whatsapp.net', meLid: null },
      undefined,
    ]);
    if (kind === 'postgres') expect(calls).toBe(1);
    // A lone read in a later turn still answers.
    await expect(store.session('org-b', c!.id)).resolves.toMatchObject({ id: c!.id });
    // What one turn read is not kept beyond it: a change is seen by the next turn's reads.
    await db.query(kind === 'postgres' ? 'UPDATE sessions SET status = $1 WHERE id = $2' : 'UPDATE sessions SET status = ? WHERE id = ?', ['stopped', a!.id]);
    await new Promise((r) => setImmediate(r));
    await expect(store.session('org-a', a!.id)).resolves.toMatchObject({ status: 'stopped' });
  });

  it('reads a session named by several requests of one turn once (SQLite: one statement per session and turn)', async () => {
    if (kind !== 'sqlite') return;
    const now = Date.now();
    const id = newId();
    await db.query('INSERT INTO sessions (id, org_id, name, metadata, status, status_at, me_jid, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', [
      id, 'org-t', 'n', '{}', 'connected', now, null, now, now,
    ]);
    // The store's reads go through its connection's HotSql.
    const hot = (store as unknown as { sql: { hot: { all: (...a: unknown[]) => Promise<unknown> } } }).sql.hot;
    const original = hot.all;
    let reads = 0;
    hot.all = function (this: unknown, ...args: unknown[]) {
      reads++;
      return original.apply(this, args);
    };
    try {
      await new Promise((r) => setImmediate(r));
      const turn = await Promise.all([store.session('org-t', id), store.session('org-t', id), store.session('org-x', id), store.session('org-t', id)]);
      expect(turn.map((r) => r?.id)).toEqual([id, id, undefined, id]);
      expect(reads).toBe(2); // org-t's and org-x's
      await new Promise((r) => setImmediate(r));
      await store.session('org-t', id);
      expect(reads).toBe(3);
    } finally {
      hot.all = original;
    }
  });

  it("finds each due chat head of the connected sessions, and nothing behind a head, a held head or a head not due", async () => {
    // A little ahead of the entries' acceptance, so that all of them are due by then.
    const now = Date.now() + 5_000;
    const [live, stopped] = [newId(), newId()];
    for (const [id, status] of [
      [live, 'connected'],
      [stopped, 'stopped'],
    ] as const) {
      await db.query(
        kind === 'postgres'
          ? 'INSERT INTO sessions (id, org_id, name, metadata, status, status_at, me_jid, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $6)'
          : 'INSERT INTO sessions (id, org_id, name, metadata, status, status_at, me_jid, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        kind === 'postgres' ? [id, 'org', 'n', '{}', status, now, 'me@s.whatsapp.net'] : [id, 'org', 'n', '{}', status, now, 'me@s.whatsapp.net', now, now],
      );
    }
    const add = async (sessionId: string, chat: string): Promise<NewOutboxEntry> => {
      const e = { ...entry(chat), sessionId };
      await store.accept(e);
      return e;
    };
    const claim = (chat: string, at = now, until = now + 15_000) => store.claimChatHead(live, chat, newId(at), at, until);
    // a: the head goes, the entry behind it does not.
    const [a1] = [await add(live, 'a'), await add(live, 'a')];
    // b: its head is held by a live claim.
    const b1 = await add(live, 'b');
    await add(live, 'b');
    await claim('b');
    // c: the first entry was handed over; the next is the head now.
    const c1 = await add(live, 'c');
    const c2 = await add(live, 'c');
    await store.finishHandedOver(c1.id, (await claim('c'))!.claimToken!, 'sent', now);
    // e: the head waits for its retry, and keeps the next one waiting too.
    const e1 = await add(live, 'e');
    await add(live, 'e');
    await store.finishRetry(e1.id, (await claim('e'))!.claimToken!, 'session_unavailable: later', now + 60_000, now);
    // f: the head's claim ran out (its dispatcher died): it is due again.
    const f1 = await add(live, 'f');
    await claim('f', now - 1_000, now - 1);
    // A session that is not connected: nothing of it.
    await add(stopped, 'g');

    const mine = (rows: Array<{ id: string; sessionId: string }>) => rows.filter((r) => r.sessionId === live || r.sessionId === stopped);
    const heads = [a1.id, c2.id, f1.id].sort();
    expect(mine(await store.claimable(now, 1_000))).toEqual(heads.map((id) => ({ id, sessionId: live })));
    // Oldest first, at most the limit (other tests' connected sessions have nothing waiting).
    expect(await store.claimable(now, 2)).toEqual(heads.slice(0, 2).map((id) => ({ id, sessionId: live })));
    // A minute later the retry is due and b's claim has run out: both heads go, still nothing behind them.
    expect(mine(await store.claimable(now + 60_000, 1_000)).map((r) => r.id)).toEqual([...heads, b1.id, e1.id].sort());

    if (kind === 'postgres') {
      // Planned at each call, not kept as a named statement whose generic plan was made for an empty outbox.
      const pool = (store as unknown as { sql: { pool: { query: (config: { name?: string; text: string }) => unknown } } }).sql.pool;
      const original = pool.query;
      const sent: Array<{ name?: string; text: string }> = [];
      pool.query = function (this: unknown, config: { name?: string; text: string }) {
        sent.push(config);
        return original.call(this, config);
      };
      try {
        for (let i = 0; i < 7; i++) await store.claimable(now, 10);
      } finally {
        pool.query = original;
      }
      expect(sent).toHaveLength(7);
      expect(sent.every((c) => c.name === undefined && c.text.startsWith('WITH RECURSIVE heads'))).toBe(true);
    }
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
  it('finds an entry by the WhatsApp id it minted through an index that grows at its end, with a key every replica shares', async () => {
    const now = Date.now();
    const minted = [0, 0, 1, 2].map((dt) => {
      const e = entry('wa-ids');
      return { ...e, waMessageId: store.mintWaMessageId(now + dt) };
    });
    for (const e of minted) await store.accept(e);
    for (const e of minted) expect(e.waMessageId).toMatch(/^3EB0[0-9A-F]{18}$/);
    // The indexed keys grow with the entries, though the ids do not show it.
    const p = (n: number) => (kind === 'postgres' ? `$${n}` : '?');
    const rows = (await db.query(`SELECT id, wa_sort FROM outbox WHERE chat = ${p(1)} ORDER BY id`, ['wa-ids'])) as { id: string; wa_sort: string }[];
    expect(rows.map((r) => r.id)).toEqual(minted.map((e) => e.id));
    expect(rows.map((r) => r.wa_sort)).toEqual([...rows.map((r) => r.wa_sort)].sort());
    // Another store on the same database (a restart, another replica) reads the same key and finds them.
    const replica = new OutboxStore(db);
    await replica.onModuleInit();
    for (const e of minted) expect(await replica.idForWaMessage('org', 's1', e.waMessageId)).toBe(e.id);
    expect(await replica.advance({ orgId: 'org', sessionId: 's1', waMessageId: minted[2]!.waMessageId, status: 'failed', error: 'refused' }, now + 5)).toEqual({
      moved: [minted[2]!.id],
      entry: minted[2]!.id,
    });
    // An id of the same layout that was not minted here names nothing.
    expect(await replica.idForWaMessage('org', 's1', '3EB0000000000000000000')).toBeUndefined();
    expect((await db.query(`SELECT COUNT(*) AS n FROM gateway_secrets`)) as { n: unknown }[]).toEqual([{ n: kind === 'postgres' ? '1' : 1 }]);
    if (kind === 'sqlite') {
      // Receipts look entries up through the new index, not by scanning.
      const plan = (await db.query(
        "EXPLAIN QUERY PLAN UPDATE outbox SET status = 'read' WHERE session_id = ? AND wa_sort = ? AND wa_message_id = ? AND status IN ('sent')",
        ['s1', 'x', 'y'],
      )) as { detail: string }[];
      expect(plan.map((r) => r.detail).join(' | ')).toContain('ix_outbox_wa_sort');
    }
  });
  it('mints a new WhatsApp id key once when its row is gone, the same one for replicas that start together', async () => {
    await db.query('DELETE FROM gateway_secrets');
    const [a, b] = [new OutboxStore(db), new OutboxStore(db)];
    await Promise.all([a.onModuleInit(), b.onModuleInit()]);
    const e = { ...entry('wa-ids-new-key'), waMessageId: a.mintWaMessageId(Date.now()) };
    await a.accept(e);
    expect(await b.idForWaMessage('org', 's1', e.waMessageId)).toBe(e.id);
    expect(((await db.query('SELECT COUNT(*) AS n FROM gateway_secrets')) as { n: unknown }[]).map((r) => Number(r.n))).toEqual([1]);
  });
});
