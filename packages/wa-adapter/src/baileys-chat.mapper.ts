import type { BaileysEventMap, ChatModification } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };
import type { WaChatChange, WaChatUpdate, WaContactName, WaLabel, WaLabelAssociation, WaLastMessage, WaStarUpdate } from './wa-chat.port';

/**
 * Our chat changes as Baileys' chat modifications. Archive, mark read, delete and clear carry the
 * chat's newest message as the range they apply to, as WhatsApp's clients send it.
 */
export function toChatModification(change: WaChatChange, last?: WaLastMessage): ChatModification {
  const lastMessages = last
    ? [{ key: { remoteJid: last.key.chatJid, id: last.key.id, fromMe: last.key.fromMe, ...(last.key.participant ? { participant: last.key.participant } : {}) }, messageTimestamp: Math.floor(last.timestampMs / 1000) }]
    : [];
  if ('archived' in change) return { archive: change.archived, lastMessages };
  if ('pinned' in change) return { pin: change.pinned };
  if ('mutedUntil' in change) return { mute: change.mutedUntil };
  if ('unread' in change) return { markRead: !change.unread, lastMessages };
  if ('deleted' in change) return { delete: true, lastMessages };
  return { clear: true, lastMessages };
}

/** What Baileys made of app-state patches (its `chats.update`, `chats.delete`) as chat updates. */
export function chatUpdatesOf(events: Partial<BaileysEventMap>, now = Date.now()): WaChatUpdate[] {
  const updates: WaChatUpdate[] = [];
  for (const chat of events['chats.update'] ?? []) {
    if (!chat.id) continue;
    const update: WaChatUpdate = { chatJid: chat.id, timestampMs: now };
    if (chat.archived !== undefined && chat.archived !== null) update.archived = chat.archived;
    if (chat.pinned !== undefined) update.pinnedAt = chat.pinned ? Number(chat.pinned) : null;
    if (chat.muteEndTime !== undefined) update.mutedUntil = chat.muteEndTime ? Number(chat.muteEndTime) : null;
    // App state marks a chat unread (-1) or read (0); Baileys also counts incoming messages up
    // (positive counts), which is its own bookkeeping, not a change anyone made to the chat.
    if (chat.unreadCount === -1 || chat.unreadCount === 0) update.unread = chat.unreadCount === -1;
    if (Object.keys(update).length > 2) updates.push(update);
  }
  for (const jid of events['chats.delete'] ?? []) updates.push({ chatJid: jid, deleted: true, timestampMs: now });
  return updates;
}

/** Stars and unstars from app state (Baileys reports them as `messages.update` with `starred`). */
export function starUpdatesOf(events: Partial<BaileysEventMap>, now = Date.now()): WaStarUpdate[] {
  return (events['messages.update'] ?? [])
    .filter(({ key, update }) => typeof update.starred === 'boolean' && key.id && key.remoteJid)
    .map(({ key, update }) => ({ key: { chatJid: key.remoteJid!, id: key.id!, fromMe: !!key.fromMe }, starred: !!update.starred, timestampMs: now }));
}

/** Label edits from app state (`labels.edit`). */
export function labelEditsOf(events: Partial<BaileysEventMap>, now = Date.now()): Array<WaLabel & { timestampMs: number }> {
  const edit = events['labels.edit'];
  if (!edit?.id) return [];
  return [
    {
      id: edit.id,
      ...(edit.name !== undefined && edit.name !== null ? { name: edit.name } : {}),
      ...(typeof edit.color === 'number' ? { color: edit.color } : {}),
      ...(edit.deleted ? { deleted: true } : {}),
      ...(edit.predefinedId ? { predefinedId: String(edit.predefinedId) } : {}),
      timestampMs: now,
    },
  ];
}

/** Labels put on or taken off chats and messages (`labels.association`). */
export function labelAssociationsOf(events: Partial<BaileysEventMap>, now = Date.now()): WaLabelAssociation[] {
  const item = events['labels.association'];
  if (!item) return [];
  const { association } = item;
  return [
    {
      labelId: association.labelId,
      chatJid: association.chatId,
      ...('messageId' in association && association.messageId ? { messageId: association.messageId } : {}),
      labeled: item.type === 'add',
      timestampMs: now,
    },
  ];
}

/**
 * Saved names from app state. In rc14 only `contactAction` and `lidContactAction` patches raise
 * `contacts.upsert` (push names come as `contacts.update`); a patch without any name is a removal,
 * which is how Baileys reports `removeContact` (a REMOVE mutation of an empty contactAction).
 */
export function contactNamesOf(events: Partial<BaileysEventMap>, now = Date.now()): WaContactName[] {
  return (events['contacts.upsert'] ?? [])
    .filter((contact) => !!contact.id)
    .map((contact) => ({
      jid: contact.id,
      name: contact.name || null,
      ...(contact.lid && contact.lid !== contact.id ? { lid: contact.lid } : {}),
      ...(contact.phoneNumber && contact.phoneNumber !== contact.id ? { pn: contact.phoneNumber } : {}),
      timestampMs: now,
    }));
}
