import { Inject, Injectable, Logger } from '@nestjs/common';
import { HotSql, type ExecutePayload, ExecuteResult, LookupPayload, LookupResult, MessageTarget, OutboxAction, OutgoingContent } from '@wa/contracts/runtime';
import { AppError, isGroupJid, normalizeJid } from '@wa/domain';
import { decodeStoredMessage, storedMessageKey, type SqlAuthStateStore, type WaConnection, type WaMe, type WaMessageKey, type WaOutgoingContent, type WaSendResult } from '@wa/wa-adapter';
import { DataSource } from 'typeorm';
import { RunnerConfig } from '../config/runner.config';
import { authKeySteps } from '../database/auth-key.writer';
import { MessageStore, type ExpectedSave } from '../messages/message-store';
import { PendingRecords } from '../messages/pending-records';
import { SendLog } from '../messages/send-log';
import type { WaMessageEntity } from '../messages/wa-message.entity';
import { RunnerMetrics } from '../metrics/runner-metrics';
import { publicMessageType } from '../sessions/session-events.mapper';
import { SessionManager } from '../sessions/session-manager';
import { AUTH_STATE_STORE } from '../sessions/wa-engine.provider';
import { toJid } from './jid.resolve';
import { MediaDownloader } from './media-downloader';
import { MessagingObserver } from './messaging.observer';

/** What a send handed to the socket, and what else it changes in the store. */
interface Performed {
  result: WaSendResult;
  type: string;
  vote?: { pollId: string; chatJid: string; selected: string[] };
  edit?: { target: WaMessageKey; text: string };
  revoke?: WaMessageKey;
}

const CONTENT_TYPES = new Set(['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'poll']);

/** Performs outbox entries on the live connection and answers the gateway's pre-checks. */
@Injectable()
export class MessageSender {
  private readonly logger = new Logger('messages');
  /** Each session's next free send turn (unix ms), for pacing. */
  private readonly nextTurn = new Map<string, number>();
  /** Executions in progress, by `session|waMessageId`: each settles when its send is done. */
  private readonly executing = new Map<string, Promise<void>>();
  private hotSqlKind?: HotSql['kind'];

  constructor(
    private readonly sessions: SessionManager,
    private readonly store: MessageStore,
    private readonly sendLog: SendLog,
    private readonly observer: MessagingObserver,
    private readonly config: RunnerConfig,
    private readonly media: MediaDownloader,
    private readonly metrics: RunnerMetrics,
    @Inject(AUTH_STATE_STORE) private readonly authStore: SqlAuthStateStore,
    private readonly dataSource: DataSource,
    private readonly records: PendingRecords,
  ) {}

  /**
   * One execution per id at a time in this runner: a hand-over repeated while the first is still
   * on its way (the gateway's wait timed out while the send queued behind its account's key lock)
   * waits for it, then finds its send log; otherwise it would find `relaying`, see no ack within
   * the proof wait, and send a second copy next to the first.
   */
  async execute(p: ExecutePayload): Promise<ExecuteResult> {
    const key = `${p.sessionId}|${String(p.waMessageId)}`;
    const before = this.executing.get(key);
    const run = before ? before.then(() => this.executeOnce(p)) : this.executeOnce(p);
    // The next execution of this id also waits for this one's records, so it finds `relayed`.
    const recorded = () => this.records.settled(p.sessionId);
    const settled = run.then(recorded, recorded).then(() => undefined);
    this.executing.set(key, settled);
    void settled.then(() => {
      if (this.executing.get(key) === settled) this.executing.delete(key);
    });
    return run;
  }

  /**
   * Sends one outbox entry, never the same WhatsApp id twice: the send log is written before the
   * message goes to the socket and again once the socket took it. An id found there already is
   * not sent again, only reported; one whose sender died in between (`relaying`) is sent again
   * only when WhatsApp shows no sign of having it: no receipt for it in the offline backlog this
   * connection was handed at login (see `leftBefore`).
   */
  private async executeOnce(p: ExecutePayload): Promise<ExecuteResult> {
    if (typeof p.waMessageId !== 'string' || !p.waMessageId) throw new AppError('validation_error', 'waMessageId is required');
    // A live connection of this org proves the session exists; only its absence needs the lookup
    // that tells "not found" from "not connected".
    if (!this.sessions.isConnectedFor(p)) {
      await this.sessions.requireSession(p);
      this.sessions.connected(p);
    }
    // Unpaced, an id never seen (nearly every send) is checked and written as `relaying` in one
    // statement. A paced send checks first and writes after its turn: a refusal to wait
    // (`rate_limited`) must leave no `relaying` row behind, which would make its retry wait for
    // proof that it never left.
    const fresh = !isPaced(p.pacing) && (await this.sendLog.begin(p.sessionId, p.waMessageId));
    if (!fresh) {
      const known = await this.sendLog.state(p.sessionId, p.waMessageId);
      if (known === 'relayed' || known === 'acked') {
        this.logger.log({ msg: 'not sending again: this id already went to WhatsApp', sessionId: p.sessionId, waMessageId: p.waMessageId, attempt: p.attempt, state: known });
        return this.alreadySent(p, known);
      }
      if (known === 'relaying') {
        const { left, backlog } = await this.leftBefore(p);
        this.logger.log({ msg: left ? 'not sending again: WhatsApp acknowledged this id' : 'sending again: no sign that this id left', sessionId: p.sessionId, waMessageId: p.waMessageId, attempt: p.attempt, backlog });
        if (left) return this.alreadySent(p, 'acked');
      }
      await this.pace(p);
    }
    const ack = this.observer.expectAck(p.sessionId, p.waMessageId);
    const saved = this.store.expectSave(p.sessionId, p.waMessageId);
    let left = false;
    let recording = false;
    // Baileys commits the Signal keys of a send after its node left: held, they are written
    // with `relayed` (`record`) instead of in a commit of their own (one round trip less per send).
    const releaseKeys = this.authStore.holdKeyWrites(p.sessionId);
    try {
      // The waits above may have outlasted our hold on the session, or seen its connection
      // replaced: take the one that is live right before the socket.
      const connection = this.sessions.connected(p);
      const me = (await this.sessions.me(p.sessionId)) ?? { jid: '' };
      if (!fresh) await this.sendLog.mark(p.sessionId, p.waMessageId, 'relaying');
      const sent = await this.perform(p, connection, me);
      left = true;
      this.metrics.messageSent(sent.type);
      // Written while the ack is on its way; the answer does not wait for them (`PendingRecords`).
      const recorded = this.record(p, sent, me, saved, releaseKeys);
      recording = true;
      this.records.track(p.sessionId, recorded);
      // The ack's status is stored by the session's StatusRecorder (the messaging observer settles
      // this wait); an error ack that comes after this stopped waiting is marked in the send log there.
      const outcome = p.awaitAck === false ? ack.settled() : await ack.wait(this.config.messaging.ackWaitMs);
      // After `relayed`, which would otherwise overwrite it.
      if (outcome === 'failed') await recorded.then(() => this.sendLog.mark(p.sessionId, p.waMessageId, 'failed'));
      return { waMessageId: p.waMessageId, status: outcome === 'acked' ? 'sent' : 'sending', timestamp: sent.result.timestampMs };
    } catch (err) {
      // The socket took it but a write after failed: it must never be sent again (`record` sees to
      // that once it runs).
      if (left && !recording) await this.sendLog.mark(p.sessionId, p.waMessageId, 'relayed').catch(() => undefined);
      // Refused before it reached the socket (validation, not found): nothing left, a retry may send.
      else if (!left && (await this.sendLog.state(p.sessionId, p.waMessageId).catch(() => undefined)) === 'relaying') {
        await this.sendLog.mark(p.sessionId, p.waMessageId, 'failed').catch(() => undefined);
      }
      throw err;
    } finally {
      ack.cancel();
      if (!recording) {
        saved.end();
        await this.releaseHeldKeys(p.sessionId, releaseKeys);
      }
    }
  }

  /**
   * What a send leaves behind once its node left: `relayed`, the Signal keys and the stored
   * message in one commit, then what our own vote, edit or delete changes (they never come back
   * as events, yet change what reads show). Never rejects: a write that fails is logged, and the
   * send log still gets `relayed`, so the message is never sent again.
   */
  private async record(p: ExecutePayload, sent: Performed, me: WaMe, saved: ExpectedSave, releaseKeys: () => Promise<void>): Promise<void> {
    const { result, type, vote, edit, revoke } = sent;
    try {
      const relayed = this.sendLog.markStep(p.sessionId, p.waMessageId, 'relayed');
      await this.authStore.commitHeld(p.sessionId, (upserts, deletes) =>
        this.store.saveSent(
          { sessionId: p.sessionId, key: result.key, type, timestampMs: result.timestampMs, raw: result.raw },
          [relayed, ...authKeySteps(this.sqlKind(), p.sessionId, upserts, deletes)],
          saved,
        ),
      );
      // What the commit did not take (a failure, or keys set since) is written on its own now.
      await releaseKeys();
      if (vote) await this.store.saveVote(p.sessionId, { ...vote, voter: me.jid, timestampMs: result.timestampMs });
      if (edit) await this.store.recordEdit(p.sessionId, edit.target, edit.text, result.timestampMs);
      if (revoke) await this.store.recordRevoke(p.sessionId, revoke, result.timestampMs);
    } catch (err) {
      this.logger.error({ msg: 'a sent message was not fully recorded', sessionId: p.sessionId, waMessageId: p.waMessageId, error: err instanceof Error ? err.message : String(err) });
      await this.sendLog.mark(p.sessionId, p.waMessageId, 'relayed').catch(() => undefined);
    } finally {
      saved.end();
      await this.releaseHeldKeys(p.sessionId, releaseKeys);
    }
  }

  /** After a failure the keys are still held: every later write of the session's keys (or the next send's commit) tries them again, and reads see them meanwhile. */
  private async releaseHeldKeys(sessionId: string, releaseKeys: () => Promise<void>): Promise<void> {
    await releaseKeys().catch((err: unknown) =>
      this.logger.warn({ msg: 'Signal keys not stored yet; kept for the next write', sessionId, error: err instanceof Error ? err.message : String(err) }),
    );
  }

  private sqlKind(): HotSql['kind'] {
    return (this.hotSqlKind ??= HotSql.of(this.dataSource).kind);
  }

  /**
   * Waits for the session's next turn: sends of one session are spaced by the pacing the gateway
   * configured, here, where every gateway's hand-overs meet. A turn further away than the
   * payload's `maxWaitMs` is refused with `rate_limited` and when to come back.
   */
  private async pace(p: ExecutePayload): Promise<void> {
    const pacing = p.pacing;
    if (!isPaced(pacing)) return;
    const now = Date.now();
    const turn = Math.max(now, this.nextTurn.get(p.sessionId) ?? 0);
    if (turn - now > pacing.maxWaitMs) {
      throw new AppError('rate_limited', 'the session is paced; hand this over again later', { retryAfterMs: turn - now - pacing.maxWaitMs / 2 });
    }
    const spread = pacing.jitterMs ? Math.round((Math.random() * 2 - 1) * pacing.jitterMs) : 0;
    this.nextTurn.set(p.sessionId, turn + Math.max(0, pacing.minIntervalMs + spread));
    if (this.nextTurn.size > 10_000) for (const [id, at] of this.nextTurn) if (at < now) this.nextTurn.delete(id);
    if (turn > now) await new Promise((r) => setTimeout(r, turn - now));
  }

  /** The id left earlier (this runner's previous life or another runner): report it, do not resend. */
  private async alreadySent(p: ExecutePayload, state: 'relayed' | 'acked'): Promise<ExecuteResult> {
    const row = await this.store.find(p.sessionId, p.waMessageId, { fromMe: true });
    // The ack may be in hand but not yet stored: the first answer already said `sent`.
    const acked =
      state === 'acked' || this.observer.sawAck(p.sessionId, p.waMessageId) || (row?.status !== undefined && row.status !== null && row.status !== 'failed');
    return { waMessageId: p.waMessageId, status: acked ? 'sent' : 'sending', timestamp: row?.timestampMs ?? Date.now() };
  }

  /**
   * Whether an id whose sender died between writing `relaying` and `relayed` reached WhatsApp.
   * WhatsApp redelivers to a device what it did not acknowledge (recipients' receipts) when the
   * device logs in again, then marks the end of that backlog; each receipt's status is stored
   * (the send log's `acked` among it) before it is acknowledged. So once this connection's
   * backlog is processed, the send log knows every receipt WhatsApp held for the id. Without the
   * end marker (a server that never sends it), the decision waits `SEND_RESEND_PROOF_MS` at most.
   */
  private async leftBefore(p: ExecutePayload): Promise<{ left: boolean; backlog: 'processed' | 'not seen in time' | 'not needed' }> {
    const ack = this.observer.expectAck(p.sessionId, p.waMessageId);
    try {
      if ((await this.sendLog.state(p.sessionId, p.waMessageId)) === 'acked') return { left: true, backlog: 'not needed' };
      this.logger.log({ msg: 'waiting for the offline backlog before deciding whether to send again', sessionId: p.sessionId, waMessageId: p.waMessageId });
      const processed = await this.sessions.connected(p).backlogProcessed(this.config.messaging.resendProofMs);
      const acked = (await ack.wait(0)) === 'acked' || (await this.sendLog.state(p.sessionId, p.waMessageId)) === 'acked';
      return { left: acked, backlog: processed ? 'processed' : 'not seen in time' };
    } finally {
      ack.cancel();
    }
  }

  async lookup(p: LookupPayload): Promise<LookupResult> {
    await this.sessions.requireSession(p);
    const row = await this.findTarget(p.sessionId, p.target);
    if (!row) return { exists: false, fromMe: false };
    const decoded = await decodeStoredMessage(Buffer.from(row.raw, 'base64'));
    return { exists: true, fromMe: row.fromMe, type: publicMessageType(row.type), ...(decoded.poll ? { poll: decoded.poll } : {}) };
  }

  private async perform(p: ExecutePayload, connection: WaConnection, me: WaMe): Promise<Performed> {
    const action: OutboxAction = p.action;
    const options = { messageId: p.waMessageId };
    switch (action?.kind) {
      case 'send': {
        const chat = toJid(action.chat, 'chat');
        const quoted = action.replyTo ? await this.keyOf(p.sessionId, action.replyTo, me, true) : undefined;
        if (action.content?.type === 'forward') {
          const { messageId, fromChat } = action.content;
          const source = await this.findTarget(p.sessionId, { id: String(messageId ?? ''), chat: toJid(fromChat, 'fromChat'), sender: '' });
          if (!source) throw new AppError('not_found', 'the message to forward is not stored in this session', { messageId, fromChat });
          const key = await wireKey(source);
          return { result: await connection.forwardMessage(chat, key, options), type: source.type };
        }
        const resolved = await this.media.resolve(action.content);
        try {
          const content = await this.withEveryoneMentioned(connection, chat, toWaContent(resolved.content), action.content);
          const result = await connection.sendMessage(chat, content, { ...options, ...(quoted ? { quoted } : {}) });
          return { result, type: content.type === 'contact' ? 'contacts' : content.type };
        } finally {
          await resolved.release();
        }
      }
      case 'react': {
        if (typeof action.emoji !== 'string') throw new AppError('validation_error', 'emoji must be a string ("" removes the reaction)');
        const target = await this.keyOf(p.sessionId, action.target, me, false);
        return { result: await connection.react(target, action.emoji, options), type: 'reaction' };
      }
      case 'vote': {
        if (!Array.isArray(action.options) || action.options.some((o) => typeof o !== 'string')) {
          throw new AppError('validation_error', 'options must be a list of option texts');
        }
        const target = await this.keyOf(p.sessionId, action.target, me, true);
        const result = await connection.vote(target, action.options, options);
        return { result, type: 'vote', vote: { pollId: target.id, chatJid: target.chatJid, selected: action.options } };
      }
      case 'edit': {
        if (typeof action.text !== 'string' || !action.text) throw new AppError('validation_error', 'text is required');
        const target = await this.keyOf(p.sessionId, action.target, me, true);
        if (!target.fromMe) throw new AppError('validation_error', 'only our own messages can be edited', { id: target.id });
        return { result: await connection.edit(target, action.text, options), type: 'edit', edit: { target, text: action.text } };
      }
      case 'revoke': {
        const target = await this.keyOf(p.sessionId, action.target, me, true);
        if (!target.fromMe && !isGroupJid(target.chatJid)) throw new AppError('validation_error', 'only our own messages can be deleted for everyone', { id: target.id });
        return { result: await connection.revoke(target, options), type: 'revoke', revoke: target };
      }
      default:
        throw new AppError('validation_error', 'unknown action kind', { kind: (action as { kind?: unknown } | undefined)?.kind });
    }
  }

  /**
   * The key WhatsApp knows a message by. The stored copy wins (its chat form and participant are
   * what the contact saw); without one, the key is built from the target as given.
   */
  /** `mentionAll`: every participant of the group at sending time joins the mentions (ourselves left out). */
  private async withEveryoneMentioned(connection: WaConnection, chat: string, content: WaOutgoingContent, asked: OutgoingContent): Promise<WaOutgoingContent> {
    if (asked.type !== 'text' || !asked.mentionAll || content.type !== 'text') return content;
    if (!chat.endsWith('@g.us')) throw new AppError('validation_error', 'mentionAll is for group chats');
    const group = await connection.groupMetadata(chat);
    const me = connection.status.state === 'connected' ? connection.status.me : undefined;
    const own = new Set([me?.jid, me?.lid].filter((j): j is string => !!j).map(normalizeJid));
    const everyone = group.participants.map((p) => p.jid).filter((j) => !own.has(normalizeJid(j)));
    return { ...content, mentions: [...new Set([...(content.mentions ?? []), ...everyone])] };
  }

  private async keyOf(sessionId: string, target: MessageTarget, me: WaMe, mustExist: boolean): Promise<WaMessageKey> {
    if (!target || typeof target.id !== 'string' || !target.id) throw new AppError('validation_error', 'target.id is required');
    const chat = toJid(target.chat, 'chat');
    const sender = toJid(target.sender, 'sender');
    const fromMe = isOwn(sender, me);
    const row = await this.findTarget(sessionId, { ...target, chat, sender }, fromMe);
    if (row) return wireKey(row);
    if (mustExist) throw new AppError('not_found', 'message not found', { id: target.id, chat });
    return { chatJid: chat, id: target.id, fromMe, ...(isGroupJid(chat) && !fromMe ? { participant: sender } : {}) };
  }

  private async findTarget(sessionId: string, target: MessageTarget, fromMe?: boolean) {
    // A message this session sent a moment ago may still be on its way to the store.
    await this.records.settled(sessionId);
    const chat = toJid(target.chat, 'chat');
    const chats = [chat, ...[await this.store.alternateJid(sessionId, chat)].filter((j): j is string => Boolean(j))];
    const own = fromMe ?? (target.sender ? isOwn(toJid(target.sender, 'sender'), await this.sessions.me(sessionId)) : undefined);
    return (await this.store.find(sessionId, target.id, { chats, ...(own !== undefined ? { fromMe: own } : {}) })) ?? (await this.store.find(sessionId, target.id, { chats }));
  }
}

/**
 * The key a stored message had on the wire: the store keeps one chat id per contact, while
 * WhatsApp knows the message by the chat form and author the contact used.
 */
async function wireKey(row: WaMessageEntity): Promise<WaMessageKey> {
  const wire = await storedMessageKey(Buffer.from(row.raw, 'base64'));
  if (wire && wire.id === row.messageId) return { ...wire, fromMe: row.fromMe };
  return { chatJid: row.chatJid, id: row.messageId, fromMe: row.fromMe, ...(row.participant ? { participant: row.participant } : {}) };
}

/** Our own messages are addressed by our phone jid or our LID, on any of our devices. */
export function isOwn(jid: string, me: WaMe | undefined): boolean {
  if (!me) return false;
  const j = normalizeJid(jid);
  return j === normalizeJid(me.jid) || (me.lid !== undefined && j === normalizeJid(me.lid));
}

/** URLs were downloaded to a file by MediaDownloader before this point: Baileys never fetches a caller's URL. */
function media(source: unknown): { data: Uint8Array } | { file: string } {
  const s = source as { base64?: unknown; file?: unknown } | undefined;
  if (s && typeof s.file === 'string' && s.file) return { file: s.file };
  if (s && typeof s.base64 === 'string' && s.base64) return { data: Buffer.from(s.base64, 'base64') };
  throw new AppError('validation_error', 'media needs base64 data or an http(s) url');
}

const mentionsOf = (c: { mentions?: string[] }) => (c.mentions?.length ? { mentions: c.mentions.map((m) => toJid(m, 'mentions')) } : {});

export function toWaContent(c: OutgoingContent): WaOutgoingContent {
  if (!c || !CONTENT_TYPES.has(c.type)) throw new AppError('validation_error', 'unknown content type', { type: (c as { type?: unknown } | undefined)?.type });
  switch (c.type) {
    case 'text':
      if (typeof c.text !== 'string' || !c.text) throw new AppError('validation_error', 'text is required');
      return { type: 'text', text: c.text, ...(c.mentions?.length ? { mentions: c.mentions.map((m) => toJid(m, 'mentions')) } : {}) };
    case 'image':
      return { type: 'image', media: media(c.media), ...(c.mimetype ? { mimetype: c.mimetype } : {}), ...(c.caption ? { caption: c.caption } : {}), ...mentionsOf(c) };
    case 'video':
      return {
        type: 'video',
        media: media(c.media),
        ...(c.mimetype ? { mimetype: c.mimetype } : {}),
        ...(c.caption ? { caption: c.caption } : {}),
        ...mentionsOf(c),
        ...(typeof c.seconds === 'number' ? { seconds: c.seconds } : {}),
        ...(c.gifPlayback ? { gifPlayback: true } : {}),
      };
    case 'audio':
      return {
        type: 'audio',
        media: media(c.media),
        ...(c.mimetype ? { mimetype: c.mimetype } : {}),
        ...(c.voiceNote ? { voiceNote: true } : {}),
        ...(typeof c.seconds === 'number' ? { seconds: c.seconds } : {}),
        ...(typeof c.waveform === 'string' && c.waveform ? { waveform: Buffer.from(c.waveform, 'base64') } : {}),
      };
    case 'document':
      if (!c.mimetype) throw new AppError('validation_error', 'a document needs a mimetype');
      return {
        type: 'document',
        media: media(c.media),
        mimetype: c.mimetype,
        ...(c.fileName ? { fileName: c.fileName } : {}),
        ...(c.caption ? { caption: c.caption } : {}),
        ...mentionsOf(c),
      };
    case 'sticker':
      return { type: 'sticker', media: media(c.media) };
    case 'location':
      if (typeof c.latitude !== 'number' || typeof c.longitude !== 'number') throw new AppError('validation_error', 'latitude and longitude are required');
      return { type: 'location', latitude: c.latitude, longitude: c.longitude, ...(c.name ? { name: c.name } : {}), ...(c.address ? { address: c.address } : {}) };
    case 'contacts': {
      if (!Array.isArray(c.contacts) || !c.contacts.length || c.contacts.some((x) => !x?.vcard || !x.displayName)) {
        throw new AppError('validation_error', 'contacts needs at least one {displayName, vcard}');
      }
      if (c.contacts.length === 1) return { type: 'contact', displayName: c.contacts[0].displayName, vcard: c.contacts[0].vcard };
      return { type: 'contacts', contacts: c.contacts.map((x) => ({ displayName: x.displayName, vcard: x.vcard })) };
    }
    case 'poll': {
      const options = c.options;
      if (!c.name || !Array.isArray(options) || options.length < 2 || new Set(options).size !== options.length) {
        throw new AppError('validation_error', 'a poll needs a name and at least two distinct options');
      }
      const selectableCount = c.selectableCount ?? 1;
      if (!Number.isInteger(selectableCount) || selectableCount < 0 || selectableCount > options.length) {
        throw new AppError('validation_error', 'selectableCount must be between 0 (any) and the number of options');
      }
      return { type: 'poll', name: c.name, options, selectableCount };
    }
    case 'forward':
      // Resolved from the store before this point (MessageSender.perform).
      throw new AppError('validation_error', 'a forward names a stored message');
  }
}

/** Whether sends of the session are spaced at all (see `pace`). */
function isPaced(pacing: ExecutePayload['pacing']): pacing is NonNullable<ExecutePayload['pacing']> {
  return !!pacing && (pacing.minIntervalMs > 0 || pacing.jitterMs > 0);
}
