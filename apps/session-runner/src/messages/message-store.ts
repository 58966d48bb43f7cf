import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { HotSql, TurnBatcher, runStep, transactionInTurn, unnestColumns, type SqlStep } from '@wa/contracts/runtime';
import { BoundedSet, isLidJid, isPhoneJid, normalizeJid } from '@wa/domain';
import type { WaLidMapping, WaMessageKey, WaMessageLookup } from '@wa/wa-adapter';
import { In, IsNull, Repository, type EntityManager } from 'typeorm';
import { EVENT_INSERT_INTO } from '../events/event-outbox';
import { WaContactEntity } from './wa-contact.entity';
import { WaLidMappingEntity } from './wa-lid-mapping.entity';
import { WaMessageEntity } from './wa-message.entity';
import { WaPollVoteEntity } from './wa-poll-vote.entity';
import { mergeLidReceipts, mergeLidRows } from './lid-merge';
import { proofsOf, type ProofStep } from './send-log';

/** A contact or chat with its canonical id (`jid`) and the phone-number and LID forms known for it. */
export interface ContactIds {
  jid: string;
  pn?: string;
  lid?: string;
}

export interface StoredMessageInput {
  sessionId: string;
  key: WaMessageKey;
  type: string;
  timestampMs: number;
  raw: Uint8Array;
}

export type OwnMessageStatus = 'sent' | 'delivered' | 'read' | 'failed';

/** A status only moves forward; `failed` (an error ack) wins over everything but a receipt. */
const STATUS_RANK: Record<OwnMessageStatus, number> = { failed: 0, sent: 1, delivered: 2, read: 3 };

/**
 * The statuses a status may replace: it only moves forward, `failed` (an error ack) takes only a
 * message without a status, and a receipt after `failed` still counts (the message arrived).
 */
const ADVANCE_FROM: Record<OwnMessageStatus, OwnMessageStatus[]> = {
  failed: [],
  sent: [],
  delivered: ['failed', 'sent'],
  read: ['failed', 'sent', 'delivered'],
};

const ADVANCE_STATUS = Object.fromEntries(
  (Object.keys(ADVANCE_FROM) as OwnMessageStatus[]).map((to) => [
    to,
    `UPDATE wa_messages SET status = '${to}' WHERE session_id = $1 AND message_id = $2 AND from_me = $3 AND ` +
      (ADVANCE_FROM[to].length ? `(status IS NULL OR status IN (${ADVANCE_FROM[to].map((f) => `'${f}'`).join(', ')}))` : 'status IS NULL'),
  ]),
) as Record<OwnMessageStatus, string>;
const OWN_MESSAGE_EXISTS = 'SELECT 1 AS found FROM wa_messages WHERE session_id = $1 AND message_id = $2 AND from_me = $3 LIMIT 1';

/** `ADVANCE_STATUS` for a row `w` of wa_messages and a target status in `i.st`. */
const ADVANCES_FROM_ROW =
  'w.status IS NULL OR ' +
  (Object.keys(ADVANCE_FROM) as OwnMessageStatus[])
    .filter((to) => ADVANCE_FROM[to].length)
    .map((to) => `(i.st = '${to}' AND w.status IN (${ADVANCE_FROM[to].map((f) => `'${f}'`).join(', ')}))`)
    .join(' OR ');

/**
 * Status writes of many of our messages in one statement (PostgreSQL; no message twice): each
 * one's proof in the send log, its status moved as `ADVANCE_STATUS` would, its `message.status`
 * event when it is always news or its status moved; answers per write `n` whether the status
 * moved and whether the message was stored.
 */
const STATUSES_MANY =
  'WITH i AS (SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[]) ' +
  'AS i(n, s, m, st, proof, always, ev_id, ev_org, ev_type, ev_data, ev_at)), ' +
  `p AS (${proofsOf('$12')}), ` +
  `moved AS (UPDATE wa_messages w SET status = i.st FROM i WHERE w.session_id = i.s AND w.message_id = i.m AND w.from_me = true AND (${ADVANCES_FROM_ROW}) RETURNING i.n), ` +
  `ev AS (INSERT INTO ${EVENT_INSERT_INTO} SELECT i.ev_id, i.ev_org, i.s, i.ev_type, i.ev_data, i.ev_at FROM i WHERE i.always OR i.n IN (SELECT n FROM moved)) ` +
  'SELECT i.n, i.n IN (SELECT n FROM moved) AS moved, EXISTS (SELECT 1 FROM wa_messages w WHERE w.session_id = i.s AND w.message_id = i.m AND w.from_me = true) AS found FROM i';

/** Statuses that arrived before their message was stored, by `session|id`, for a few minutes. */
class EarlyStatuses {
  private readonly entries = new Map<string, { status: OwnMessageStatus; at: number }>();

  /** Whether `status` is news (nothing held, or something behind it). */
  keep(key: string, status: OwnMessageStatus): boolean {
    const now = Date.now();
    const held = this.entries.get(key);
    if (held && STATUS_RANK[held.status] >= STATUS_RANK[status]) return false;
    this.entries.set(key, { status, at: now });
    if (this.entries.size > EARLY_MAX) {
      for (const [k, v] of this.entries) if (now - v.at > EARLY_TTL_MS || this.entries.size > EARLY_MAX) this.entries.delete(k);
    }
    return true;
  }

  take(key: string): OwnMessageStatus | undefined {
    const held = this.entries.get(key);
    if (!held) return undefined;
    this.entries.delete(key);
    return Date.now() - held.at <= EARLY_TTL_MS ? held.status : undefined;
  }
}
const EARLY_TTL_MS = 5 * 60_000;
const KNOWN_PEOPLE_MAX = 50_000;
/** `pairOf` answers kept per held session before they are dropped and read again. */
const PAIRS_PER_SESSION_MAX = 5_000;
const EARLY_MAX = 10_000;
const SAVED_HERE_MAX = 20_000;
/**
 * How long a status on PostgreSQL waits for the announced save of its message. The save follows
 * the socket by a few turns of the event loop; a send that announced it and still waits for its
 * account (a retry of an id whose first copy is acknowledged now) must not hold the status long.
 */
const SAVE_WAIT_MS = 1_000;

/** The saves of one `session|id` announced and not ended, and a wait for their end. */
class PendingSave {
  saves = 0;
  private readonly done: Promise<void>;
  ended!: () => void;

  constructor() {
    this.done = new Promise<void>((resolve) => (this.ended = resolve));
  }

  /** Resolves when the saves ended, or after `ms`, whichever comes first. */
  async over(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }
}

/** The arguments of `MessageStore.advanceStatusWith`. */
interface StatusWrite {
  sessionId: string;
  messageId: string;
  status: OwnMessageStatus;
  proof: ProofStep | undefined;
  event: SqlStep;
  eventAlways: boolean;
}

/** What the statement of a status write found: whether the status moved, and whether the message was stored. */
interface StatusOutcome {
  moved: boolean;
  found: boolean;
}

/** A status write of a batch that failed on its own: its caller gets the error. */
interface StatusFailure {
  failed: unknown;
}

/** A save of our message announced before the socket took it (`MessageStore.expectSave`). */
export interface ExpectedSave {
  end(): void;
}

/** Messages that change another message rather than show up in a chat on their own. */
export const NON_CHAT_TYPES = ['reaction', 'vote', 'edit', 'revoke'];

export interface MessagePosition {
  timestampMs: number;
  messageId: string;
}

/** A chat's row in the summary: its newest message. */
export interface ChatHead {
  chatJid: string;
  lastMessageAt: number;
  lastMessageId: string;
}

/** Where a scan of chats by time resumes: strictly older than (`ts`, `jid`), or at most `ts` without `jid`. */
export interface ChatScanPosition {
  ts: number;
  jid?: string;
}

/**
 * Keeps the newest message of the chat: a later one, or one at the same millisecond with a
 * greater id (the order of a chat's message page). One statement on both databases.
 */
const UPSERT_CHAT = `INSERT INTO wa_chats (session_id, chat_jid, last_message_at, last_message_id) VALUES ($1, $2, $3, $4)
   ON CONFLICT (session_id, chat_jid) DO UPDATE SET last_message_at = excluded.last_message_at, last_message_id = excluded.last_message_id
   WHERE excluded.last_message_at > wa_chats.last_message_at
      OR (excluded.last_message_at = wa_chats.last_message_at AND excluded.last_message_id > wa_chats.last_message_id)`;

/**
 * Saves or replaces a message. A status that arrived before the message (`$9`) is its first
 * status; when the message was stored already, it moves the stored one forward as
 * `advanceStatus` would (see ADVANCE_FROM).
 */
const UPSERT_MESSAGE =
  'INSERT INTO wa_messages (session_id, chat_jid, message_id, from_me, participant, type, timestamp_ms, raw, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ' +
  'ON CONFLICT (session_id, chat_jid, message_id, from_me) DO UPDATE SET participant = excluded.participant, type = excluded.type, ' +
  'timestamp_ms = excluded.timestamp_ms, raw = excluded.raw, status = CASE ' +
  'WHEN excluded.status IS NULL THEN wa_messages.status ' +
  'WHEN wa_messages.status IS NULL THEN excluded.status ' +
  "WHEN excluded.status = 'read' AND wa_messages.status IN ('failed', 'sent', 'delivered') THEN excluded.status " +
  "WHEN excluded.status = 'delivered' AND wa_messages.status IN ('failed', 'sent') THEN excluded.status " +
  'ELSE wa_messages.status END';

/** A LID's phone-number twin, and a phone number's LID (the first by id, as before), for `pairOf`. */
const PN_OF_LID = 'SELECT pn FROM wa_lid_mappings WHERE session_id = $1 AND lid = $2';
const LID_OF_PN = 'SELECT lid FROM wa_lid_mappings WHERE session_id = $1 AND pn = $2 ORDER BY lid ASC LIMIT 1';

/**
 * The runner's message store: Baileys' `getMessage` (retries), edits, revokes and poll votes all
 * need the original message, so every message is kept with its raw proto.
 */
@Injectable()
export class MessageStore implements WaMessageLookup {
  private readonly early = new EarlyStatuses();
  /**
   * `session|id` of our messages handed to the socket and not yet saved by this process, with how
   * many saves of the id are under way and a wait for their end: a status of such a message is
   * kept for its save, which takes what is kept once it committed (see `expectSave`).
   */
  private readonly saving = new Map<string, PendingSave>();
  /** `session|id` of our messages `saveSent` stored (their rows exist from then on). */
  private readonly savedHere = new BoundedSet<string>(SAVED_HERE_MAX);
  /** Pairs being recorded, per session: lookups that name a contact wait for the ones before them. */
  private readonly learning = new Map<string, Promise<void>>();
  /** `session|jid` rows of wa_correspondents this process wrote or found written. */
  private readonly knownPeople = new BoundedSet<string>(KNOWN_PEOPLE_MAX);
  /**
   * `pairOf` answers of the sessions this runner holds, per session. Only the holder writes a
   * session's pairs (all through `saveLidMapping`, which drops the session's answers), so they
   * stay true while it holds the lease; `held` and `released` bracket that time.
   */
  private readonly pairs = new Map<string, { epoch: number; answers: Map<string, ContactIds> }>();
  private hotSql?: HotSql;

  constructor(
    @InjectRepository(WaMessageEntity) private readonly messages: Repository<WaMessageEntity>,
    @InjectRepository(WaLidMappingEntity) private readonly lids: Repository<WaLidMappingEntity>,
    @InjectRepository(WaPollVoteEntity) private readonly votes: Repository<WaPollVoteEntity>,
    @InjectRepository(WaContactEntity) private readonly contacts: Repository<WaContactEntity>,
  ) {}

  private get sql(): HotSql {
    return (this.hotSql ??= HotSql.of(this.messages.manager.connection));
  }

  /**
   * The exact key first; then the id alone, because a contact names our message by the chat as
   * it sees it (its LID form where we stored the phone-number form, or the other way round).
   */
  async findRaw(sessionId: string, key: WaMessageKey): Promise<Uint8Array | undefined> {
    const row = await this.findByKey(sessionId, key);
    return row ? Buffer.from(row.raw, 'base64') : undefined;
  }

  private async findByKey(sessionId: string, key: WaMessageKey): Promise<WaMessageEntity | undefined> {
    return (
      (await this.messages.findOneBy({ sessionId, chatJid: key.chatJid, messageId: key.id, fromMe: key.fromMe })) ??
      (await this.find(sessionId, key.id, { fromMe: key.fromMe })) ??
      (await this.find(sessionId, key.id))
    );
  }

  /** Keeps the newest edit only: edits can arrive out of order after a reconnect. */
  async recordEdit(sessionId: string, target: WaMessageKey, text: string, at: number): Promise<void> {
    const row = await this.findByKey(sessionId, target);
    if (!row || (row.editedAt !== null && row.editedAt > at)) return;
    await this.messages.update(this.primaryKey(row), { editedText: text, editedAt: at });
  }

  async recordRevoke(sessionId: string, target: WaMessageKey, at: number): Promise<void> {
    const row = await this.findByKey(sessionId, target);
    if (!row || row.deletedAt !== null) return;
    await this.messages.update(this.primaryKey(row), { deletedAt: at });
  }

  /** A media message's new raw bytes after our phone uploaded the file again (a new direct path). */
  async replaceRaw(row: WaMessageEntity, raw: Uint8Array): Promise<void> {
    await this.messages.update(this.primaryKey(row), { raw: Buffer.from(raw).toString('base64') });
  }

  private primaryKey(row: WaMessageEntity): Pick<WaMessageEntity, 'sessionId' | 'chatJid' | 'messageId' | 'fromMe'> {
    return { sessionId: row.sessionId, chatJid: row.chatJid, messageId: row.messageId, fromMe: row.fromMe };
  }

  /** A message by id, narrowed by chat (either jid form) and author side when given. */
  async find(sessionId: string, messageId: string, where: { chats?: string[]; fromMe?: boolean } = {}): Promise<WaMessageEntity | undefined> {
    const rows = await this.messages.find({
      where: {
        sessionId,
        messageId,
        ...(where.chats ? { chatJid: In(where.chats) } : {}),
        ...(where.fromMe !== undefined ? { fromMe: where.fromMe } : {}),
      },
      order: { timestampMs: 'DESC' },
      take: 1,
    });
    return rows[0];
  }

  /**
   * Moves the status of our message forward (never back), whichever chat form the receipt named,
   * in one conditional UPDATE: a read receipt and a delivery receipt handled at the same time
   * cannot leave the older one standing. A status for a message not stored yet (a receipt or an
   * ack that beat the write after the socket took the message) is kept for a while and applied
   * when the message is saved. Answers whether it moved anything (false: already there or past
   * it, stored or kept), so a receipt applied twice is told from a first one.
   */
  async advanceStatus(sessionId: string, messageId: string, status: OwnMessageStatus, manager?: EntityManager): Promise<boolean> {
    if (manager) {
      // In the caller's transaction (a receipt's status and its event commit together).
      const result = await manager
        .getRepository(WaMessageEntity)
        .createQueryBuilder()
        .update()
        .set({ status })
        .where('session_id = :sessionId AND message_id = :messageId AND from_me = :fromMe', { sessionId, messageId, fromMe: true })
        .andWhere(ADVANCE_FROM[status].length ? '(status IS NULL OR status IN (:...from))' : 'status IS NULL', { from: ADVANCE_FROM[status] })
        .execute();
      if (result.affected) return true;
      if (await manager.getRepository(WaMessageEntity).existsBy({ sessionId, messageId, fromMe: true })) return false;
      return this.early.keep(`${sessionId}|${messageId}`, status);
    }
    if (await this.sql.run(ADVANCE_STATUS[status], [sessionId, messageId, true])) return true;
    return this.advanceLater(sessionId, messageId, status);
  }

  /**
   * `advanceStatus` in one commit with other writes (one commit per status instead of three):
   * `proof` (the send log's, see `SendLog.ackedStep`) is written whatever the status does, and
   * `event`, an event's insert (see `EventOutbox.step`), too when `eventAlways`, else only when
   * the status moved. A status that moved nothing stored is then kept or applied as
   * `advanceStatus` does; a conditional event is written after that when the status was news.
   * Answers whether it was.
   */
  async advanceStatusWith(
    sessionId: string,
    messageId: string,
    status: OwnMessageStatus,
    proof: ProofStep | undefined,
    event: SqlStep,
    eventAlways: boolean,
  ): Promise<boolean> {
    if (this.sql.kind === 'postgres') return this.advanceStatusWithPg({ sessionId, messageId, status, proof, event, eventAlways });
    const steps = proof ? [proof] : [];
    const advance = { sql: ADVANCE_STATUS[status], params: [sessionId, messageId, true] };
    let moved: boolean;
    if (eventAlways) moved = (await this.sql.batch([...steps, event, advance])) > 0;
    else {
      // changes(): the rows the UPDATE just before changed (a batch's steps run back to back).
      moved = (await this.sql.batch([...steps, advance, { sql: `INSERT INTO ${EVENT_INSERT_INTO} SELECT $1, $2, $3, $4, $5, $6 WHERE changes() > 0`, params: event.params }])) > 0;
    }
    if (moved) return true;
    const news = await this.advanceLater(sessionId, messageId, status);
    if (news && !eventAlways) await this.sql.run(event.sql, event.params);
    return news;
  }

  /**
   * `advanceStatusWith` on PostgreSQL: the statuses of a turn go in one statement (see
   * `statusesMany`), which writes their proofs, moves their statuses, writes their events (when
   * they must) and answers, for each, whether its status moved and whether its message was
   * stored (both as of the statement's snapshot). A status of a stored message that did not move
   * is not news: nothing else to ask. One of a message this process expects to save (see
   * `expectSave`) waits for that save first, at most `SAVE_WAIT_MS`; if the save still has not
   * ended, a status of the message not stored yet is kept for it (the save applies what it finds
   * kept once it committed). One this process saved since the statement ran is moved at once;
   * only otherwise the store is looked at again. The statement commits whole (proofs, statuses
   * and events), also when the database held it behind a lock until after this runner died: what
   * it wrote is then as true as when the next owner writes it (WhatsApp delivers the receipt
   * again, and the status that moved nothing is no news there).
   */
  private async advanceStatusWithPg(write: StatusWrite): Promise<boolean> {
    const { sessionId, messageId, status, event, eventAlways } = write;
    const key = `${sessionId}|${messageId}`;
    // Its message's save is near (the socket has it): after it, the row is there to move in this
    // statement. Kept for the save instead, it cost the save a second statement once committed,
    // and an ack nearly always lands before its message's save is written.
    const pending = this.saving.get(key);
    if (pending) await pending.over(SAVE_WAIT_MS);
    const row = await this.statuses.add(write);
    if ('failed' in row) throw row.failed;
    if (row.moved) return true;
    if (row.found) return false;
    let news: boolean;
    if (this.saving.has(key)) news = this.early.keep(key, status);
    // Stored since the statement's snapshot, by this process: the row is there to move.
    else if (this.savedHere.has(key)) news = (await this.sql.run(ADVANCE_STATUS[status], [sessionId, messageId, true])) > 0;
    else news = await this.advanceLater(sessionId, messageId, status);
    if (news && !eventAlways) await this.sql.run(event.sql, event.params);
    return news;
  }

  /**
   * The status writes of one turn (PostgreSQL): acks and receipts of many messages, over every
   * session, come in bursts, and each paid a statement and a commit of its own. One batch is
   * written at a time: two in flight could take the locks of the same rows in opposite orders.
   */
  private readonly statuses = new TurnBatcher<StatusWrite, StatusOutcome | StatusFailure>(
    (writes) => this.statusTurn(() => this.statusesMany(writes)),
    (write) => this.statusTurn(() => this.statusOne(write)),
  );
  private statusChain: Promise<unknown> = Promise.resolve();

  private statusTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.statusChain.then(work, work);
    this.statusChain = run.catch(() => undefined);
    return run;
  }

  /**
   * One statement for many status writes. Writes of the same message go in rounds (one
   * statement each, in the order they came): one statement updates a row once, whatever
   * number of its items name it. A round that fails is written again one by one, and a write
   * that fails alone fails only its own caller; rounds that committed are never written again
   * (an ack's event would be inserted twice).
   */
  private async statusesMany(writes: StatusWrite[]): Promise<(StatusOutcome | StatusFailure)[]> {
    const rounds: StatusWrite[][] = [];
    const seen = new Map<string, number>();
    const roundOf = writes.map((w) => {
      const key = `${w.sessionId}|${w.messageId}`;
      const round = seen.get(key) ?? 0;
      seen.set(key, round + 1);
      (rounds[round] ??= []).push(w);
      return round;
    });
    const alone = (w: StatusWrite): Promise<StatusOutcome | StatusFailure> => this.statusOne(w).catch((failed: unknown) => ({ failed }));
    const answers: (StatusOutcome | StatusFailure)[][] = [];
    for (const round of rounds) {
      let answer: (StatusOutcome | StatusFailure)[] | undefined;
      if (round.length > 1) answer = await this.statusRound(round).catch(() => undefined);
      if (!answer) {
        answer = [];
        for (const w of round) answer.push(await alone(w));
      }
      answers.push(answer);
    }
    const taken = rounds.map(() => 0);
    return roundOf.map((r) => answers[r][taken[r]++]);
  }

  private async statusRound(writes: StatusWrite[]): Promise<StatusOutcome[]> {
    const rows = await this.sql.batchRows([
      {
        sql: STATUSES_MANY,
        params: [
          // The event's id, org, type, data and time (`EventOutbox.step`'s parameters but its session).
          ...unnestColumns(writes, (w, n) => [n, w.sessionId, w.messageId, w.status, w.proof?.proof ?? null, w.eventAlways, ...[0, 1, 3, 4, 5].map((p) => w.event.params[p])]),
          Date.now(),
        ],
      },
    ]);
    const byN = new Map(rows.map((r) => [Number(r.n), { moved: r.moved === true, found: r.found === true }]));
    return writes.map((_w, n) => byN.get(n) ?? { moved: false, found: false });
  }

  /** One status write alone: its proof, its status, its event (when it must) and the answer, in one statement. */
  private async statusOne({ sessionId, messageId, status, proof, event, eventAlways }: StatusWrite): Promise<StatusOutcome> {
    const answer = `SELECT EXISTS (SELECT 1 FROM moved) AS moved, EXISTS (${OWN_MESSAGE_EXISTS}) AS found`;
    const advance = `moved AS (${ADVANCE_STATUS[status]} RETURNING 1)`;
    const steps = proof ? [proof] : [];
    const [row] = await this.sql.batchRows(
      eventAlways
        ? [...steps, event, { sql: `WITH ${advance} ${answer}`, params: [sessionId, messageId, true] }]
        : [
            ...steps,
            {
              sql: `WITH ${advance}, ev AS (INSERT INTO ${EVENT_INSERT_INTO} SELECT $4, $5, $6, $7, $8, $9::bigint WHERE EXISTS (SELECT 1 FROM moved)) ${answer}`,
              params: [sessionId, messageId, true, ...event.params],
            },
          ],
    );
    return { moved: row?.moved === true, found: row?.found === true };
  }

  /** A status that moved no stored message: kept for the message, or applied if it was stored meanwhile. */
  private async advanceLater(sessionId: string, messageId: string, status: OwnMessageStatus): Promise<boolean> {
    // Kept before looking: a save that runs meanwhile either takes it or is seen by the look.
    const key = `${sessionId}|${messageId}`;
    const news = this.early.keep(key, status);
    if (!(await this.sql.all(OWN_MESSAGE_EXISTS, [sessionId, messageId, true])).length) return news;
    const held = this.early.take(key);
    return held ? (await this.sql.run(ADVANCE_STATUS[held], [sessionId, messageId, true])) > 0 : false;
  }

  /** Received messages of a chat not yet marked read (all, or only the given ids). */
  async unread(sessionId: string, chats: string[], messageIds?: string[]): Promise<WaMessageEntity[]> {
    return this.messages.find({
      where: {
        sessionId,
        chatJid: In(chats),
        fromMe: false,
        ...(messageIds?.length ? { messageId: In(messageIds) } : { readAt: IsNull() }),
      },
      order: { timestampMs: 'ASC' },
    });
  }

  async markRead(sessionId: string, rows: WaMessageEntity[], at: number): Promise<void> {
    for (const row of rows) {
      await this.messages.update({ sessionId, chatJid: row.chatJid, messageId: row.messageId, fromMe: false }, { readAt: at });
    }
  }

  /** The summary rows of the given chats (any order). */
  async chatHeadsOf(sessionId: string, chats: string[]): Promise<ChatHead[]> {
    if (!chats.length) return [];
    const rows = await this.messages.manager
      .createQueryBuilder()
      .select('c.chat_jid', 'chatJid')
      .addSelect('c.last_message_at', 'lastMessageAt')
      .addSelect('c.last_message_id', 'lastMessageId')
      .from('wa_chats', 'c')
      .where('c.session_id = :sessionId', { sessionId })
      .andWhere('c.chat_jid IN (:...chats)', { chats })
      .getRawMany<ChatHead>();
    return rows.map((r) => ({ chatJid: r.chatJid, lastMessageAt: Number(r.lastMessageAt), lastMessageId: r.lastMessageId }));
  }

  /** The oldest visible message of a chat (any of its jid forms): what older history is asked relative to. */
  async oldestInChat(sessionId: string, chats: string[]): Promise<WaMessageEntity | undefined> {
    const row = await this.messages
      .createQueryBuilder('m')
      .where('m.session_id = :sessionId', { sessionId })
      .andWhere('m.chat_jid IN (:...chats)', { chats })
      .andWhere('m.type NOT IN (:...skip)', { skip: NON_CHAT_TYPES })
      .orderBy('m.timestamp_ms', 'ASC')
      .addOrderBy('m.message_id', 'ASC')
      .getOne();
    return row ?? undefined;
  }

  /** Keeps a voter's newest selection only: votes can arrive out of order after a reconnect. */
  async saveVote(sessionId: string, given: { pollId: string; chatJid: string; voter: string; selected: string[]; timestampMs: number }): Promise<void> {
    const vote = { ...given, chatJid: await this.canonicalJid(sessionId, given.chatJid), voter: await this.canonicalJid(sessionId, given.voter) };
    const existing = await this.votes.findOneBy({ sessionId, pollId: vote.pollId, voter: vote.voter });
    if (existing && existing.timestampMs > vote.timestampMs) return;
    await this.votes.upsert(
      { sessionId, pollId: vote.pollId, voter: vote.voter, chatJid: vote.chatJid, selected: JSON.stringify(vote.selected), timestampMs: vote.timestampMs },
      ['sessionId', 'pollId', 'voter'],
    );
  }

  async votesOf(sessionId: string, pollId: string): Promise<{ voter: string; selected: string[] }[]> {
    return (await this.votesOfPolls(sessionId, [pollId])).get(pollId) ?? [];
  }

  /** `votesOf` for several polls in one query, by poll id. */
  async votesOfPolls(sessionId: string, pollIds: string[]): Promise<Map<string, { voter: string; selected: string[] }[]>> {
    const byPoll = new Map<string, { voter: string; selected: string[] }[]>();
    if (!pollIds.length) return byPoll;
    const rows = await this.votes.find({ where: { sessionId, pollId: In([...new Set(pollIds)]) }, order: { voter: 'ASC' } });
    for (const r of rows) byPoll.set(r.pollId, [...(byPoll.get(r.pollId) ?? []), { voter: r.voter, selected: JSON.parse(r.selected) as string[] }]);
    return byPoll;
  }

  async saveName(sessionId: string, jid: string, name: string): Promise<void> {
    await this.contacts.upsert({ sessionId, jid, name, updatedAt: Date.now() }, ['sessionId', 'jid']);
  }

  /**
   * Keeps (or with null forgets) the name the account saved for a contact. The row may not exist
   * yet (no push name seen): it is made with an empty push name, never overwriting one that a
   * message wrote in between.
   */
  async saveSavedName(sessionId: string, jid: string, savedName: string | null): Promise<void> {
    const updatedAt = Date.now();
    if (savedName !== null) {
      await this.contacts.createQueryBuilder().insert().values({ sessionId, jid, name: '', savedName, updatedAt }).orIgnore().execute();
    }
    await this.contacts.update({ sessionId, jid }, { savedName, updatedAt });
    // A contact known by its saved name alone is forgotten with it, as it leaves the phone's contacts.
    if (savedName === null) await this.contacts.delete({ sessionId, jid, name: '', savedName: IsNull() });
  }

  /** The name to show for each jid: the saved name when the account keeps one, else the push name or group subject. */
  async names(sessionId: string, jids?: string[]): Promise<Map<string, string>> {
    const rows = await this.contacts.findBy({ sessionId, ...(jids ? { jid: In(jids) } : {}) });
    return new Map(rows.flatMap((r) => (r.savedName || r.name ? [[r.jid, r.savedName || r.name] as [string, string]] : [])));
  }

  /** Whether a message was ever exchanged with any of these forms of a contact. */
  async hasCorrespondent(sessionId: string, jids: string[]): Promise<boolean> {
    const row = await this.messages.manager
      .createQueryBuilder()
      .select('c.jid', 'jid')
      .from('wa_correspondents', 'c')
      .where('c.session_id = :sessionId', { sessionId })
      .andWhere('c.jid IN (:...jids)', { jids })
      .limit(1)
      .getRawOne<{ jid: string }>();
    return row !== undefined;
  }

  /** Saved and push names apart, for contact reads. */
  async contactNames(sessionId: string, jids: string[]): Promise<Map<string, { saved?: string; push?: string }>> {
    if (!jids.length) return new Map();
    const rows = await this.contacts.findBy({ sessionId, jid: In(jids) });
    return new Map(rows.map((r) => [r.jid, { ...(r.savedName ? { saved: r.savedName } : {}), ...(r.name ? { push: r.name } : {}) }]));
  }

  async lidMappings(sessionId: string): Promise<WaLidMapping[]> {
    return (await this.lids.findBy({ sessionId })).map((r) => ({ lid: r.lid, pn: r.pn }));
  }

  /** The mappings that name any of the given LIDs or phone-number jids. */
  async lidMappingsOf(sessionId: string, lids: string[], pns: string[]): Promise<WaLidMapping[]> {
    const where = [...(lids.length ? [{ sessionId, lid: In(lids) }] : []), ...(pns.length ? [{ sessionId, pn: In(pns) }] : [])];
    if (!where.length) return [];
    return (await this.lids.find({ where })).map((r) => ({ lid: r.lid, pn: r.pn }));
  }

  /**
   * The next jids greater than `after`, in order, that anyone could list as a contact: people we
   * exchanged messages with, named contacts and groups, and the phone-number side of every LID
   * pair. Each source is an index range of at most `limit`; `complete` is the jid up to which the
   * merged list is whole (undefined: to the end).
   */
  async contactCandidates(sessionId: string, after: string | undefined, limit: number): Promise<{ jids: string[]; complete?: string }> {
    const sources = [
      { table: 'wa_correspondents', column: 'jid' },
      { table: 'wa_contacts', column: 'jid' },
      { table: 'wa_lid_mappings', column: 'pn' },
    ];
    const lists = await Promise.all(
      sources.map(async ({ table, column }) => {
        const q = this.messages.manager
          .createQueryBuilder()
          .select(`s.${column}`, 'jid')
          .from(table, 's')
          .where('s.session_id = :sessionId', { sessionId });
        if (after !== undefined) q.andWhere(`s.${column} > :after`, { after });
        return (await q.orderBy(`s.${column}`, 'ASC').limit(limit).getRawMany<{ jid: string }>()).map((r) => r.jid);
      }),
    );
    // A source that filled its page may hold more beyond its last jid; the merge is whole up to the smallest such.
    const bounds = lists.filter((l) => l.length >= limit).map((l) => l[l.length - 1]);
    const complete = bounds.length ? bounds.reduce((a, b) => (b < a ? b : a)) : undefined;
    const jids = [...new Set(lists.flat())].filter((j) => complete === undefined || j <= complete).sort();
    return { jids, ...(complete !== undefined ? { complete } : {}) };
  }

  /**
   * Saves or replaces a message, and in the same transaction the summaries chat and contact lists
   * read; `manager` lets callers store it in the same transaction as its event.
   */
  save(input: StoredMessageInput, manager?: EntityManager): Promise<void> {
    return this.write(input, manager, []);
  }

  /**
   * A message this runner just handed to WhatsApp, with the send log's `relayed` and the Signal
   * keys its encryption changed (`also`) in the same commit, which happens at once (`HotSql`
   * urgent): the chat's next entry waits for it.
   */
  saveSent(input: StoredMessageInput, also: SqlStep[], expected?: ExpectedSave): Promise<void> {
    return this.write(input, undefined, also, true, expected);
  }

  /**
   * Says, before our message goes to the socket, that `saveSent` will store it: until then a
   * status of it (an ack or receipt that beats the save) is kept for the save without looking at
   * the store (on PostgreSQL, after waiting a moment for the save: see `advanceStatusWithPg`).
   * `saveSent` ends that when it takes what was kept, whether or not it succeeded;
   * `end` is for a send that never saves (it failed before the socket took it).
   */
  expectSave(sessionId: string, messageId: string): ExpectedSave {
    const key = `${sessionId}|${messageId}`;
    const mine = this.saving.get(key) ?? new PendingSave();
    this.saving.set(key, mine);
    mine.saves++;
    let open = true;
    return {
      end: () => {
        if (!open) return;
        open = false;
        if (--mine.saves > 0) return;
        if (this.saving.get(key) === mine) this.saving.delete(key);
        mine.ended();
      },
    };
  }

  private async write(input: StoredMessageInput, manager: EntityManager | undefined, also: SqlStep[], urgent = false, expected?: ExpectedSave): Promise<void> {
    const key = `${input.sessionId}|${input.key.id}`;
    const chatJid = await this.canonicalJid(input.sessionId, input.key.chatJid, manager);
    const participant = input.key.participant ? await this.canonicalJid(input.sessionId, input.key.participant, manager) : null;
    // Taken right before the write: a status kept from here on is applied below, or finds the row.
    const early = input.key.fromMe ? this.early.take(key) : undefined;
    const { steps, people } = this.saveSteps(input, chatJid, participant, early ?? null);
    try {
      if (manager) for (const step of [...also, ...steps]) await runStep(manager, step);
      else await this.sql.batch([...also, ...steps], urgent);
      if (expected) this.savedHere.add(key);
    } finally {
      // Statuses kept until here are taken below, in this turn; later ones look at the store.
      expected?.end();
    }
    // Once written a correspondent stays (only forgetting the session or a LID merge moves it): later messages skip it.
    if (!manager) for (const j of people) this.rememberPerson(input.sessionId, j);
    const late = input.key.fromMe ? this.early.take(key) : undefined;
    // Committed above (without `manager`), the row is there: a status that moves nothing is behind it.
    if (late && !manager) await this.sql.run(ADVANCE_STATUS[late], [input.sessionId, input.key.id, true]);
    else if (late) await this.advanceStatus(input.sessionId, input.key.id, late);
  }

  /**
   * The message (with a status that arrived before it), its chat's summary row and the people in
   * it, as statements that need no reads of each other's writes (they may share one statement).
   */
  private saveSteps(input: StoredMessageInput, chatJid: string, participant: string | null, status: OwnMessageStatus | null): { steps: SqlStep[]; people: string[] } {
    const steps: SqlStep[] = [
      {
        sql: UPSERT_MESSAGE,
        params: [input.sessionId, chatJid, input.key.id, input.key.fromMe, participant, input.type, input.timestampMs, Buffer.from(input.raw).toString('base64'), status],
      },
    ];
    if (!NON_CHAT_TYPES.includes(input.type)) {
      steps.push({ sql: UPSERT_CHAT, params: [input.sessionId, chatJid, input.timestampMs, input.key.id] });
    }
    const people = [...new Set([chatJid, ...(!input.key.fromMe && participant ? [participant] : [])].map(normalizeJid))].filter(
      (j) => (isPhoneJid(j) || isLidJid(j)) && !this.knownPeople.has(`${input.sessionId}|${j}`),
    );
    if (people.length) {
      const values = people.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
      steps.push({ sql: `INSERT INTO wa_correspondents (session_id, jid) VALUES ${values} ON CONFLICT DO NOTHING`, params: people.flatMap((j) => [input.sessionId, j]) });
    }
    return { steps, people };
  }

  private rememberPerson(sessionId: string, jid: string): void {
    this.knownPeople.add(`${sessionId}|${jid}`);
  }

  /** Forgets what `knownPeople` holds for a session (all of it, or one jid). */
  private forgetPeople(sessionId: string, jid?: string): void {
    if (jid !== undefined) {
      this.knownPeople.delete(`${sessionId}|${jid}`);
      return;
    }
    for (const k of this.knownPeople) if (k.startsWith(`${sessionId}|`)) this.knownPeople.delete(k);
  }

  /**
   * Saves a received message unless it is stored already, and says which: WhatsApp delivers a
   * message again when the device that decrypted it died before acknowledging it (on this runner
   * or one that owned the session before), and that copy must not become a second event.
   */
  /** Whether the message is stored already (one indexed lookup). */
  async isStored(sessionId: string, key: WaMessageKey, manager?: EntityManager): Promise<boolean> {
    const repo = manager ? manager.getRepository(WaMessageEntity) : this.messages;
    const chats = [...new Set([key.chatJid, await this.canonicalJid(sessionId, key.chatJid, manager)])];
    return repo.existsBy({ sessionId, chatJid: In(chats), messageId: key.id, fromMe: key.fromMe });
  }

  async saveIfNew(input: StoredMessageInput, manager?: EntityManager): Promise<boolean> {
    if (await this.isStored(input.sessionId, input.key, manager)) return false;
    await this.save(input, manager);
    return true;
  }

  /**
   * Records a pair and, in the same transaction, moves what was stored under the LID to the phone
   * number (see `mergeLidRows`). A pair already known is a no-op. Pairs of one session are
   * recorded one after the other, and `pairOf` waits for those begun before it.
   */
  saveLidMapping(sessionId: string, mapping: WaLidMapping): Promise<void> {
    const lid = normalizeJid(mapping.lid);
    const pn = normalizeJid(mapping.pn);
    if (!isLidJid(lid) || !isPhoneJid(pn)) return Promise.resolve();
    const work = (this.learning.get(sessionId) ?? Promise.resolve()).then(async () => {
      if ((await this.lids.findOneBy({ sessionId, lid }))?.pn === pn) return;
      await transactionInTurn(this.messages.manager.connection, async (m) => {
        await m.getRepository(WaLidMappingEntity).upsert({ sessionId, lid, pn }, ['sessionId', 'lid']);
        await mergeLidRows(m, m.connection.options.type === 'postgres', sessionId, lid, pn);
        await mergeLidReceipts(m, m.connection.options.type === 'postgres', sessionId, lid, pn);
      });
      this.forgetPeople(sessionId, lid);
      this.forgetPeople(sessionId, pn);
      this.forgetPairs(sessionId);
    });
    const settled = work.catch(() => undefined);
    this.learning.set(sessionId, settled);
    void settled.then(() => {
      if (this.learning.get(sessionId) === settled) this.learning.delete(sessionId);
    });
    return work;
  }

  /**
   * The one id the store keeps a contact under: its phone-number jid when known (a LID with a
   * known pair becomes its phone number), else the jid as given. Groups and others stay as they are.
   */
  async canonicalJid(sessionId: string, jid: string, manager?: EntityManager): Promise<string> {
    if (!isLidJid(jid)) return jid;
    const repo = manager ? manager.getRepository(WaLidMappingEntity) : this.lids;
    return (await repo.findOneBy({ sessionId, lid: normalizeJid(jid) }))?.pn ?? jid;
  }

  /**
   * A contact's canonical id and both of its forms as known, after the pairs being recorded;
   * `alternate`, its other form as WhatsApp named it alongside, is recorded first.
   */
  async pairOf(sessionId: string, jid: string, alternate?: string): Promise<ContactIds> {
    if (alternate) {
      const [a, b] = [normalizeJid(jid), normalizeJid(alternate)];
      if (isLidJid(a) && isPhoneJid(b)) await this.saveLidMapping(sessionId, { lid: a, pn: b });
      else if (isLidJid(b) && isPhoneJid(a)) await this.saveLidMapping(sessionId, { lid: b, pn: a });
    }
    await this.learning.get(sessionId);
    const j = normalizeJid(jid);
    if (!isLidJid(j) && !isPhoneJid(j)) return { jid };
    const cache = this.pairs.get(sessionId);
    const known = cache?.answers.get(j);
    if (known) return known;
    const epoch = cache?.epoch;
    const ids = await this.readPair(sessionId, j);
    // Kept only when no pair was recorded meanwhile (that drops the session's answers).
    if (cache && this.pairs.get(sessionId) === cache && cache.epoch === epoch) {
      if (cache.answers.size >= PAIRS_PER_SESSION_MAX) cache.answers.clear();
      cache.answers.set(j, Object.freeze(ids));
    }
    return ids;
  }

  /** The pair of a LID or phone-number jid, as stored (prepared statements: every status and received message names its chat this way). */
  private async readPair(sessionId: string, j: string): Promise<ContactIds> {
    if (isLidJid(j)) {
      const pn = (await this.sql.all(PN_OF_LID, [sessionId, j]))[0]?.pn as string | undefined;
      return pn ? { jid: pn, pn, lid: j } : { jid: j, lid: j };
    }
    const lid = (await this.sql.all(LID_OF_PN, [sessionId, j]))[0]?.lid as string | undefined;
    return { jid: j, pn: j, ...(lid ? { lid } : {}) };
  }

  /** This runner holds the session's lease from now on: its pair answers may be kept. */
  held(sessionId: string): void {
    this.pairs.set(sessionId, { epoch: 0, answers: new Map() });
  }

  /** This runner no longer holds the session: another runner may record its pairs. */
  released(sessionId: string): void {
    this.pairs.delete(sessionId);
  }

  private forgetPairs(sessionId: string): void {
    const cache = this.pairs.get(sessionId);
    if (!cache) return;
    cache.epoch++;
    cache.answers.clear();
  }

  /** Resolves once the pairs this session is recording now are written (and merged). */
  async pairsRecorded(sessionId: string): Promise<void> {
    await this.learning.get(sessionId);
  }

  /** `pairOf` (without an alternate) for many jids in one query, by the jid as given. */
  async pairsOf(sessionId: string, jids: string[]): Promise<Map<string, ContactIds>> {
    await this.pairsRecorded(sessionId);
    const normal = [...new Set(jids.map(normalizeJid))];
    const mappings = await this.lidMappingsOf(sessionId, normal.filter(isLidJid), normal.filter(isPhoneJid));
    const pnOf = new Map(mappings.map((m) => [m.lid, m.pn]));
    const lidOf = new Map<string, string>();
    for (const m of mappings) if (normal.includes(m.pn) && (!lidOf.has(m.pn) || m.lid < lidOf.get(m.pn)!)) lidOf.set(m.pn, m.lid);
    const pairs = new Map<string, ContactIds>();
    for (const jid of jids) {
      const j = normalizeJid(jid);
      const pn = pnOf.get(j);
      const lid = lidOf.get(j);
      if (isLidJid(j)) pairs.set(jid, pn ? { jid: pn, pn, lid: j } : { jid: j, lid: j });
      else if (isPhoneJid(j)) pairs.set(jid, { jid: j, pn: j, ...(lid ? { lid } : {}) });
      else pairs.set(jid, { jid });
    }
    return pairs;
  }

  /** The other form of a jid (LID for a phone-number jid and back), when known. */
  async alternateJid(sessionId: string, jid: string): Promise<string | undefined> {
    const ids = await this.pairOf(sessionId, jid);
    return isLidJid(normalizeJid(jid)) ? ids.pn : ids.lid;
  }

  /** A chat deleted (or, keeping its place in the chat list, cleared) on some device of the account. */
  async forgetChatMessages(sessionId: string, chats: string[], keepSummary: boolean): Promise<void> {
    if (!chats.length) return;
    // Members' receipts go with our messages they are about (named by id alone, so first).
    await this.messages.manager
      .createQueryBuilder()
      .delete()
      .from('wa_member_receipts')
      .where('session_id = :sessionId', { sessionId })
      .andWhere('message_id IN (SELECT m.message_id FROM wa_messages m WHERE m.session_id = :sessionId AND m.chat_jid IN (:...chats) AND m.from_me = :fromMe)', { chats, fromMe: true })
      .execute();
    await this.messages.delete({ sessionId, chatJid: In(chats) });
    if (!keepSummary) {
      await this.messages.manager.createQueryBuilder().delete().from('wa_chats').where('session_id = :sessionId', { sessionId }).andWhere('chat_jid IN (:...chats)', { chats }).execute();
    }
  }

  async forgetSession(sessionId: string): Promise<void> {
    this.forgetPeople(sessionId);
    this.forgetPairs(sessionId);
    await this.messages.delete({ sessionId });
    await this.messages.manager.createQueryBuilder().delete().from('wa_chats').where('session_id = :sessionId', { sessionId }).execute();
    await this.messages.manager.createQueryBuilder().delete().from('wa_correspondents').where('session_id = :sessionId', { sessionId }).execute();
    await this.lids.delete({ sessionId });
    await this.votes.delete({ sessionId });
    await this.contacts.delete({ sessionId });
    for (const table of ['wa_chat_states', 'wa_labels', 'wa_label_associations', 'wa_member_receipts']) {
      await this.messages.manager.createQueryBuilder().delete().from(table).where('session_id = :sessionId', { sessionId }).execute();
    }
  }
}
