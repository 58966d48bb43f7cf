import type { proto } from '@whiskeysockets/baileys' with { 'resolution-mode': 'import' };

import { decodeWebMessage, pollCreationOf, pollOptionTexts, toWaKey } from './baileys-message.mapper';
import { loadBaileys, type BaileysModule } from './baileys.loader';
import type { WaMessageKey, WaMessageType } from './wa-engine.port';

export interface WaStoredPoll {
  name: string;
  options: string[];
  /** 0 = any number of options. */
  selectableCount: number;
}

/**
 * What a stored message is: a user-visible kind, or one that changes another message (a
 * reaction, an edit, a revoke or a poll vote: the ones this session sent are stored too).
 */
export type WaStoredType = WaMessageType | 'reaction' | 'edit' | 'revoke' | 'vote';

export interface WaStoredContent {
  type: WaStoredType;
  /**
   * Plain JSON describing what the user sees, one shape per type; media bytes, media keys and
   * CDN addresses (`mediaKey`, `directPath`, `url`) are never included.
   */
  content: Record<string, unknown>;
  poll?: WaStoredPoll;
}

type Long = number | { toNumber(): number } | null | undefined;

function num(value: Long): number | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'number' ? value : value.toNumber();
}

function base64(bytes: Uint8Array | null | undefined): string | undefined {
  return bytes && bytes.length ? Buffer.from(bytes).toString('base64') : undefined;
}

/** Drops undefined/null/empty fields so the JSON stays small and stable. */
function compact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

/** What the context of any message may add: reply, mentions, forwarding, disappearing timer. */
function contextOf(inner: { contextInfo?: proto.IContextInfo | null } | null | undefined): Record<string, unknown> {
  const ctx = inner?.contextInfo;
  if (!ctx) return {};
  return compact({
    quotedMessageId: ctx.stanzaId,
    mentions: ctx.mentionedJid?.length ? ctx.mentionedJid : undefined,
    isForwarded: ctx.isForwarded === true ? true : undefined,
    forwardingScore: ctx.forwardingScore || undefined,
    /** Seconds after which a disappearing message vanishes. */
    expiration: ctx.expiration || undefined,
  });
}

type AnyMedia = proto.Message.IImageMessage &
  proto.Message.IVideoMessage &
  proto.Message.IAudioMessage &
  proto.Message.IDocumentMessage &
  proto.Message.IStickerMessage;

function media(m: AnyMedia, viewOnce: boolean): Record<string, unknown> {
  return compact({
    mimetype: m.mimetype,
    fileLength: num(m.fileLength as Long),
    fileSha256: base64(m.fileSha256),
    caption: m.caption,
    fileName: m.fileName,
    width: m.width || undefined,
    height: m.height || undefined,
    seconds: m.seconds || undefined,
    pageCount: m.pageCount || undefined,
    voiceNote: m.ptt === true ? true : undefined,
    gifPlayback: m.gifPlayback === true ? true : undefined,
    isAnimated: m.isAnimated === true ? true : undefined,
    viewOnce: viewOnce || m.viewOnce === true ? true : undefined,
    ...contextOf(m),
  });
}

/** True when the message came wrapped as view-once (the wrapper is gone after normalising). */
function isViewOnce(message: proto.IMessage | null | undefined): boolean {
  return Boolean(message?.viewOnceMessage || message?.viewOnceMessageV2 || message?.viewOnceMessageV2Extension || message?.ephemeralMessage?.message?.viewOnceMessage);
}

function contactsOf(c: proto.IMessage): WaStoredContent | undefined {
  if (c.contactMessage) {
    const card = { displayName: c.contactMessage.displayName ?? '', vcard: c.contactMessage.vcard ?? '' };
    return { type: 'contacts', content: { ...compact({ displayName: card.displayName }), contacts: [card], ...contextOf(c.contactMessage) } };
  }
  if (c.contactsArrayMessage) {
    const cards = (c.contactsArrayMessage.contacts ?? []).map((x) => ({ displayName: x.displayName ?? '', vcard: x.vcard ?? '' }));
    return {
      type: 'contacts',
      content: { ...compact({ displayName: c.contactsArrayMessage.displayName }), contacts: cards, ...contextOf(c.contactsArrayMessage) },
    };
  }
  return undefined;
}

function locationOf(c: proto.IMessage): WaStoredContent | undefined {
  if (c.liveLocationMessage) {
    const l = c.liveLocationMessage;
    return {
      type: 'location',
      content: compact({
        latitude: l.degreesLatitude,
        longitude: l.degreesLongitude,
        live: true,
        accuracy: l.accuracyInMeters || undefined,
        speed: l.speedInMps || undefined,
        heading: l.degreesClockwiseFromMagneticNorth || undefined,
        caption: l.caption,
        sequence: num(l.sequenceNumber as Long),
        ...contextOf(l),
      }),
    };
  }
  if (c.locationMessage) {
    const l = c.locationMessage;
    return {
      type: 'location',
      content: compact({
        latitude: l.degreesLatitude,
        longitude: l.degreesLongitude,
        name: l.name,
        address: l.address,
        url: l.url,
        comment: l.comment,
        live: l.isLive === true ? true : undefined,
        accuracy: l.accuracyInMeters || undefined,
        speed: l.speedInMps || undefined,
        ...contextOf(l),
      }),
    };
  }
  return undefined;
}

/** Reactions, edits, revokes and votes: what they change, never the encrypted vote itself. */
function changeOf(b: BaileysModule, c: proto.IMessage): WaStoredContent | undefined {
  if (c.reactionMessage) {
    return { type: 'reaction', content: compact({ emoji: c.reactionMessage.text ?? '', targetMessageId: c.reactionMessage.key?.id }) };
  }
  if (c.pollUpdateMessage) return { type: 'vote', content: compact({ pollMessageId: c.pollUpdateMessage.pollCreationMessageKey?.id }) };
  const protocol = c.protocolMessage;
  if (!protocol) return undefined;
  const targetMessageId = protocol.key?.id ?? undefined;
  if (protocol.type === b.proto.Message.ProtocolMessage.Type.REVOKE) return { type: 'revoke', content: compact({ targetMessageId }) };
  if (protocol.type === b.proto.Message.ProtocolMessage.Type.MESSAGE_EDIT) {
    const edited = b.normalizeMessageContent(protocol.editedMessage);
    const text = edited?.conversation ?? edited?.extendedTextMessage?.text ?? edited?.imageMessage?.caption ?? edited?.videoMessage?.caption ?? undefined;
    return { type: 'edit', content: compact({ targetMessageId, text }) };
  }
  return undefined;
}

/** Decodes `proto.Message` content (already normalised) into the API's shape for its type. */
export function describeContent(b: BaileysModule, c: proto.IMessage, viewOnce = false): WaStoredContent {
  const poll = pollCreationOf(c);
  if (poll) {
    const described = { name: poll.name ?? '', options: pollOptionTexts(poll), selectableCount: poll.selectableOptionsCount ?? 0 };
    return { type: 'poll', content: { ...described, ...contextOf(poll) }, poll: described };
  }
  if (c.conversation !== undefined && c.conversation !== null) return { type: 'text', content: { text: c.conversation } };
  if (c.extendedTextMessage) {
    const t = c.extendedTextMessage;
    const preview = compact({ matchedText: t.matchedText, title: t.title, description: t.description });
    return { type: 'text', content: compact({ text: t.text ?? '', ...contextOf(t), linkPreview: Object.keys(preview).length ? preview : undefined }) };
  }
  if (c.imageMessage) return { type: 'image', content: media(c.imageMessage, viewOnce) };
  if (c.videoMessage) return { type: 'video', content: media(c.videoMessage, viewOnce) };
  if (c.ptvMessage) return { type: 'video', content: { ...media(c.ptvMessage, viewOnce), videoNote: true } };
  if (c.audioMessage) return { type: 'audio', content: media(c.audioMessage, viewOnce) };
  if (c.documentMessage) return { type: 'document', content: media(c.documentMessage, viewOnce) };
  if (c.stickerMessage) return { type: 'sticker', content: media(c.stickerMessage, viewOnce) };
  return locationOf(c) ?? contactsOf(c) ?? changeOf(b, c) ?? { type: 'unknown', content: {} };
}

/**
 * What a stored message (the raw `WebMessageInfo` bytes the message store keeps, and the
 * connection hands over with each incoming message) contains, in API terms: the runner answers
 * reads, validates votes and describes `message.received` from this, so all three agree.
 */
export async function decodeStoredMessage(raw: Uint8Array): Promise<WaStoredContent> {
  const b = await loadBaileys();
  const message = decodeWebMessage(b, raw);
  const c = b.normalizeMessageContent(message.message) ?? undefined;
  if (!c) return { type: 'unknown', content: {} };
  return describeContent(b, c, isViewOnce(message.message));
}

/**
 * The key a stored message had on the wire (chat and author in the form the contact used), which
 * the store's own row may no longer show: it keeps one chat id per contact.
 */
export async function storedMessageKey(raw: Uint8Array): Promise<WaMessageKey | undefined> {
  const message = decodeWebMessage(await loadBaileys(), raw);
  return message.key?.remoteJid && message.key.id ? toWaKey(message.key) : undefined;
}
