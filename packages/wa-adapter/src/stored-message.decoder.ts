import type { proto } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };

import { decodeWebMessage, pollCreationOf, pollOptionTexts } from './baileys-message.mapper';
import { loadBaileys } from './baileys.loader';
import type { WaMessageType } from './wa-engine.port';

export interface WaStoredPoll {
  name: string;
  options: string[];
  /** 0 = any number of options. */
  selectableCount: number;
}

export interface WaStoredContent {
  type: WaMessageType;
  /** Plain JSON describing what the user sees; media bytes are never included. */
  content: Record<string, unknown>;
  poll?: WaStoredPoll;
}

function num(value: number | { toNumber(): number } | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'number' ? value : value.toNumber();
}

/** Drops undefined/null/empty fields so the JSON stays small and stable. */
function compact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

function contextOf(inner: { contextInfo?: proto.IContextInfo | null } | null | undefined): Record<string, unknown> {
  const ctx = inner?.contextInfo;
  if (!ctx) return {};
  return compact({
    mentions: ctx.mentionedJid?.length ? ctx.mentionedJid : undefined,
    quotedMessageId: ctx.stanzaId,
  });
}

function media(m: proto.Message.IImageMessage & proto.Message.IAudioMessage & proto.Message.IDocumentMessage): Record<string, unknown> {
  return compact({
    mimetype: m.mimetype,
    caption: m.caption,
    fileName: m.fileName,
    fileLength: num(m.fileLength as number | { toNumber(): number } | null | undefined),
    seconds: m.seconds,
    voiceNote: m.ptt === true ? true : undefined,
    ...contextOf(m),
  });
}

/**
 * What a stored message (the raw `WebMessageInfo` bytes the message store keeps) contains, in
 * API terms: the runner answers reads and validates votes from this without a connection.
 */
export async function decodeStoredMessage(raw: Uint8Array): Promise<WaStoredContent> {
  const b = await loadBaileys();
  const message = decodeWebMessage(b, raw);
  const c = b.normalizeMessageContent(message.message) ?? undefined;
  if (!c) return { type: 'unknown', content: {} };
  const poll = pollCreationOf(c);
  if (poll) {
    const described = { name: poll.name ?? '', options: pollOptionTexts(poll), selectableCount: poll.selectableOptionsCount ?? 0 };
    return { type: 'poll', content: { ...described }, poll: described };
  }
  if (c.conversation !== undefined && c.conversation !== null) return { type: 'text', content: { text: c.conversation } };
  if (c.extendedTextMessage) return { type: 'text', content: compact({ text: c.extendedTextMessage.text, ...contextOf(c.extendedTextMessage) }) };
  if (c.imageMessage) return { type: 'image', content: media(c.imageMessage) };
  if (c.videoMessage) return { type: 'video', content: media(c.videoMessage) };
  if (c.ptvMessage) return { type: 'video', content: media(c.ptvMessage) };
  if (c.audioMessage) return { type: 'audio', content: media(c.audioMessage) };
  if (c.documentMessage) return { type: 'document', content: media(c.documentMessage) };
  if (c.stickerMessage) return { type: 'sticker', content: compact({ mimetype: c.stickerMessage.mimetype, ...contextOf(c.stickerMessage) }) };
  const location = c.locationMessage ?? c.liveLocationMessage;
  if (location) {
    const named = location as proto.Message.ILocationMessage;
    return {
      type: 'location',
      content: compact({ latitude: location.degreesLatitude, longitude: location.degreesLongitude, name: named.name, address: named.address }),
    };
  }
  if (c.contactMessage) {
    return { type: 'contact', content: { contacts: [{ displayName: c.contactMessage.displayName ?? '', vcard: c.contactMessage.vcard ?? '' }] } };
  }
  if (c.contactsArrayMessage) {
    return {
      type: 'contact',
      content: {
        contacts: (c.contactsArrayMessage.contacts ?? []).map((x) => ({ displayName: x.displayName ?? '', vcard: x.vcard ?? '' })),
      },
    };
  }
  if (c.reactionMessage) return { type: 'unknown', content: compact({ reaction: c.reactionMessage.text, targetId: c.reactionMessage.key?.id }) };
  return { type: 'unknown', content: {} };
}
