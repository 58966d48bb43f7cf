import { Injectable } from '@nestjs/common';
import {
  type RpcPattern,
  type SessionRef,
  RPC_MESSAGING,
  type LookupPayload,
  type LookupResult,
  type MessageReactionDto,
  type MessageSendDto,
  type MessageTarget,
  type OutboxAction,
  type OutboxEntryDto,
  type OutgoingContent,
  type PollVoteDto,
  type SendResultDto,
} from '@wa/contracts';
import { AppError, newId, sha256 } from '@wa/domain';
import { GatewayConfig } from '../config/gateway.config';
import { RunnerClient } from '../runner/runner-client';
import { MediaPolicy } from './media.policy';
import { OutboxDispatcher } from './outbox.dispatcher';
import { OutboxStore, type OutboxRow, type SessionRow } from './outbox.store';

/** `Idempotency-Key`: 1-255 printable ASCII characters. */
const IDEMPOTENCY_KEY_RE = /^[\x20-\x7E]{1,255}$/;
/** The outbox error (and `message.status` error) of a send refused because the account blocked the contact. */
const CONTACT_BLOCKED = 'contact_blocked';

/** A sync request that has not stored its answer this long after its own timeout has died with its gateway. */
const ABANDONED_AFTER_MS = 5000;

export const sessionNotFound = (): AppError => new AppError('not_found', 'session not found');

export interface WriteRequest {
  orgId: string;
  sessionId: string;
  /** The idempotency scope next to org and key: one name per write route. */
  route: string;
  idempotencyKey?: string;
  async: boolean;
  /** Everything that makes two requests "the same": path parameters and body. */
  fingerprint: unknown;
  /** Validates against the session (and the runner's store) and says what the entry will do. */
  plan: (session: SessionRow & { orgId: string }) => Promise<{ chat: string; action: OutboxAction }>;
}

/** JSON with sorted keys, so that the same request hashes the same whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const rec = value as Record<string, unknown>;
    return `{${Object.keys(rec)
      .filter((k) => rec[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(rec[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function toResult(row: Pick<OutboxRow, 'id' | 'status' | 'createdAt' | 'waMessageId'>, mode: 'sync' | 'async', replayed: boolean): SendResultDto {
  return { mode, outboxId: row.id, replayed, status: row.status, timestamp: row.createdAt, waMessageId: row.waMessageId };
}

export function toOutboxEntry(row: OutboxRow): OutboxEntryDto {
  return {
    id: row.id,
    sessionId: row.sessionId,
    kind: row.kind,
    chat: row.chat,
    waMessageId: row.waMessageId,
    status: row.status,
    error: row.error,
    mode: row.mode,
    attempts: row.attempts,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Every WhatsApp-side write becomes an outbox entry here: session check, idempotency,
 * validation against the target message, the durable insert with a WhatsApp id minted on the
 * spot, then either an immediate answer (async) or a bounded wait for the hand-over (sync).
 */
@Injectable()
export class MessagesService {
  constructor(
    private readonly store: OutboxStore,
    private readonly dispatcher: OutboxDispatcher,
    private readonly runner: RunnerClient,
    private readonly media: MediaPolicy,
    private readonly config: GatewayConfig,
  ) {}

  async requireSession(orgId: string, sessionId: string): Promise<SessionRow> {
    const session = await this.store.session(orgId, sessionId);
    if (!session) throw sessionNotFound();
    return session;
  }

  /**
   * Asks the runner of one of the org's sessions: another org's session is a 404 exactly like a
   * missing one, found before any runner is asked.
   */
  async askRunner<T, P extends SessionRef>(orgId: string, sessionId: string, pattern: RpcPattern, payload: Omit<P, keyof SessionRef>, timeoutMs?: number): Promise<T> {
    await this.requireSession(orgId, sessionId);
    return this.runner.call<T, P>(pattern, { ...payload, orgId, sessionId } as P, timeoutMs);
  }

  async submit(req: WriteRequest): Promise<SendResultDto> {
    const session = await this.requireSession(req.orgId, req.sessionId);
    let hash: string | undefined;
    if (req.idempotencyKey !== undefined) {
      if (!IDEMPOTENCY_KEY_RE.test(req.idempotencyKey)) {
        throw new AppError('validation_error', 'Idempotency-Key must be 1-255 printable ASCII characters', {
          fields: [{ field: 'Idempotency-Key', problems: ['must be 1-255 printable ASCII characters'] }],
        });
      }
      hash = sha256(canonical(req.fingerprint), 'hex');
    }
    // A request with a key is written first and looked up only when the key exists already (the
    // insert is a no-op then) or when it cannot go ahead: a new key costs no extra round trip,
    // and a repeat still gets the first answer even when the session or its target changed since.
    let chat: string;
    let action: OutboxAction;
    try {
      if (!req.async && session.status !== 'connected') {
        throw new AppError('session_not_connected', `the session is ${session.status}; send with "Prefer: respond-async" to queue the message until it connects`, {
          status: session.status,
        });
      }
      ({ chat, action } = await req.plan({ ...session, orgId: req.orgId }));
    } catch (err) {
      const earlier = hash !== undefined ? await this.earlierAnswer(req, hash) : undefined;
      if (earlier) return earlier;
      throw err;
    }

    const now = Date.now();
    const entry = {
      id: newId(now),
      orgId: req.orgId,
      sessionId: session.id,
      chat,
      kind: action.kind,
      action: JSON.stringify(action),
      waMessageId: this.store.mintWaMessageId(now),
      mode: req.async ? ('async' as const) : ('sync' as const),
      createdAt: now,
    };
    const accepted = toResult({ id: entry.id, status: 'queued', createdAt: now, waMessageId: entry.waMessageId }, entry.mode, false);
    const key =
      hash !== undefined && req.idempotencyKey !== undefined
        ? { route: req.route, key: req.idempotencyKey, requestHash: hash, expiresAt: now + this.config.messaging.idempotencyTtlMs, response: req.async ? JSON.stringify(accepted) : null }
        : undefined;
    const accepting = this.store.accept(entry, key);
    // A sync send's claim goes with its insert where the two can share a commit.
    const claiming = !req.async && session.status === 'connected' ? this.dispatcher.claimInTurn(entry.sessionId, entry.chat) : undefined;
    const claimed = claiming?.catch(() => false);
    if (!(await accepting)) {
      // A live key with this name: an earlier request (or one in flight) has it.
      const earlier = await this.earlierAnswer(req, hash as string);
      if (earlier) return earlier;
      throw new AppError('conflict', 'a request with this Idempotency-Key is in flight');
    }
    // A connected session's chat is looked at now; others wait for the session to connect.
    if (session.status === 'connected' && !(await claimed)) this.dispatcher.kickChat(entry.sessionId, entry.chat);
    if (req.async) return accepted;

    const row = await this.dispatcher.waitForHandover(entry.id, this.config.messaging.syncTimeoutMs, true);
    const result = toResult(row ?? { ...entry, status: 'queued' }, 'sync', false);
    if (key) await this.store.saveResponse(req.orgId, req.route, key.key, JSON.stringify(result));
    // As WhatsApp's own apps do ("unblock to send"): a send to a contact the account blocked is refused.
    if (row?.status === 'failed' && row.error?.startsWith(`${CONTACT_BLOCKED}:`)) {
      throw new AppError('forbidden', 'the account blocked this contact: unblock it to send to it', {
        reason: CONTACT_BLOCKED,
        chat: entry.chat,
        outboxId: entry.id,
      });
    }
    return result;
  }

  /** The stored answer of an earlier request with the same key, or the error a reuse deserves. */
  private async earlierAnswer(req: WriteRequest, hash: string): Promise<SendResultDto | undefined> {
    const now = Date.now();
    const earlier = await this.store.idempotency(req.orgId, req.route, req.idempotencyKey as string);
    if (!earlier || earlier.expiresAt < now) return undefined;
    if (earlier.requestHash !== hash) {
      throw new AppError('idempotency_key_reused', 'this Idempotency-Key was used with a different request', { idempotencyKey: req.idempotencyKey });
    }
    if (earlier.response) return { ...(JSON.parse(earlier.response) as SendResultDto), replayed: true };
    if (earlier.createdAt + this.config.messaging.syncTimeoutMs + ABANDONED_AFTER_MS < now) {
      const row = await this.store.byId(earlier.outboxId);
      if (row) return toResult(row, row.mode, true);
    }
    throw new AppError('conflict', 'a request with this Idempotency-Key is still in flight; retry after it completed', { idempotencyKey: req.idempotencyKey });
  }

  async outboxEntry(orgId: string, sessionId: string, id: string): Promise<OutboxEntryDto> {
    await this.requireSession(orgId, sessionId);
    const row = await this.store.get(orgId, sessionId, id);
    if (!row) throw new AppError('not_found', 'outbox entry not found');
    return toOutboxEntry(row);
  }

  // --- plans: what each route asks WhatsApp to do, validated before anything is written ---

  async planSend(dto: MessageSendDto, session?: SessionRow & { orgId: string }): Promise<{ chat: string; action: OutboxAction }> {
    if (dto.type === 'forward' && session && !(await this.lookup(session, { id: dto.messageId, chat: dto.fromChat, sender: '' })).exists) {
      throw new AppError('not_found', 'the message to forward is not stored in this session', { messageId: dto.messageId, fromChat: dto.fromChat });
    }
    const replyTo = 'replyTo' in dto && dto.replyTo ? { id: dto.replyTo.id, chat: dto.chat, sender: dto.replyTo.sender } : undefined;
    return { chat: dto.chat, action: { kind: 'send', chat: dto.chat, content: await this.content(dto), ...(replyTo ? { replyTo } : {}) } };
  }

  private async content(dto: MessageSendDto): Promise<OutgoingContent> {
    switch (dto.type) {
      case 'text':
        if (dto.mentionAll && !dto.chat.endsWith('@g.us')) {
          throw new AppError('validation_error', 'mentionAll is for group chats', { fields: [{ field: 'mentionAll', problems: ['only in a group (a chat ending in @g.us)'] }] });
        }
        return { type: 'text', text: dto.text, ...(dto.mentions?.length ? { mentions: dto.mentions } : {}), ...(dto.mentionAll ? { mentionAll: true } : {}) };
      case 'location':
        return { type: 'location', latitude: dto.latitude, longitude: dto.longitude, name: dto.name, address: dto.address };
      case 'contacts':
        return { type: 'contacts', contacts: dto.contacts.map((c) => ({ displayName: c.displayName, vcard: c.vcard })) };
      case 'poll':
        return { type: 'poll', name: dto.name, options: dto.options, selectableCount: dto.selectableCount };
      case 'forward':
        return { type: 'forward', messageId: dto.messageId, fromChat: dto.fromChat };
      case 'image':
      case 'video':
      case 'audio':
      case 'document':
      case 'sticker': {
        const media = await this.media.source(dto);
        const mentions = 'mentions' in dto && dto.mentions?.length ? { mentions: dto.mentions } : {};
        if (dto.type === 'image') return { type: 'image', media, mimetype: dto.mimetype, caption: dto.caption, ...mentions };
        if (dto.type === 'video') {
          return { type: 'video', media, mimetype: dto.mimetype, caption: dto.caption, ...mentions, ...(dto.seconds !== undefined ? { seconds: dto.seconds } : {}), ...(dto.gifPlayback ? { gifPlayback: true } : {}) };
        }
        if (dto.type === 'audio') {
          return { type: 'audio', media, mimetype: dto.mimetype, voiceNote: dto.voiceNote ?? false, ...(dto.seconds !== undefined ? { seconds: dto.seconds } : {}), ...(dto.waveform ? { waveform: dto.waveform } : {}) };
        }
        if (dto.type === 'document') return { type: 'document', media, mimetype: dto.mimetype ?? 'application/octet-stream', fileName: dto.fileName, caption: dto.caption, ...mentions };
        return { type: 'sticker', media };
      }
    }
  }

  async planReaction(session: SessionRow & { orgId: string }, mid: string, dto: Pick<MessageReactionDto, 'chat' | 'sender'>, emoji: string) {
    const target: MessageTarget = { id: mid, chat: dto.chat, sender: dto.sender };
    const found = await this.lookup(session, target);
    if (!found.exists) throw new AppError('not_found', 'message not found');
    return { chat: dto.chat, action: { kind: 'react' as const, target, emoji } };
  }

  async planVote(session: SessionRow & { orgId: string }, mid: string, dto: PollVoteDto) {
    const target: MessageTarget = { id: mid, chat: dto.chat, sender: dto.sender };
    const found = await this.lookup(session, target);
    if (!found.exists) throw new AppError('not_found', 'poll message not found');
    const poll = found.poll;
    const problem = (msg: string): AppError => new AppError('validation_error', msg, { fields: [{ field: 'options', problems: [msg] }] });
    if (!poll) throw new AppError('validation_error', 'the target message is not a poll', { fields: [{ field: 'mid', problems: ['not a poll'] }] });
    const unknown = dto.options.filter((o) => !poll.options.includes(o));
    if (unknown.length) throw problem(`options do not match the poll's choices: ${unknown.map((o) => JSON.stringify(o)).join(', ')}`);
    if (poll.selectableCount === 1 && dto.options.length > 1) throw problem('this is a single-choice poll: select exactly one option (or none to clear your vote)');
    if (poll.selectableCount > 1 && dto.options.length > poll.selectableCount) throw problem(`this poll allows at most ${poll.selectableCount} options`);
    return { chat: dto.chat, action: { kind: 'vote' as const, target, options: dto.options } };
  }

  async planEdit(session: SessionRow & { orgId: string }, mid: string, chat: string, text: string) {
    const target = await this.ownTarget(session, mid, chat);
    const found = await this.lookup(session, target);
    if (!found.exists) throw new AppError('not_found', 'message not found');
    if (!found.fromMe) throw new AppError('validation_error', 'only your own messages can be edited', { fields: [{ field: 'mid', problems: ['not your message'] }] });
    return { chat, action: { kind: 'edit' as const, target, text } };
  }

  async planRevoke(session: SessionRow & { orgId: string }, mid: string, chat: string) {
    const target = await this.ownTarget(session, mid, chat);
    const found = await this.lookup(session, target);
    if (!found.exists) throw new AppError('not_found', 'message not found');
    if (!found.fromMe) throw new AppError('validation_error', 'only your own messages can be deleted for everyone', { fields: [{ field: 'mid', problems: ['not your message'] }] });
    return { chat, action: { kind: 'revoke' as const, target } };
  }

  /** Our own messages: the author is the account itself (the runner matches its LID too). */
  private async ownTarget(session: SessionRow, mid: string, chat: string): Promise<MessageTarget> {
    const sender = chat.endsWith('@lid') && session.meLid ? session.meLid : session.meJid;
    if (!sender) throw new AppError('not_found', 'message not found');
    return { id: mid, chat, sender };
  }

  private lookup(session: SessionRow & { orgId: string }, target: MessageTarget): Promise<LookupResult> {
    return this.runner.call<LookupResult, LookupPayload>(RPC_MESSAGING.lookup, { orgId: session.orgId, sessionId: session.id, target });
  }
}
