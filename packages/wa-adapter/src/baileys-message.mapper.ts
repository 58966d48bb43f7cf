import { normalizeJid } from '@wa/domain';
import type { BaileysEventMap, WAMessage, WAMessageKey, proto } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };

import type { BaileysModule } from './baileys.loader';
import type { WaDeliveryStatus, WaIncomingMessage, WaMessageKey, WaMessageStatusUpdate, WaMessageType } from './wa-engine.port';

/** `proto.WebMessageInfo.Status` values, in WhatsApp's order. */
const STATUS_BY_PROTO: Record<number, WaDeliveryStatus> = {
  0: 'error',
  1: 'pending',
  2: 'server_ack',
  3: 'delivered',
  4: 'read',
  5: 'played',
};

export function deliveryStatus(protoStatus: number | null | undefined): WaDeliveryStatus | undefined {
  return protoStatus === null || protoStatus === undefined ? undefined : STATUS_BY_PROTO[protoStatus];
}

/** The statuses that `messages.update` (1:1 receipts, acks) and `message-receipt.update` (a group member's receipt) tell. */
export function statusUpdatesOf(events: Pick<Partial<BaileysEventMap>, 'messages.update' | 'message-receipt.update'>): WaMessageStatusUpdate[] {
  const updates: WaMessageStatusUpdate[] = [];
  for (const { key, update } of events['messages.update'] ?? []) {
    const status = deliveryStatus(update.status);
    if (status) updates.push({ key: toWaKey(key), status, timestampMs: Date.now() });
  }
  for (const { key, receipt } of events['message-receipt.update'] ?? []) {
    const [status, at] = receipt.playedTimestamp
      ? (['played', receipt.playedTimestamp] as const)
      : receipt.readTimestamp
        ? (['read', receipt.readTimestamp] as const)
        : (['delivered', receipt.receiptTimestamp] as const);
    updates.push({ key: toWaKey(key), status, ...(receipt.userJid ? { recipient: receipt.userJid } : {}), timestampMs: toMillis(at) });
  }
  return updates;
}

export function toWaKey(key: proto.IMessageKey): WaMessageKey {
  return {
    chatJid: key.remoteJid ?? '',
    id: key.id ?? '',
    fromMe: Boolean(key.fromMe),
    ...(key.participant ? { participant: key.participant } : {}),
  };
}

export function toProtoKey(key: WaMessageKey): WAMessageKey {
  return {
    remoteJid: key.chatJid,
    id: key.id,
    fromMe: key.fromMe,
    ...(key.participant ? { participant: key.participant } : {}),
  };
}

/** Protobuf timestamps arrive as number or Long; seconds on messages. */
export function toMillis(seconds: number | { toNumber(): number } | null | undefined, fallback = Date.now()): number {
  if (seconds === null || seconds === undefined) return fallback;
  return (typeof seconds === 'number' ? seconds : seconds.toNumber()) * 1000;
}

export function encodeWebMessage(b: BaileysModule, message: WAMessage): Uint8Array {
  return b.proto.WebMessageInfo.encode(message).finish();
}

export function decodeWebMessage(b: BaileysModule, raw: Uint8Array): WAMessage {
  const decoded = b.proto.WebMessageInfo.decode(raw);
  decoded.key ??= {};
  return decoded as WAMessage;
}

export function pollCreationOf(content: proto.IMessage | undefined): proto.Message.IPollCreationMessage | undefined {
  return (
    content?.pollCreationMessage ?? content?.pollCreationMessageV2 ?? content?.pollCreationMessageV3 ?? undefined
  );
}

export function pollOptionTexts(poll: proto.Message.IPollCreationMessage): string[] {
  return (poll.options ?? []).map((o) => o.optionName ?? '');
}

const TYPE_BY_CONTENT: Partial<Record<keyof proto.IMessage, WaMessageType>> = {
  conversation: 'text',
  extendedTextMessage: 'text',
  imageMessage: 'image',
  videoMessage: 'video',
  ptvMessage: 'video',
  audioMessage: 'audio',
  documentMessage: 'document',
  stickerMessage: 'sticker',
  locationMessage: 'location',
  liveLocationMessage: 'location',
  contactMessage: 'contacts',
  contactsArrayMessage: 'contacts',
  pollCreationMessage: 'poll',
  pollCreationMessageV2: 'poll',
  pollCreationMessageV3: 'poll',
};

function textOf(content: proto.IMessage): string | undefined {
  return (
    content.conversation ??
    content.extendedTextMessage?.text ??
    content.imageMessage?.caption ??
    content.videoMessage?.caption ??
    content.documentMessage?.caption ??
    pollCreationOf(content)?.name ??
    content.locationMessage?.name ??
    content.contactMessage?.displayName ??
    undefined
  );
}

/** A user-visible message (not a reaction, edit, revoke, vote or protocol message). */
export function toIncomingMessage(b: BaileysModule, message: WAMessage, content: proto.IMessage): WaIncomingMessage {
  const contentType = b.getContentType(content);
  const type = (contentType && TYPE_BY_CONTENT[contentType]) ?? 'unknown';
  const inner = contentType ? (content[contentType] as { contextInfo?: proto.IContextInfo | null } | null) : undefined;
  const poll = pollCreationOf(content);
  const key = message.key;
  return {
    key: toWaKey(key),
    ...(key.remoteJidAlt ? { chatJidAlt: key.remoteJidAlt } : {}),
    ...(key.participantAlt ? { participantAlt: key.participantAlt } : {}),
    ...(message.pushName ? { pushName: message.pushName } : {}),
    timestampMs: toMillis(message.messageTimestamp),
    type,
    ...(textOf(content) !== undefined ? { text: textOf(content) } : {}),
    ...(poll ? { pollOptions: pollOptionTexts(poll) } : {}),
    ...(inner && typeof inner === 'object' && inner.contextInfo?.stanzaId ? { quotedId: inner.contextInfo.stanzaId } : {}),
    ...((key as { server_id?: string }).server_id ? { serverId: (key as { server_id?: string }).server_id } : {}),
    raw: encodeWebMessage(b, message),
  };
}

/** The author of a message as a device-less jid: us, the group participant, or the 1:1 peer. */
export function authorOf(key: WAMessageKey, ownJids: string[]): string[] {
  if (key.fromMe) return ownJids.map(normalizeJid);
  const author = key.participant || key.remoteJid;
  const alt = key.participant ? key.participantAlt : key.remoteJidAlt;
  return [author, alt].filter((j): j is string => Boolean(j)).map(normalizeJid);
}
