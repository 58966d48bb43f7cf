import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { ChatState } from '@wa/contracts/runtime';
import { In, Repository, type FindOptionsWhere } from 'typeorm';
import type { ChatStateRow } from '../messages/list-reads';
import { MessageStore } from '../messages/message-store';
import { WaChatStateEntity } from '../messages/wa-chat-state.entity';

/** One change as an app-state patch told it; absent fields stay as they were. */
export interface ChatStateChange {
  archived?: boolean;
  pinnedAt?: number | null;
  mutedUntil?: number | null;
  unread?: boolean;
}

export interface ChatStateFilter {
  archived?: boolean;
  pinned?: boolean;
  unread?: boolean;
}

/** The runner's record of each chat's organisation, the only writer of `wa_chat_states` (the chat list reads it along, see `ListReads`). */
@Injectable()
export class ChatStateStore {
  constructor(
    @InjectRepository(WaChatStateEntity) private readonly repo: Repository<WaChatStateEntity>,
    private readonly store: MessageStore,
  ) {}

  /** Kept under the chat's one id (a contact's LID becomes its phone number when known). */
  async apply(sessionId: string, given: string, change: ChatStateChange, at: number): Promise<void> {
    const chatJid = await this.store.canonicalJid(sessionId, given);
    const current = await this.repo.findOneBy({ sessionId, chatJid });
    const next: WaChatStateEntity = Object.assign(new WaChatStateEntity(), {
      sessionId,
      chatJid,
      archived: change.archived ?? current?.archived ?? false,
      pinnedAt: change.pinnedAt !== undefined ? change.pinnedAt : (current?.pinnedAt ?? null),
      mutedUntil: change.mutedUntil !== undefined ? change.mutedUntil : (current?.mutedUntil ?? null),
      unread: change.unread ?? current?.unread ?? false,
      updatedAt: at,
    });
    // An upsert: the write here and the same change read back from WhatsApp may race.
    await this.repo.upsert(next, ['sessionId', 'chatJid']);
  }

  async forget(sessionId: string, chats: string[]): Promise<void> {
    if (chats.length) await this.repo.delete({ sessionId, chatJid: In(chats) });
  }

  /** The state of each of the given jids that has one. */
  async statesOf(sessionId: string, chats: string[]): Promise<Map<string, WaChatStateEntity>> {
    if (!chats.length) return new Map();
    const rows = await this.repo.findBy({ sessionId, chatJid: In([...new Set(chats)]) });
    return new Map(rows.map((r) => [r.chatJid, r]));
  }

  /** Chats whose state matches every `true` of the filter (the `false` ones are checked by the caller). */
  async matching(sessionId: string, filter: ChatStateFilter): Promise<WaChatStateEntity[]> {
    const where: FindOptionsWhere<WaChatStateEntity> = { sessionId };
    if (filter.archived) where.archived = true;
    if (filter.unread) where.unread = true;
    const rows = await this.repo.findBy(where);
    return rows.filter((r) => matches(r, filter));
  }
}

export function matches(state: ChatStateRow | undefined, filter: ChatStateFilter): boolean {
  const view = { archived: !!state?.archived, pinned: state?.pinnedAt != null, unread: !!state?.unread };
  return (Object.keys(filter) as (keyof ChatStateFilter)[]).every((k) => filter[k] === undefined || filter[k] === view[k]);
}

/** The public view of a chat's organisation. */
export function toChatState(chat: string, state: ChatStateRow | undefined): ChatState {
  return {
    chat,
    archived: !!state?.archived,
    pinned: state?.pinnedAt != null,
    ...(state?.mutedUntil != null && (state.mutedUntil === -1 || state.mutedUntil > Date.now()) ? { mutedUntil: state.mutedUntil } : {}),
    unread: !!state?.unread,
  };
}
